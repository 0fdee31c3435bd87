"""Outbox relay: publishes committed outbox rows to the bus in id order, exactly one leader at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.service_layer.messaging import rows_to_messages
from deliveryhub.service_layer.ports import Bus

log = structlog.get_logger(__name__)
RELAY_LOCK_KEY = 782312


_UNPUBLISHED_ROWS = t.outbox.c.published_at.is_(None)
_ANY_UNPUBLISHED = sa.select(t.outbox.c.id).where(_UNPUBLISHED_ROWS).limit(1)
_UNPUBLISHED = (
    sa.select(t.outbox.c.id, t.outbox.c.topic, t.outbox.c.order_id, t.outbox.c.partition, t.outbox.c.payload)
    .where(_UNPUBLISHED_ROWS)
    .order_by(t.outbox.c.id)
    .limit(sa.bindparam("batch"))
)


class OutboxRelay:
    """Moves outbox rows onto the bus and stamps them with a gap-free publication sequence."""

    def __init__(self, db: Database, bus: Bus, *, batch: int = 500) -> None:
        self.db = db
        self.bus = bus
        self.batch = batch
        self._leader_conn: Any = None
        self.published = 0

    def _try_lead(self) -> bool:
        # PostgreSQL: a session advisory lock makes one relay the leader; it frees itself if the
        # leader dies. SQLite: BEGIN IMMEDIATE in run_once already serialises relays.
        if self.db.dialect != "postgresql":
            return True
        if self._leader_conn is not None:
            return True
        conn = self.db.engine.connect()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY}).scalar()
        conn.commit()
        if got:
            self._leader_conn = conn
            log.info("relay_leader_acquired")
            return True
        conn.close()
        return False

    async def run_once(self) -> int:
        """Publish one batch; returns the number of rows published."""
        if not self._try_lead():
            return 0
        if self.db.dialect == "sqlite":
            # Idle polls look first without the write lock (20 a second would otherwise queue behind and
            # delay ingest and chat writes).
            with self.db.read() as conn:
                if conn.execute(_ANY_UNPUBLISHED).first() is None:
                    return 0
        with self.db.write() as conn:
            rows = conn.execute(_UNPUBLISHED, {"batch": self.batch}).all()
            if not rows:
                return 0
            messages = rows_to_messages(rows)
            await self.bus.publish(messages)
            base = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(t.outbox.c.publish_seq), 0))
            ).scalar_one()
            now = datetime.now(UTC)
            conn.execute(
                t.outbox.update()
                .where(t.outbox.c.id == sa.bindparam("b_id"))
                .values(published_at=now, publish_seq=sa.bindparam("b_seq")),
                [{"b_id": m.id, "b_seq": base + i + 1} for i, m in enumerate(messages)],
            )
        self.published += len(messages)
        return len(messages)

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.05) -> None:
        """Relay until `stop` is set."""
        while not stop.is_set():
            try:
                n = await self.run_once()
            except Exception as exc:  # the relay must outlive a broker or database hiccup
                log.warning("relay_error", error=str(exc)[:300])
                n = 0
                await asyncio.sleep(1.0)
            if n == 0:
                await asyncio.sleep(idle_sleep)
        self.release()

    def release(self) -> None:
        """Give up leadership."""
        if self._leader_conn is not None:
            try:
                # close() alone would return the connection to the pool still holding the session
                # advisory lock, so no other relay could lead; invalidate() ends the session (lock freed).
                self._leader_conn.invalidate()
                self._leader_conn.close()
            finally:
                self._leader_conn = None


def outbox_lag(db: Database) -> int:
    """Rows committed to the outbox and not yet published."""
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
            ).scalar_one()
        )
