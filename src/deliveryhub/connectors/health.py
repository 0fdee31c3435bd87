"""What the connectors know about their sources: raw statuses no table could map (counted by a handler
that rides the backbone's ``integration_health`` consumer) and when each source last sent something.

Per-source traffic is counted once, by the backbone's ``integration_health`` consumer (hub clock) into
``source_stats``; this module only reads it, for the silence watch and ``GET /v1/integrations``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import excluded, upsert
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.messaging import Message


def is_unknown(payload: dict[str, Any]) -> bool:
    """A tracking event whose raw status no table could map (kept with status None)."""
    data = payload.get("data") or {}
    return bool(data.get("status_unknown")) or (not data.get("status") and data.get("status_known") is False)


def _unknown_row(m: Message, at: datetime) -> dict[str, Any]:
    source = str(m.payload.get("source") or "unknown")
    data = m.payload.get("data") or {}
    carrier = source.split(":", 1)[1] if source.startswith("carrier:") else source
    code = str(data.get("raw_code") or "")[:64] or None
    text = str(data.get("raw_status") or "")[:500] or None
    return {
        "carrier": carrier[:64],
        "raw": f"{code or ''}|{text or ''}"[:200],
        "raw_code": code,
        "raw_status": text,
        "count": 0,
        "first_seen_at": at,
        "last_seen_at": at,
        "example_order_id": m.order_id,
    }


def make_handler(now: Callable[[], datetime]) -> Callable[[Connection, Sequence[Message]], None]:
    """Batch handler counting unknown raw statuses; ``now`` is the hub clock."""

    def handle(conn: Connection, messages: Sequence[Message]) -> None:
        at = now()
        unknown: dict[tuple[str, str], dict[str, Any]] = {}
        for m in messages:
            if m.topic == "shipment.tracking" and is_unknown(m.payload):
                row = _unknown_row(m, at)
                unknown.setdefault((row["carrier"], row["raw"]), row)["count"] += 1
        us = ct.connector_unknown_statuses
        update = {
            "count": us.c.count + excluded(us, "count"),
            "last_seen_at": excluded(us, "last_seen_at"),
            "example_order_id": excluded(us, "example_order_id"),
        }
        upsert(conn, us, list(unknown.values()), ["carrier", "raw"], update)

    return handle


def unknown_statuses(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Recent unknown raw statuses by carrier with counts, newest first."""
    us = ct.connector_unknown_statuses
    rows = conn.execute(sa.select(us).order_by(us.c.last_seen_at.desc(), us.c.carrier).limit(limit)).all()
    return [
        {
            "carrier": r.carrier,
            "raw_code": r.raw_code,
            "raw_status": r.raw_status,
            "count": int(r._mapping["count"]),
            "first_seen_at": iso(r.first_seen_at),
            "last_seen_at": iso(r.last_seen_at),
            "example_order_id": r.example_order_id,
        }
        for r in rows
    ]


def _per_source() -> sa.Select[Any]:
    ss = t.source_stats
    return sa.select(
        ss.c.source,
        sa.func.sum(ss.c.events).label("events"),
        sa.func.max(ss.c.last_received_at).label("last_received_at"),
        sa.func.max(ss.c.last_event_at).label("last_event_at"),
    ).group_by(ss.c.source)


def last_seen(conn: Connection) -> dict[str, datetime]:
    """When each source last sent something (hub clock)."""
    return {r.source: r.last_received_at for r in conn.execute(_per_source())}


def sources_seen(conn: Connection) -> list[dict[str, Any]]:
    """Per source: events received and when the last one arrived (hub clock)."""
    return [
        {
            "source": r.source,
            "events": int(r.events or 0),
            "last_received_at": iso(r.last_received_at),
            "last_event_at": iso(r.last_event_at),
        }
        for r in conn.execute(_per_source().order_by(t.source_stats.c.source))
    ]
