"""The outbox: every message the hub emits is a row written in the transaction of the change it reports
(`write_outbox`, the one writer); the relay publishes committed rows in id order and stamps each with a
gap-free publication sequence, which the in-process bus follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.adapters.persistence.database import bulk_insert
from deliveryhub.adapters.persistence.types import utcnow
from deliveryhub.domain.messages import Message

_COLUMNS = ("topic", "order_id", "partition", "payload", "created_at")
# The columns `rows_to_messages` reads (readers select these, plus what they order by).
MESSAGE_COLUMNS = tuple(columns(t.outbox, "id", "topic", "order_id", "partition", "payload"))
# Built once: the relay polls these many times a second.
_UNPUBLISHED_ROWS = t.outbox.c.published_at.is_(None)
_ANY_UNPUBLISHED = sa.select(t.outbox.c.id).where(_UNPUBLISHED_ROWS).limit(1)
_UNPUBLISHED = (
    sa.select(*MESSAGE_COLUMNS).where(_UNPUBLISHED_ROWS).order_by(t.outbox.c.id).limit(sa.bindparam("batch"))
)
_LAST_SEQ = sa.select(sa.func.coalesce(sa.func.max(t.outbox.c.publish_seq), 0))
_MARK = (
    t.outbox.update()
    .where(t.outbox.c.id == sa.bindparam("b_id"))
    .values(published_at=sa.bindparam("b_at"), publish_seq=sa.bindparam("b_seq"))
)
_LAG = sa.select(sa.func.count()).select_from(t.outbox).where(_UNPUBLISHED_ROWS)


def write_outbox(conn: Connection, messages: Sequence[Message], *, now: datetime | None = None) -> None:
    """Append messages (built with `Message.new`) to the outbox, in the given order."""
    if not messages:
        return
    created = now or utcnow()
    rows = [(m.topic, m.order_id, m.partition, m.payload, created) for m in messages]
    bulk_insert(conn, t.outbox, _COLUMNS, rows)


def rows_to_messages(rows: Sequence[Any]) -> list[Message]:
    """Outbox rows → messages."""
    return [Message(r.id, r.topic, r.order_id, r.partition, r.payload) for r in rows]


def has_unpublished(conn: Connection) -> bool:
    """Whether any committed row waits for the relay."""
    return conn.execute(_ANY_UNPUBLISHED).first() is not None


def unpublished(conn: Connection, limit: int) -> list[Message]:
    """The oldest rows not published yet, in id order."""
    return rows_to_messages(conn.execute(_UNPUBLISHED, {"batch": limit}).all())


def mark_published(conn: Connection, messages: Sequence[Message], now: datetime) -> None:
    """Stamp published rows with the next publication sequence numbers, in the given order."""
    if not messages:
        return
    base = conn.execute(_LAST_SEQ).scalar_one()
    conn.execute(_MARK, [{"b_id": m.id, "b_at": now, "b_seq": base + i + 1} for i, m in enumerate(messages)])


def unpublished_count(conn: Connection) -> int:
    """Rows committed to the outbox and not yet published (the relay's lag)."""
    return int(conn.execute(_LAG).scalar_one())
