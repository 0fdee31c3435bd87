"""The one outbox writer: every message the hub emits is an outbox row written in the transaction of
the change it reports; the relay (service_layer/relay.py) publishes committed rows in id order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import bulk_insert
from deliveryhub.adapters.persistence.types import utcnow
from deliveryhub.domain.messages import Message

_COLUMNS = ("topic", "order_id", "partition", "payload", "created_at")


def write_outbox(conn: Connection, messages: Sequence[Message], *, now: datetime | None = None) -> None:
    """Append messages (built with `Message.new`) to the outbox, in the given order."""
    if not messages:
        return
    created = now or utcnow()
    rows = [(m.topic, m.order_id, m.partition, m.payload, created) for m in messages]
    bulk_insert(conn, t.outbox, _COLUMNS, rows)
