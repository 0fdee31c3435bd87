"""Integration health: per source system, what arrived and when (the `integration_health` consumer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import excluded, greatest, upsert
from deliveryhub.contracts.events import EVENT_TYPES
from deliveryhub.kernel.timefmt import iso, parse_datetime, utc
from deliveryhub.service_layer.messaging import BatchHandler, Consumer, Message


def _upsert_stats(conn: Connection, rows: list[dict[str, Any]]) -> None:
    st = t.source_stats
    upsert(
        conn,
        st,
        rows,
        ["source", "hour"],
        {
            "events": st.c.events + excluded(st, "events"),
            "last_event_at": greatest(conn, st.c.last_event_at, excluded(st, "last_event_at")),
            "last_received_at": excluded(st, "last_received_at"),
        },
    )


def handle_health(conn: Connection, messages: Sequence[Message], now: datetime | None = None) -> None:
    """Count events per source and hour; exactly once thanks to the consumer's tracking rows."""
    # The hour comes from the hub's clock (as the quarantine's receipt time does), not the wall clock.
    now = (now or datetime.now(UTC)).astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    agg: dict[str, dict[str, Any]] = {}
    for m in messages:
        # Only canonical events count as traffic from a source (not derived topics such as
        # order.stage_changed or exception.opened).
        if m.topic not in EVENT_TYPES and not m.topic.startswith("x-"):
            continue
        source = str(m.payload.get("source") or "unknown")
        occurred = utc(parse_datetime(m.payload.get("occurred_at")) or now)
        row = agg.setdefault(
            source,
            {"source": source, "hour": hour, "events": 0, "last_event_at": occurred, "last_received_at": now},
        )
        row["events"] += 1
        row["last_event_at"] = max(row["last_event_at"], occurred)
    if agg:
        # Fixed key order: concurrent workers upserting the same sources must not deadlock.
        _upsert_stats(conn, [agg[k] for k in sorted(agg)])


def health_consumer(
    clock: Callable[[], datetime] | None = None, also: Sequence[BatchHandler] = ()
) -> Consumer:
    """The backbone's own consumer (receipt hours by `clock`, the hub's clock).

    `also`: features' facts about their sources (e.g. the connectors' unmapped raw statuses) applied in
    the same batch and transaction — one health consumer, one tracking row per message, not one consumer
    per feature. It is read at each batch, so features may add to the list after this consumer exists.
    """
    now = clock or (lambda: datetime.now(UTC))

    def handle(conn: Connection, messages: Sequence[Message]) -> None:
        handle_health(conn, messages, now())
        for extra in also:
            extra(conn, messages)

    return Consumer(name="integration_health", handle=handle)


def integration_health(conn: Connection, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per source: last event, events in the last hour and day, rejections, quarantine rate."""
    now = now or datetime.now(UTC)
    day_ago = now - timedelta(hours=24)
    hour_ago = now - timedelta(hours=1)
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(
        sa.select(
            t.source_stats.c.source,
            sa.func.sum(t.source_stats.c.events).label("total"),
            sa.func.max(t.source_stats.c.last_event_at).label("last_event_at"),
            sa.func.max(t.source_stats.c.last_received_at).label("last_received_at"),
        ).group_by(t.source_stats.c.source)
    ):
        out[r.source] = {
            "source": r.source,
            "events_total": int(r.total or 0),
            "last_event_at": iso(r.last_event_at),
            "last_received_at": iso(r.last_received_at),
            "events_last_hour": 0,
            "events_last_24h": 0,
            "rejected_last_24h": 0,
        }
    for h in conn.execute(
        sa.select(t.source_stats.c.source, t.source_stats.c.hour, t.source_stats.c.events).where(
            t.source_stats.c.hour >= day_ago.replace(minute=0, second=0, microsecond=0)
        )
    ):
        entry = out[h.source]
        entry["events_last_24h"] += h.events
        if h.hour >= hour_ago.replace(minute=0, second=0, microsecond=0):
            entry["events_last_hour"] += h.events
    for j in conn.execute(
        sa.select(t.ingest_rejections.c.source, sa.func.sum(t.ingest_rejections.c.rejected).label("rej"))
        .where(t.ingest_rejections.c.hour >= day_ago.replace(minute=0, second=0, microsecond=0))
        .group_by(t.ingest_rejections.c.source)
    ):
        entry = out.setdefault(
            j.source,
            {
                "source": j.source,
                "events_total": 0,
                "last_event_at": None,
                "last_received_at": None,
                "events_last_hour": 0,
                "events_last_24h": 0,
                "rejected_last_24h": 0,
            },
        )
        entry["rejected_last_24h"] = int(j.rej or 0)
    for entry in out.values():
        seen = entry["events_last_24h"] + entry["rejected_last_24h"]
        entry["rejection_rate_24h"] = (entry["rejected_last_24h"] / seen) if seen else None
    return sorted(out.values(), key=lambda e: e["source"])
