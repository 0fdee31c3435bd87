"""The ``connectors.health`` consumer (who sent what, unknown carrier statuses) and its read side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.service_layer.messaging import Consumer, Message

CONSUMER_NAME = "connectors.health"


def _insert(conn: Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    return sa.func.max(a, b) if conn.dialect.name == "sqlite" else sa.func.greatest(a, b)


def is_unknown(payload: dict[str, Any]) -> bool:
    """A tracking event whose raw status no table could map (kept with status None)."""
    data = payload.get("data") or {}
    return bool(data.get("status_unknown")) or (not data.get("status") and data.get("status_known") is False)


def make_handler(now: Callable[[], datetime]) -> Callable[[Connection, Sequence[Message]], None]:
    """Batch handler; ``now`` is the hub clock (received time as the hub sees it)."""

    def handle(conn: Connection, messages: Sequence[Message]) -> None:
        at = now()
        seen: dict[str, dict[str, Any]] = {}
        unknown: dict[tuple[str, str], dict[str, Any]] = {}
        for m in messages:
            if m.topic == "order.stage_changed":
                continue
            source = str(m.payload.get("source") or "unknown")[:72]
            occurred = datetime.fromisoformat(str(m.payload["occurred_at"]))
            row = seen.setdefault(
                source, {"source": source, "last_received_at": at, "last_event_at": occurred, "events": 0}
            )
            row["events"] += 1
            row["last_event_at"] = max(row["last_event_at"], occurred)
            if m.topic == "shipment.tracking" and is_unknown(m.payload):
                data = m.payload.get("data") or {}
                carrier = source.split(":", 1)[1] if source.startswith("carrier:") else source
                code = str(data.get("raw_code") or "")[:64] or None
                text = str(data.get("raw_status") or "")[:500] or None
                raw = f"{code or ''}|{text or ''}"[:200]
                entry = unknown.setdefault(
                    (carrier[:64], raw),
                    {
                        "carrier": carrier[:64],
                        "raw": raw,
                        "raw_code": code,
                        "raw_status": text,
                        "count": 0,
                        "first_seen_at": at,
                        "last_seen_at": at,
                        "example_order_id": m.order_id,
                    },
                )
                entry["count"] += 1
        if seen:
            ss = ct.connector_source_seen
            stmt = _insert(conn, ss)
            stmt = stmt.on_conflict_do_update(
                index_elements=["source"],
                set_={
                    "events": ss.c.events + stmt.excluded.events,
                    "last_received_at": _greatest(
                        conn, ss.c.last_received_at, stmt.excluded.last_received_at
                    ),
                    "last_event_at": _greatest(conn, ss.c.last_event_at, stmt.excluded.last_event_at),
                },
            )
            # Fixed key order: concurrent workers upserting the same sources must not deadlock.
            conn.execute(stmt, [seen[k] for k in sorted(seen)])
        if unknown:
            us = ct.connector_unknown_statuses
            stmt = _insert(conn, us)
            stmt = stmt.on_conflict_do_update(
                index_elements=["carrier", "raw"],
                set_={
                    "count": us.c.count + stmt.excluded.count,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "example_order_id": stmt.excluded.example_order_id,
                },
            )
            conn.execute(stmt, [unknown[k] for k in sorted(unknown)])

    return handle


def health_consumer(now: Callable[[], datetime]) -> Consumer:
    """Consumer of every topic: per-source last-received times and unknown raw statuses."""
    return Consumer(name=CONSUMER_NAME, handle=make_handler(now))


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
            "first_seen_at": r.first_seen_at.isoformat(),
            "last_seen_at": r.last_seen_at.isoformat(),
            "example_order_id": r.example_order_id,
        }
        for r in rows
    ]


def sources_seen(conn: Connection) -> list[dict[str, Any]]:
    """Per source: events counted by this consumer and when the last one arrived (hub clock)."""
    ss = ct.connector_source_seen
    return [
        {
            "source": r.source,
            "events": int(r.events),
            "last_received_at": r.last_received_at.isoformat(),
            "last_event_at": r.last_event_at.isoformat() if r.last_event_at else None,
        }
        for r in conn.execute(sa.select(ss).order_by(ss.c.source))
    ]
