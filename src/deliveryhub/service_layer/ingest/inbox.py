"""The inbox: every accepted event stored once, its (source, event_id) the idempotency key."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.keyorder import insert_new
from deliveryhub.contracts.events import CanonicalEvent
from deliveryhub.service_layer.ingest.batch import automatic

# Built once: a small batch (one API event, a chat's three ticket events) otherwise spends more CPU
# building and cache-keying the statement than running it.
_KNOWN_EVENTS = sa.select(t.inbox.c.source, t.inbox.c.event_id).where(
    sa.tuple_(t.inbox.c.source, t.inbox.c.event_id).in_(sa.bindparam("keys", expanding=True))
)
_COLUMNS = (
    "source",
    "event_id",
    "type",
    "order_id",
    "shipment_id",
    "occurred_at",
    "received_at",
    "data",
    "manual",
    "schema_version",
)
_CHUNK = 500


def not_yet_stored(conn: Connection, events: list[CanonicalEvent]) -> list[CanonicalEvent]:
    """The events whose (source, event_id) the inbox does not hold yet."""
    existing: set[tuple[str, str]] = set()
    keys = [(ev.source, ev.event_id) for ev in events]
    for start in range(0, len(keys), _CHUNK):
        rows = conn.execute(_KNOWN_EVENTS, {"keys": keys[start : start + _CHUNK]})
        existing.update((r.source, r.event_id) for r in rows)
    return [ev for ev in events if (ev.source, ev.event_id) not in existing]


def store(conn: Connection, events: list[CanonicalEvent], now: datetime) -> int:
    """Insert the events in key order; returns how many went in (an id a concurrent batch is storing is
    waited for, then skipped)."""
    rows = [
        (
            ev.source,
            ev.event_id,
            ev.type,
            ev.order_id,
            ev.shipment_id,
            ev.occurred_at,
            now,
            ev.data,
            not automatic(ev),
            ev.schema_version,
        )
        for ev in events
    ]
    return insert_new(conn, t.inbox, _COLUMNS, rows, ("source", "event_id"))
