"""Order updates for the shop's OMS: each current stage change is recorded once (a replayed change finds
it recorded) with the body fixed at that moment, then sent by the `oms_update` timer with retries, one
order's updates strictly in the order they happened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore_returning
from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.calls import retry
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.firing import Outcome
from deliveryhub.monitors.tables import oms_updates, timers


def queue_oms_update(
    ctx: Context, conn: Connection, oid: str, stage: str, p: dict[str, Any], now: datetime
) -> None:
    """Record one push of this stage change for the shop's OMS and arm its timer. Late fill-ins of
    earlier stages (`current` false) are never passed here: they would move the shop's status back."""
    if not ctx.cfg.orchestration.has_oms():
        return
    shop = conn.execute(sa.select(t.orders.c.channel).where(t.orders.c.order_id == oid)).scalar()
    if not ctx.ports.has_oms(shop, stage):
        return
    order = load_order(conn, oid)
    # Tracking number as known at the change; the body is fixed here so every retry sends the same.
    parcel = next((x for x in (order.parcels if order else []) if x.tracking_no), None)
    update = {
        "stage": stage,
        "previous": p.get("previous"),
        "occurred_at": p.get("occurred_at"),
        "automatic": p.get("automatic"),
        "tracking_no": parcel.tracking_no if parcel else None,
        "carrier": parcel.carrier if parcel else None,
        "shipment_id": parcel.shipment_id if parcel else None,
        "cancelled": stage == "cancelled" or bool(order and order.cancelled_at is not None),
    }
    key = f"oms-update:{oid}:{stage}"
    if stage not in STAGE_RANK:
        # Side states (cancelled, delivery_failed, returned) can happen more than once per order.
        key += ":" + str(p.get("occurred_at") or "")
    push_id = insert_or_ignore_returning(
        conn,
        oms_updates,
        {
            "order_id": oid,
            "shop": shop,
            "stage": stage,
            "idempotency_key": key[:200],
            "change": dict(p),
            "update": update,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        },
        oms_updates.c.id,
    )
    if push_id is not None:
        tm.arm(conn, "oms_update", f"oms:{push_id}", now, now, order_id=oid, payload={"id": int(push_id)})


def _earlier_pending_due(conn: Connection, push: Row[Any]) -> datetime | None:
    """When the order's earliest still-pending earlier update is due (None when there is none)."""
    row = conn.execute(
        sa.select(timers.c.due_at)
        .select_from(
            oms_updates.join(
                timers, timers.c.subject == sa.literal("oms:") + sa.cast(oms_updates.c.id, sa.String)
            )
        )
        .where(
            oms_updates.c.order_id == push.order_id,
            oms_updates.c.id < push.id,
            oms_updates.c.status == "pending",
            timers.c.kind == "oms_update",
            timers.c.status == "pending",
        )
        .order_by(timers.c.due_at)
    ).first()
    return row.due_at if row is not None else None


def fire_oms(ctx: Context, timer: Row[Any], now: datetime) -> Outcome:
    """Send one recorded update (timer kind `oms_update`); ops hear about it when retries run out."""
    push_id = int((timer.payload or {})["id"])
    with ctx.core.db.read() as conn:
        push = conn.execute(sa.select(oms_updates).where(oms_updates.c.id == push_id)).first()
        if push is None or push.status != "pending":
            return Outcome("skipped")
        # A retried earlier stage must not land after (and so overwrite) a later one.
        earlier = _earlier_pending_due(conn, push)
    if earlier is not None:
        wait_until = max(now, earlier) + timedelta(seconds=1)
        return Outcome("waiting for an earlier update", retry_at=wait_until, counts_attempt=False)
    res = ctx.oms.update_order(push.shop, push.order_id, dict(push.update or {}), push.idempotency_key)
    attempts = timer.attempts + 1
    outcome: Outcome
    if res.ok:
        status, outcome = "sent", Outcome(f"done: HTTP {res.status}")
    else:
        # Not a delivery exception type: when retries are exhausted ops get an alert instead.
        outcome = retry(ctx, timer, now, res, "oms_update", None)
        status = "pending" if outcome.retry_at is not None else "failed"
        if status == "failed":
            ctx.alert(
                "oms_update_failed",
                f"oms_update:{push_id}",
                f"[OMS 연동 실패] 주문 {push.order_id} {push.stage} / [OMS update failed]",
                f"주문 {push.order_id} 상태({push.stage})를 쇼핑몰 OMS에 보내지 못했습니다: {res.error}\n"
                f"Could not update order {push.order_id} ({push.stage}) in the shop's OMS after "
                f"{attempts} attempts: {res.error}",
                {"order_id": push.order_id, "stage": push.stage, "push_id": push_id},
            )
    with ctx.core.db.write() as conn:
        conn.execute(
            oms_updates.update()
            .where(oms_updates.c.id == push_id, oms_updates.c.status == "pending")
            .values(
                status=status,
                attempts=attempts,
                http_status=res.status,
                last_error=(res.error or None) and str(res.error)[:300],
                sent_at=now if res.ok else None,
            )
        )
    return outcome
