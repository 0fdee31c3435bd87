"""In-process bus: consumers follow the outbox's publication sequence in the same database.

Durable by construction: a consumer's position commits with its effects, so a crash replays from the
last committed position and nothing is lost or applied twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.consumers import apply_batch
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.adapters.persistence.outbox import MESSAGE_COLUMNS, rows_to_messages
from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.kernel.threads import in_daemon_thread

log = structlog.get_logger(__name__)


_POSITION = sa.select(t.consumer_positions.c.position).where(
    t.consumer_positions.c.consumer == sa.bindparam("consumer")
)
_NEXT_BATCH = (
    sa.select(*MESSAGE_COLUMNS, t.outbox.c.publish_seq)
    .where(t.outbox.c.publish_seq > sa.bindparam("after"))
    .order_by(t.outbox.c.publish_seq)
    .limit(sa.bindparam("batch"))
)


class InProcessBus:
    """The embedded default bus."""

    name = "inprocess"

    def __init__(self, db: Database, *, batch: int = 200, linger: float = 0.02) -> None:
        self.db = db
        self.batch = batch
        self.linger = linger
        self._wake: list[asyncio.Event] = []
        self._lag: dict[str, int] = {}

    async def start(self) -> None:
        """Nothing to connect."""

    async def publish(self, messages: Sequence[Message]) -> None:
        """Wake the consumers; the messages themselves are read from the outbox."""
        for ev in self._wake:
            ev.set()

    def _position(self, name: str) -> int:
        with self.db.write() as conn:
            insert_or_ignore(
                conn,
                t.consumer_positions,
                [{"consumer": name, "position": 0, "updated_at": datetime.now(UTC)}],
                ["consumer"],
            )
            return int(
                conn.execute(
                    sa.select(t.consumer_positions.c.position).where(t.consumer_positions.c.consumer == name)
                ).scalar_one()
            )

    def poll_once(self, consumer: Consumer) -> int:
        """Apply the next batch for `consumer`; returns the number of messages read."""
        name = consumer.name
        with self.db.read() as conn:
            position = conn.execute(_POSITION, {"consumer": name}).scalar()
            rows = conn.execute(_NEXT_BATCH, {"after": position or 0, "batch": self.batch}).all()
        if position is None:
            self._position(name)
        if not rows:
            self._lag[name] = 0
            return 0
        apply_batch(self.db, consumer, rows_to_messages(rows), position=(name, int(rows[-1].publish_seq)))
        return len(rows)

    async def consume(self, consumer: Consumer, stop: asyncio.Event) -> None:
        """Follow the outbox until `stop` is set."""
        wake = asyncio.Event()
        self._wake.append(wake)
        self._position(consumer.name)

        async def wake_on_stop() -> None:  # a stopping worker's idle consumer ends at once
            await stop.wait()
            wake.set()

        watcher = asyncio.create_task(wake_on_stop())
        try:
            while not stop.is_set():
                try:
                    n = await in_daemon_thread(self.poll_once, consumer, name=f"dh-{consumer.name}")
                except Exception as exc:  # keep consuming after a handler bug; the batch is retried
                    log.exception("consumer_error", consumer=consumer.name, error=str(exc)[:300])
                    n = 0
                    await asyncio.sleep(1.0)
                if n < self.batch and not stop.is_set():
                    wake.clear()
                    try:
                        await asyncio.wait_for(wake.wait(), timeout=0.25)
                        # Linger a moment after a wake-up so a trickle of events is applied in one batch
                        # (one transaction per consumer) instead of one transaction per event.
                        if not stop.is_set():
                            await asyncio.sleep(self.linger)
                    except TimeoutError:
                        pass
        finally:
            watcher.cancel()
            self._wake.remove(wake)

    async def close(self) -> None:
        """Nothing to close."""

    def lag(self) -> dict[str, int]:
        """Messages published but not yet applied, per consumer."""
        out: dict[str, int] = {}
        with self.db.read() as conn:
            top = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(t.outbox.c.publish_seq), 0))
            ).scalar_one()
            for r in conn.execute(sa.select(t.consumer_positions)):
                out[r.consumer] = int(top) - int(r.position)
        return out
