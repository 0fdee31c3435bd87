"""The KPI drill-down's first answer: the orders someone can still act on for that KPI (not yet
delivered, cancelled or returned; past their promised date or with an open exception of the kinds that
move the number), each with its current stage, days late, carrier and open exception."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.labels import label
from deliveryhub.kernel.timefmt import iso

CLOSED_STAGES = ("delivered", "cancelled", "returned")
DELAY = ("delay_risk", "delivery_delay", "delivery_failed", "tracking_stale")
DISPATCH = ("stock_shortage", "dispatch_delay", "waybill_missing", "handover_missing", "pick_error")


@dataclass(frozen=True)
class Focus:
    """What makes an order actionable for a KPI: open exceptions of `types` (None: any type), and whether
    being past the promised date is enough."""

    types: tuple[str, ...] | None
    late: bool


# KPI key -> its focus; a KPI not listed takes DEFAULT (any open exception, or late).
FOCUS: dict[str, Focus] = {
    "on_time_delivery_rate": Focus(DELAY, True),
    "delivery_delay_rate": Focus(DELAY, True),
    "delay_unnotified_rate": Focus((*DELAY, "notice_missing"), True),
    "avg_delivery_days": Focus(DELAY, True),
    "avg_transit_days": Focus(DELAY, True),
    "eta_accuracy": Focus(DELAY, True),
    "tracking_stale_rate": Focus(("tracking_stale",), False),
    "order_processing_hours": Focus(DISPATCH, False),
    "order_processing_hours_p50": Focus(DISPATCH, False),
    "order_processing_hours_p95": Focus(DISPATCH, False),
    "stockout_rate": Focus(("stock_shortage", "inventory_mismatch"), False),
    "inventory_accuracy": Focus(("inventory_mismatch", "stock_shortage"), False),
    "misdelivery_rate": Focus(("pick_error", "delivery_failed"), False),
    "order_error_rate": Focus(("pick_error", "duplicate_order"), False),
    "notification_automation_rate": Focus(("notice_missing",), False),
    "notification_missing_rate": Focus(("notice_missing",), False),
}
DEFAULT = Focus(None, True)


def _exceptions_table() -> sa.Table | None:
    return t.metadata.tables.get("monitor_exceptions")


def actionable_orders(
    conn: Connection, kpi: str, today: date, lang: str = "ko", limit: int = 200
) -> dict[str, Any]:
    """Open orders to act on for `kpi`, most days late first; `total` counts them all."""
    focus = FOCUS.get(kpi, DEFAULT)
    o = t.orders.c
    open_order = sa.or_(o.stage.is_(None), o.stage.not_in(CLOSED_STAGES))
    reasons: list[sa.ColumnElement[bool]] = []
    if focus.late:
        reasons.append(o.promised_date < today)
    ex = _exceptions_table()
    if ex is not None:
        flagged = sa.select(ex.c.order_id).where(ex.c.status != "resolved", ex.c.order_id.is_not(None))
        if focus.types is not None:
            flagged = flagged.where(ex.c.type.in_(focus.types))
        reasons.append(o.order_id.in_(flagged))
    if not reasons:
        return {"kpi": kpi, "scope": "actionable", "orders": [], "total": 0}
    where = sa.and_(open_order, sa.or_(*reasons))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t.orders).where(where)).scalar_one())
    ids = list(
        conn.execute(
            sa.select(o.order_id)
            .where(where)
            .order_by(sa.func.coalesce(o.promised_date, today), o.created_at, o.order_id)
            .limit(limit)
        ).scalars()
    )
    rows = describe_orders(conn, ids, today, lang, focus.types)
    rows.sort(key=lambda r: (-r["days_late"], r["order_id"]))
    return {"kpi": kpi, "scope": "actionable", "orders": rows, "total": total}


def describe_orders(
    conn: Connection,
    order_ids: Sequence[str],
    today: date,
    lang: str = "ko",
    types: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Each order's current stage, days late (against its promised date), carrier and open exception
    (of `types` first when given), in `order_ids` order."""
    if not order_ids:
        return []
    ids = list(dict.fromkeys(order_ids))
    o = t.orders.c
    orders = {
        r.order_id: r
        for r in conn.execute(
            sa.select(o.order_id, o.stage, o.promised_date, o.delivered_at).where(o.order_id.in_(ids))
        )
    }
    carriers: dict[str, str] = {}
    for p in conn.execute(
        sa.select(t.parcels.c.order_id, t.parcels.c.carrier)
        .where(t.parcels.c.order_id.in_(ids), t.parcels.c.carrier.is_not(None))
        .order_by(t.parcels.c.order_id, t.parcels.c.shipment_id)
    ):
        carriers.setdefault(p.order_id, p.carrier)
    open_exc = _open_exceptions(conn, ids, tuple(types or ()))
    out = []
    for oid in ids:
        r = orders.get(oid)
        if r is None:
            continue
        days = _days_late(r.promised_date, r.delivered_at, today)
        carrier = carriers.get(oid)
        exc = open_exc.get(oid)
        out.append(
            {
                "order_id": oid,
                "stage": r.stage,
                "stage_label": label("stage", r.stage, lang) if r.stage else "—",
                "days_late": days,
                "promised_delivery_date": iso(r.promised_date),
                "carrier": carrier,
                "carrier_label": label("carrier", carrier, lang) if carrier else "—",
                "exception": exc,
                "exception_label": label("exception", exc, lang) if exc else "",
            }
        )
    return out


def _days_late(promised: date | None, delivered_at: Any, today: date) -> int:
    if promised is None:
        return 0
    end = delivered_at.date() if delivered_at is not None else today
    return max(0, (end - promised).days)


def _open_exceptions(conn: Connection, ids: list[str], types: tuple[str, ...]) -> dict[str, str]:
    """Order -> the type of its open exception (one of `types` when it has one, else the oldest)."""
    ex = _exceptions_table()
    if ex is None:
        return {}
    found: dict[str, str] = {}
    for r in conn.execute(
        sa.select(ex.c.order_id, ex.c.type)
        .where(ex.c.order_id.in_(ids), ex.c.status != "resolved")
        .order_by(ex.c.opened_at, ex.c.id)
    ):
        if r.order_id not in found or (r.type in types and found[r.order_id] not in types):
            found[r.order_id] = r.type
    return found
