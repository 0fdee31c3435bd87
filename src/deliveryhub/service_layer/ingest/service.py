"""`IngestService`: the one write path for canonical events (API, webhooks, importers, simulator,
chatbot actions). One call is one batch in one transaction; see the package docstring for the steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.orders import delete_placeholders, lock_or_create_orders
from deliveryhub.adapters.persistence.outbox import write_outbox
from deliveryhub.contracts.events import CanonicalEvent
from deliveryhub.kernel.clock import Clock, SystemClock
from deliveryhub.pii.cipher import KeyRing
from deliveryhub.service_layer.ingest import emit, inbox
from deliveryhub.service_layer.ingest.batch import (
    Batch,
    IngestStats,
    ItemResult,
    RaceLost,
    Rejected,
    StatusDeriver,
    in_fresh_transactions,
    projects,
    validate,
)
from deliveryhub.service_layer.ingest.customers import CustomerWriter
from deliveryhub.service_layer.ingest.projection import project
from deliveryhub.service_layer.ingest.quarantine import Quarantine


class IngestService:
    """Validates and stores batches of canonical events, exactly once each."""

    def __init__(
        self,
        db: Database,
        keyring: KeyRing,
        *,
        clock: Clock | None = None,
        partitions: int = 16,
        derive_status: StatusDeriver | None = None,
        on_result: Callable[[IngestStats, Sequence[CanonicalEvent]], None] | None = None,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock or SystemClock()
        self.partitions = partitions
        self.derive_status = derive_status
        self.on_result = on_result
        self.customers = CustomerWriter(keyring)
        self.rejects = Quarantine(keyring)
        self.last_stats = IngestStats()

    def ingest(self, raw_items: Sequence[Any], *, source_hint: str | None = None) -> list[ItemResult]:
        """Validate and store a batch; returns one result per item, in order."""
        batch = validate(raw_items, self.derive_status)
        new = in_fresh_transactions(
            self.db, lambda conn: self._store(conn, batch, source_hint), batch.restore
        )
        accepted = batch.finish(new)
        if self.on_result:
            self.on_result(batch.stats, accepted)
        self.last_stats = batch.stats
        return batch.item_results()

    def quarantine(
        self, conn: Connection, rejected: Sequence[Rejected], now: datetime, source_hint: str | None
    ) -> None:
        """Quarantine rejected items in the caller's transaction (the one quarantine writer)."""
        self.rejects.write(conn, rejected, now, source_hint)

    def _store(self, conn: Connection, batch: Batch, source_hint: str | None) -> list[CanonicalEvent]:
        now = self.clock.now()
        new = self._store_events(conn, batch.events, now) if batch.valid else []
        if batch.rejected:
            self.quarantine(conn, batch.rejected, now, source_hint)
        return new

    def _store_events(
        self, conn: Connection, events: list[CanonicalEvent], now: datetime
    ) -> list[CanonicalEvent]:
        """Store the new events once and advance their orders; returns the events that were new."""
        # Lock (or create) the row of every order the batch projects, in key order, before reading anything:
        # two batches carrying one new order then run one after the other (the second sees the first's
        # events and state) instead of both inserting it.
        placeholders = lock_or_create_orders(conn, {str(ev.order_id) for ev in events if projects(ev)}, now)
        new = inbox.not_yet_stored(conn, events)
        parts = self.customers.take(conn, new)
        # An event id may also race under another order (or none): the inbox key decides, once.
        if inbox.store(conn, new, now) != len(new):
            # Some event id was stored meanwhile by a batch holding other orders (the insert waited for it):
            # start again; the new transaction sees it as a duplicate.
            raise RaceLost
        self.customers.write(conn, parts, now)
        delete_placeholders(conn, placeholders - {str(ev.order_id) for ev in new if projects(ev)})
        if new:
            transitions = project(conn, new, now, placeholders)
            write_outbox(conn, emit.messages(new, transitions, self.partitions), now=now)
        return new
