"""Messages on the bus, consumers, and exactly-once application through tracking rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.messages import Message

log = structlog.get_logger(__name__)


BatchHandler = Callable[[Connection, Sequence[Message]], None]


@dataclass
class Consumer:
    """A named subscriber; `handle` runs inside the transaction that records the tracking rows."""

    name: str
    handle: BatchHandler
    topics: tuple[str, ...] = ()  # prefixes; empty = every topic
    after_commit: Callable[[Sequence[Message]], None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def wants(self, topic: str) -> bool:
        """Whether this consumer subscribes to `topic`."""
        return not self.topics or topic.startswith(self.topics)


# Built once: consumers apply small batches many times a second under a trickle of events.
_ALREADY_APPLIED = sa.select(t.processed_messages.c.message_id).where(
    t.processed_messages.c.consumer == sa.bindparam("consumer"),
    t.processed_messages.c.message_id.in_(sa.bindparam("ids", expanding=True)),
)
_INSERT_APPLIED = t.processed_messages.insert()
_MOVE_POSITION = t.consumer_positions.update().where(
    t.consumer_positions.c.consumer == sa.bindparam("b_consumer")
)


def apply_batch(
    db: Database, consumer: Consumer, messages: Sequence[Message], position: tuple[str, int] | None = None
) -> int:
    """Apply messages exactly once for `consumer`; returns how many were new. Optionally moves a position."""
    if not messages:
        return 0
    # A broker may hand over two copies of one message in a single batch (redelivery after ack_wait);
    # keep the first so the tracking-row insert cannot collide with itself.
    unique: dict[int, Message] = {}
    for m in messages:
        unique.setdefault(m.id, m)
    messages = list(unique.values())
    for attempt in range(6):
        try:
            with db.write() as conn:
                ids = [m.id for m in messages]
                done = set(conn.execute(_ALREADY_APPLIED, {"consumer": consumer.name, "ids": ids}).scalars())
                fresh = [m for m in messages if m.id not in done]
                wanted = [m for m in fresh if consumer.wants(m.topic)]
                now = datetime.now(UTC)
                if fresh:
                    # Tracking rows in id order: two workers handed overlapping redeliveries wait for each
                    # other on the first shared id instead of deadlocking.
                    conn.execute(
                        _INSERT_APPLIED,
                        [
                            {"consumer": consumer.name, "message_id": m.id, "processed_at": now}
                            for m in sorted(fresh, key=lambda x: x.id)
                        ],
                    )
                if wanted:
                    consumer.handle(conn, wanted)
                if position is not None:
                    conn.execute(
                        _MOVE_POSITION,
                        {"b_consumer": position[0], "position": position[1], "updated_at": now},
                    )
            if wanted and consumer.after_commit:
                consumer.after_commit(wanted)
            return len(fresh)
        except (IntegrityError, OperationalError) as exc:
            # Another worker applied some of these concurrently; the retry sees its tracking rows.
            log.warning("consumer_batch_retry", consumer=consumer.name, attempt=attempt, error=str(exc)[:200])
            if attempt == 5:
                raise
    return 0


def rows_to_messages(rows: Sequence[Any]) -> list[Message]:
    """Outbox rows → messages."""
    return [Message(r.id, r.topic, r.order_id, r.partition, r.payload) for r in rows]
