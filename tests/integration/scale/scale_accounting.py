"""The final accounting of a fault test, read from ONE database snapshot.

Under READ COMMITTED (PostgreSQL's default, and what `hub.db.read()` gives) every statement sees the
latest commit. The hub is never quiet: monitors timers keep ingesting derived events (an ETA update is
an ordinary `shipment.eta_updated` in the inbox). The fault test once counted `source_stats` in one
statement and the inbox in a later one; a derived event committed in between, so the inbox held one
event the health consumer had not applied yet: 4,822 counted for 4,823 stored, with nothing lost. Read
in one REPEATABLE READ snapshot, the counts agree, and whether every consumer has caught up is judged
in that same snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t


def accounting(hub: Any, between: Callable[[], None] | None = None) -> dict[str, Any]:
    """Outbox, publication, consumer and health counts and the stored event keys, all from one snapshot.

    `between` (tests only) runs after `source_stats` is read and before the inbox is."""
    engine = hub.db.engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        unpublished = conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
        ).scalar_one()
        processed = dict(
            conn.execute(
                sa.select(t.processed_messages.c.consumer, sa.func.count()).group_by(
                    t.processed_messages.c.consumer
                )
            ).all()
        )
        dupes = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM (SELECT consumer, message_id FROM processed_messages "
                "GROUP BY consumer, message_id HAVING COUNT(*) > 1) d"
            )
        ).scalar_one()
        seq = conn.execute(
            sa.text("SELECT COUNT(*), COUNT(DISTINCT publish_seq), MAX(publish_seq) FROM outbox")
        ).one()
        counted = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.source_stats.c.events), 0))
        ).scalar_one()
        if between is not None:
            between()
        stored = {
            (r.source, r.event_id) for r in conn.execute(sa.select(t.inbox.c.source, t.inbox.c.event_id))
        }
    return {
        "outbox": int(outbox),
        "unpublished": int(unpublished),
        "processed": {k: int(v) for k, v in processed.items()},
        "dupes": int(dupes),
        "seq": tuple(int(x or 0) for x in seq),
        "counted": int(counted),
        "stored": stored,
    }


def settled(acc: dict[str, Any], consumers: Sequence[str]) -> bool:
    """In that snapshot: everything published, and every consumer has applied every message."""
    return acc["unpublished"] == 0 and all(acc["processed"].get(c, 0) >= acc["outbox"] for c in consumers)


def wait_settled(hub: Any, consumers: Sequence[str], timeout: float) -> dict[str, Any]:
    """The first snapshot in which everything is settled (or the last one read, at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        acc = accounting(hub)
        if settled(acc, consumers) or time.monotonic() > deadline:
            return acc
        time.sleep(0.25)
