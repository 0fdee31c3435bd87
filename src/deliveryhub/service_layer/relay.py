"""Outbox relay: publishes committed outbox rows to the bus in id order, exactly one leader at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import outbox
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.service_layer.ports import Bus

log = structlog.get_logger(__name__)
RELAY_LOCK_KEY = 782312


class OutboxRelay:
    """Moves outbox rows onto the bus and stamps them with a gap-free publication sequence."""

    def __init__(
        self, db: Database, bus: Bus, *, batch: int = 500, on_published: Callable[[int], None] | None = None
    ) -> None:
        self.db = db
        self.bus = bus
        self.batch = batch
        self.on_published = on_published  # e.g. the relay_published counter of /metrics
        self._leader_conn: Connection | None = None
        self.published = 0

    def _try_lead(self) -> bool:
        # PostgreSQL: a session advisory lock makes one relay the leader; it frees itself if the
        # leader dies. SQLite: BEGIN IMMEDIATE in run_once already serialises relays.
        if self.db.dialect != "postgresql":
            return True
        if self._leader_conn is not None:
            return True
        conn = self.db.engine.connect()
        # One leader per outbox: shops other than `default` keep theirs in their own schema, so their lock
        # is keyed by the schema too (the two-key form never collides with the one-key form of `public`).
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
        if schema in (None, "public"):
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY}).scalar()
        else:
            lock = sa.text("SELECT pg_try_advisory_lock(:k, hashtext(:schema))")
            got = conn.execute(lock, {"k": RELAY_LOCK_KEY % 2**31, "schema": schema}).scalar()
        conn.commit()
        if got:
            self._leader_conn = conn
            log.info("relay_leader_acquired", schema=schema)
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
                if not outbox.has_unpublished(conn):
                    return 0
        with self.db.write() as conn:
            messages = outbox.unpublished(conn, self.batch)
            if not messages:
                return 0
            await self.bus.publish(messages)
            outbox.mark_published(conn, messages, datetime.now(UTC))
        self.published += len(messages)
        if self.on_published is not None:
            self.on_published(len(messages))
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
        return outbox.unpublished_count(conn)
