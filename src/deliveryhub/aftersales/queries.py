"""Read side of the returns workflow: one return with its steps, and the list the ops screen shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.aftersales import store, tables
from deliveryhub.aftersales.tables import STEP_COLUMNS
from deliveryhub.domain.returns import FINAL_STATUSES, STATUSES, next_step
from deliveryhub.kernel.timefmt import iso

KINDS = ("return", "exchange")
STATUS_FILTERS = ("open", *STATUSES)
_STEP_ORDER = (
    "requested",
    "pickup_booked",
    "picked_up",
    "received",
    "inspected",
    "reshipped",
    "refunded",
    "completed",
)


def steps(row: Any) -> list[dict[str, Any]]:
    """The steps reached in time order, [{step, at}]; a failed inspection reads `inspection_failed`."""
    out = []
    for step in _STEP_ORDER:
        at = getattr(row, STEP_COLUMNS[step])
        if at is None:
            continue
        if step == "inspected" and row.inspection_result == "fail":
            step = "inspection_failed"
        out.append({"step": step, "at": iso(at)})
    return sorted(
        out, key=lambda s: (s["at"], _STEP_ORDER.index(s["step"]) if s["step"] in _STEP_ORDER else 4)
    )


def summary(row: Any, now: datetime) -> dict[str, Any]:
    """The list entry of one return."""
    overdue = row.status not in FINAL_STATUSES and row.due_at is not None and row.due_at <= now
    return {
        "return_id": row.return_id,
        "order_id": row.order_id,
        "kind": row.kind,
        "status": row.status,
        "reason_code": row.reason_code,
        "fee": int(row.fee or 0),
        "fee_payer": row.fee_payer,
        "requested_at": iso(row.requested_at),
        "due_at": iso(row.due_at) if row.status not in FINAL_STATUSES else None,
        "overdue": overdue,
        "waiting_for": None if row.status in FINAL_STATUSES else next_step(row.kind, row.status),
        "via": row.via,
        "problem": row.problem,
        "steps": steps(row),
    }


def detail(row: Any, now: datetime) -> dict[str, Any]:
    """One return's workflow state, steps, inspection, refund and waybills."""
    return {
        **summary(row, now),
        "reason": row.reason,
        "items": list(row.items or []),
        "actor": row.actor,
        "source": row.source,
        "marketplace_ref": row.marketplace_ref,
        "pickup": {"carrier": row.carrier, "tracking_no": row.return_tracking_no, "ref": row.pickup_ref},
        "inspection": {
            "result": row.inspection_result,
            "note": row.inspection_note,
            "photo_id": row.inspection_photo_id,
            "by": row.inspected_by,
            "at": iso(row.inspected_at),
        },
        "refund": {"amount": row.refund_amount, "status": row.refund_status, "at": iso(row.refunded_at)},
        "reship": {"tracking_no": row.reship_tracking_no, "at": iso(row.reshipped_at)},
        "completed_at": iso(row.completed_at),
    }


def get_return(conn: Connection, return_id: str, now: datetime) -> dict[str, Any] | None:
    """One return (None when unknown)."""
    row = store.get(conn, return_id)
    return detail(row, now) if row is not None else None


def list_returns(
    conn: Connection,
    now: datetime,
    *,
    status: str | None = None,
    kind: str | None = None,
    order_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Returns, newest first; `status=open` = all in progress."""
    rows = store.list_rows(conn, status=status, kind=kind, order_id=order_id, limit=limit)
    return [summary(r, now) for r in rows]


def for_order(conn: Connection, order_id: str, now: datetime) -> list[dict[str, Any]]:
    """The order's returns (the `returns` section of GET /v1/orders/{id})."""
    return list_returns(conn, now, order_id=order_id, limit=50)


# Returns whose collection the carrier may still report: booked, not yet received at the warehouse.
AWAITING_PICKUP = ("pickup_booked", "picked_up")


def returns_by_waybill(conn: Connection, numbers: list[str], carrier: str | None = None) -> dict[str, Any]:
    """Open returns by their return waybill number (a carrier's scans of it are the pickup, not a parcel
    of the order); with `carrier`, only returns that carrier collects (or whose carrier is unknown)."""
    if not numbers:
        return {}
    r = tables.returns
    query = sa.select(r.c.return_id, r.c.order_id, r.c.return_tracking_no, r.c.status).where(
        r.c.return_tracking_no.in_(sorted(set(numbers))), r.c.status.in_(AWAITING_PICKUP)
    )
    if carrier is not None:
        query = query.where(sa.or_(r.c.carrier == carrier, r.c.carrier.is_(None)))
    return {row.return_tracking_no: row for row in conn.execute(query)}
