"""Exactly-once application of bus messages: a consumer's effect and its tracking rows
(`processed_messages`) commit in one transaction, so a redelivered message is a no-op."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import IntegrityError, OperationalError
from tenacity import RetryCallState

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.kernel.retry import retrying

log = structlog.get_logger(__name__)

# Built once: consumers apply small batches many times a second under a trickle of events.
_ALREADY_APPLIED = sa.select(t.processed_messages.c.message_id).where(
    t.processed_messages.c.consumer == sa.bindparam("consumer"),
    t.processed_messages.c.message_id.in_(sa.bindparam("ids", expanding=True)),
)
_INSERT_APPLIED = t.processed_messages.insert()
_ATTEMPTS = 6
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
    batch = list(unique.values())

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "consumer_batch_retry",
            consumer=consumer.name,
            attempt=state.attempt_number - 1,
            error=str(exc)[:200],
        )

    # Another worker applied some of these concurrently: the retry sees its tracking rows.
    retry = retrying(
        _ATTEMPTS, base_s=0.01, max_s=0.2, retry_on=(IntegrityError, OperationalError), before_sleep=log_retry
    )
    fresh, wanted = retry(_apply_once, db, consumer, batch, position)
    if wanted and consumer.after_commit:
        consumer.after_commit(wanted)
    return len(fresh)


def _apply_once(
    db: Database, consumer: Consumer, messages: list[Message], position: tuple[str, int] | None
) -> tuple[list[Message], list[Message]]:
    """One transaction: tracking rows for the messages not applied yet, the handler for the wanted ones."""
    with db.write() as conn:
        ids = [m.id for m in messages]
        done = set(conn.execute(_ALREADY_APPLIED, {"consumer": consumer.name, "ids": ids}).scalars())
        fresh = [m for m in messages if m.id not in done]
        wanted = [m for m in fresh if consumer.wants(m.topic)]
        now = datetime.now(UTC)
        if fresh:
            # Tracking rows in id order: two workers handed overlapping redeliveries wait for each other on
            # the first shared id instead of deadlocking.
            rows = [
                {"consumer": consumer.name, "message_id": m.id, "processed_at": now}
                for m in sorted(fresh, key=lambda x: x.id)
            ]
            conn.execute(_INSERT_APPLIED, rows)
        if wanted:
            consumer.handle(conn, wanted)
        if position is not None:
            conn.execute(
                _MOVE_POSITION, {"b_consumer": position[0], "position": position[1], "updated_at": now}
            )
    return fresh, wanted
