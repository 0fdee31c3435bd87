"""The `monitors` consumer: each canonical event, in the consumer's transaction, arms or cancels
durable timers and opens or resolves exceptions. One table maps each topic to its handler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.orders import load_orders
from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES
from deliveryhub.domain.order import Order
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors import rules
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.config import EXCEPTION_TYPES
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.exceptions import active_for, open_exception, resolve
from deliveryhub.monitors.ledger import lock_stock, reserve, stock_keys, take_count
from deliveryhub.monitors.oms_updates import queue_oms_update
from deliveryhub.service_layer.messaging import Message

log = structlog.get_logger(__name__)

TOPICS = (
    "order.",
    "inventory.",
    "fulfillment.",
    "shipment.",
    "claim.",
    "notification.",
    "return.",
    "exchange.",
)
# Every timer about one order: a cancelled or delivered order cancels them all.
RULE_TIMER_KINDS = (
    "dispatch_pack",
    "dispatch_ship",
    "waybill_missing",
    "handover_missing",
    "tracking_stale",
    "delivery_delay",
)
ORDER_TIMER_KINDS = (*RULE_TIMER_KINDS, "eta", "notice_missing", "wms_reserve", "tms_waybill")


@dataclass
class Event:
    """One message as an order handler sees it."""

    message: Message
    payload: dict[str, Any]
    data: dict[str, Any]
    at: datetime  # when it happened (occurred_at, else now)
    now: datetime
    order: Order
    shipment_id: str

    @property
    def order_id(self) -> str:
        """The order the event is about."""
        return self.order.order_id

    @property
    def note(self) -> dict[str, Any]:
        """What an exception it resolves records as its cause."""
        p = self.payload
        return {
            "type": self.message.topic,
            "event_id": p.get("event_id"),
            "occurred_at": p.get("occurred_at"),
        }


OrderHandler = Callable[[Context, Connection, Event], None]
# Topics not about one order's read model (stage changes, notices, stock counts).
OtherHandler = Callable[[Context, Connection, dict[str, Any], datetime], None]


class MonitorConsumer:
    """Consumer `monitors`: `handle` runs in the consumer's transaction, `after_commit` sends alerts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """React to each canonical event of the batch."""
        ctx = self.ctx
        ctx.reset_alerts()  # a retried batch starts again
        now = ctx.now
        # The read models are written by ingest, never by this consumer: one read serves the whole batch.
        ids = sorted({m.order_id for m in messages if m.order_id})
        orders = load_orders(conn, ids) if ids else {}
        lock_stock(conn, stock_keys(messages, orders))  # before any stock write, in key order
        # Most events resolve nothing: know the batch's active exceptions up front instead of asking
        # the database once per event.
        ctx.active = active_for(conn, ids)
        pending_token = tm.begin_batch(conn, ids)
        try:
            for m in messages:
                try:
                    on_message(ctx, conn, m, now, orders)
                except Exception:
                    log.exception("monitors_message_failed", topic=m.topic, message_id=m.id)
                    raise
        finally:
            ctx.active = None
            tm.end_batch(pending_token)

    def after_commit(self, _messages: Sequence[Message]) -> None:
        """Alerts go out only once their exceptions are committed."""
        self.ctx.send_alerts()


def on_message(ctx: Context, conn: Connection, m: Message, now: datetime, orders: dict[str, Order]) -> None:
    """Dispatch one message to its handler."""
    p = m.payload
    other = OTHER_HANDLERS.get(m.topic) or (on_notification if m.topic.startswith("notification.") else None)
    if other is not None:
        other(ctx, conn, p, now)
        return
    handler = ORDER_HANDLERS.get(m.topic)
    if handler is None or not m.order_id:
        return
    order = orders.get(m.order_id)
    if order is None:
        return
    at = parse_datetime(p.get("occurred_at")) or now
    sid = str(p.get("shipment_id") or m.order_id)
    handler(ctx, conn, Event(m, p, p.get("data") or {}, at, now, order, sid))


# ---------------------------------------------------------------- order
def on_created(ctx: Context, conn: Connection, ev: Event) -> None:
    """Arm the promise deadline; look for a duplicate purchase."""
    o = ev.order
    if o.promised_date is not None:
        due = rules.promise_deadline(o.promised_date, ctx.th("delivery_delay", o), ctx.cal)
        tm.arm(conn, "delivery_delay", o.order_id, due, ev.now, order_id=o.order_id)
    check_duplicate(ctx, conn, ev)


def on_paid(ctx: Context, conn: Connection, ev: Event) -> None:
    """Arm the packing and dispatch deadlines; ask the WMS to reserve stock when the shop has one."""
    o, now = ev.order, ev.now
    if o.paid_at is None or o.closed:
        return
    if not o.reached("picked_packed"):
        due = rules.pack_deadline(o.paid_at, ctx.th("dispatch_delay", o), ctx.cal)
        tm.arm(conn, "dispatch_pack", o.order_id, due, now, order_id=o.order_id)
    if not o.reached("waybill_created"):
        due = rules.ship_deadline(o.paid_at, ctx.cal)
        tm.arm(conn, "dispatch_ship", o.order_id, due, now, order_id=o.order_id)
    if ctx.ports.has_wms(o.channel) and not o.reached("stock_confirmed"):
        tm.arm(conn, "wms_reserve", o.order_id, now, now, order_id=o.order_id, payload={"shop": o.channel})


def on_cancelled(ctx: Context, conn: Connection, ev: Event) -> None:
    """A cancelled order is not watched any more."""
    tm.cancel(conn, kinds=ORDER_TIMER_KINDS, order_id=ev.order_id, now=ev.now, reason="order cancelled")
    resolve(ctx, conn, ev.order_id, EXCEPTION_TYPES, ev.now, "auto:order.cancelled", ev.note)


def check_duplicate(ctx: Context, conn: Connection, ev: Event) -> None:
    """Same customer, same items and total within the window: most likely the same purchase twice."""
    o, data, at = ev.order, ev.data, ev.at
    cust = data.get("customer_id")
    th = ctx.th("duplicate_order", o)
    if not cust or not th.get("enabled", True):
        return
    window = timedelta(minutes=float(th.get("window_minutes", 30)))
    cands = conn.execute(
        sa.select(t.orders.c.order_id, t.orders.c.created_at, t.orders.c.total).where(
            t.orders.c.customer_id == cust,
            t.orders.c.order_id != o.order_id,
            t.orders.c.cancelled_at.is_(None),
            t.orders.c.created_at >= at - window,
            t.orders.c.created_at <= at,
        )
    ).all()
    for c in cands:
        if c.created_at == at and c.order_id > o.order_id:
            continue  # same instant: only the later id is the duplicate
        other = conn.execute(
            sa.select(t.inbox.c.data).where(
                t.inbox.c.order_id == c.order_id, t.inbox.c.type == "order.created"
            )
        ).first()
        if other is None:
            continue
        if rules.is_duplicate(
            data.get("items") or [], data.get("total"), other.data.get("items") or [], other.data.get("total")
        ):
            evidence = {
                "duplicate_of": c.order_id,
                "items": data.get("items"),
                "total": data.get("total"),
                "minutes_apart": round((at - c.created_at).total_seconds() / 60, 1),
            }
            threshold = {"window_minutes": th.get("window_minutes", 30)}
            finding = rules.Finding("duplicate_order", o.order_id, evidence, threshold=threshold)
            open_exception(ctx, conn, finding, o, ev.now)
            return


# ---------------------------------------------------------------- stock and warehouse
def on_reserved(ctx: Context, conn: Connection, ev: Event) -> None:
    """Stock was reserved: the shortage is over; the ledger goes down."""
    resolve(ctx, conn, ev.order_id, ["stock_shortage"], ev.now, "auto:inventory.reserved", ev.note)
    reserve(conn, ev.order.warehouse or ev.data.get("warehouse"), ev.data.get("items") or [])


def on_shortage(ctx: Context, conn: Connection, ev: Event) -> None:
    """The warehouse reports a shortage."""
    d = ev.data
    evidence = {
        "sku": d.get("sku"),
        "requested": d.get("requested"),
        "available": d.get("available"),
        "warehouse": ev.order.warehouse,
        "event_id": ev.payload.get("event_id"),
    }
    open_exception(ctx, conn, rules.Finding("stock_shortage", ev.order_id, evidence), ev.order, ev.now)


def on_pick_error(ctx: Context, conn: Connection, ev: Event) -> None:
    """The wrong item was scanned while picking."""
    d = ev.data
    evidence = {
        "expected_sku": d.get("expected_sku"),
        "scanned_sku": d.get("scanned_sku"),
        "event_id": ev.payload.get("event_id"),
    }
    open_exception(ctx, conn, rules.Finding("pick_error", ev.order_id, evidence), ev.order, ev.now)


def on_packed(ctx: Context, conn: Connection, ev: Event) -> None:
    """Packed: the packing SLA is met; now a waybill is due (and the TMS is asked when the shop has one)."""
    o, oid, now = ev.order, ev.order_id, ev.now
    tm.cancel(conn, kinds=["dispatch_pack"], order_id=oid, now=now)
    resolve(ctx, conn, oid, ["pick_error"], now, "auto:fulfillment.packed", ev.note)
    if o.reached("waybill_created") or o.closed:
        return
    packed_at = o.stages.get("picked_packed") or ev.at
    due = rules.waybill_deadline(packed_at, ctx.th("waybill_missing", o), ctx.cal)
    tm.arm(conn, "waybill_missing", oid, due, now, order_id=oid)
    if ctx.ports.has_tms(o.channel):
        tm.arm(conn, "tms_waybill", oid, now, now, order_id=oid, payload={"shop": o.channel})


def on_snapshot(ctx: Context, conn: Connection, p: dict[str, Any], now: datetime) -> None:
    """A physical stock count: mismatches beyond the tolerance open exceptions, matching SKUs resolve."""
    data = p.get("data") or {}
    warehouse = str(data.get("warehouse") or "")
    if not warehouse:
        return
    at = parse_datetime(p.get("occurred_at")) or now
    bad, good = take_count(conn, ctx.cfg.thresholds("inventory_mismatch", warehouse=warehouse), data, at)
    for b in bad:
        finding = rules.Finding(
            "inventory_mismatch",
            None,
            {**b.evidence, "warehouse": warehouse, "counted_at": at.isoformat()},
            subject=f"{warehouse}:{b.sku}",
            threshold=b.threshold,
        )
        open_exception(ctx, conn, finding, None, now)
    for sku in good:
        resolve(ctx, conn, f"{warehouse}:{sku}", ["inventory_mismatch"], now, "auto:inventory.snapshot")


# ---------------------------------------------------------------- shipment
def on_waybill(ctx: Context, conn: Connection, ev: Event) -> None:
    """A waybill exists: dispatch and waybill deadlines are met; the carrier's first scan is now due."""
    o, oid, now = ev.order, ev.order_id, ev.now
    tm.cancel(
        conn,
        kinds=["waybill_missing", "dispatch_pack", "dispatch_ship", "tms_waybill"],
        order_id=oid,
        now=now,
    )
    resolve(
        ctx, conn, oid, ["waybill_missing", "dispatch_delay"], now, "auto:shipment.waybill_created", ev.note
    )
    parcel = o.find_parcel(ev.shipment_id)
    if parcel is not None and parcel.handed_over_at is None and parcel.delivered_at is None:
        due = rules.handover_deadline(ev.at, ctx.th("handover_missing", o, parcel.carrier), ctx.cal)
        tm.arm(conn, "handover_missing", f"{oid}|{ev.shipment_id}", due, now, order_id=oid, keep_earlier=True)


def on_scan(ctx: Context, conn: Connection, ev: Event) -> None:
    """A carrier scan (handover or tracking): proves the handover, refreshes the staleness deadline and
    asks for a new ETA; failed attempts open `delivery_failed`."""
    o, oid, sid, now, p = ev.order, ev.order_id, ev.shipment_id, ev.now, ev.payload
    status = ev.data.get("status")
    if status in rules.FAILED_STATUSES:
        evidence = {
            "status": status,
            "reason": ev.data.get("reason"),
            "raw_status": ev.data.get("raw_status"),
            "shipment_id": sid,
            "occurred_at": p.get("occurred_at"),
        }
        open_exception(ctx, conn, rules.Finding("delivery_failed", oid, evidence, shipment_id=sid), o, now)
    if status == "delivered":
        on_delivered(ctx, conn, ev)
        return
    if status in (None, "pending", "info_received") and p.get("type") == "shipment.tracking":
        return  # not a carrier scan of the parcel itself
    # Any carrier scan proves the handover and refreshes tracking.
    tm.cancel(conn, kinds=["handover_missing"], subject=f"{oid}|{sid}", now=now)
    tm.cancel(conn, kinds=["dispatch_pack", "dispatch_ship", "waybill_missing"], order_id=oid, now=now)
    resolve(
        ctx,
        conn,
        oid,
        ["handover_missing", "tracking_stale", "dispatch_delay", "waybill_missing"],
        now,
        f"auto:{p.get('type')}",
        ev.note,
    )
    parcel = o.find_parcel(sid)
    if parcel is None or parcel.delivered_at is not None:
        return
    if status not in rules.FAILED_STATUSES and status != "available_for_pickup" and parcel.last_event_at:
        th = ctx.th("tracking_stale", o, parcel.carrier)
        due = rules.stale_deadline(parcel.last_event_at, th, ctx.cal)
        tm.arm(conn, "tracking_stale", f"{oid}|{sid}", due, now, order_id=oid)
    if ctx.cfg.eta.enabled:
        hint = None
        if ev.data.get("eta_min") and ev.data.get("eta_max"):
            hint = {"eta_min": ev.data["eta_min"], "eta_max": ev.data["eta_max"]}
        payload = {"shipment_id": sid, "trigger": p.get("event_id"), "hint": hint}
        tm.arm(conn, "eta", f"{oid}|{sid}", now, now, order_id=oid, payload=payload)


def on_delivered(ctx: Context, conn: Connection, ev: Event) -> None:
    """A parcel arrived; once every parcel has, the order's timers and delay exceptions end (and a late
    delivery is proposed for compensation)."""
    o, oid, sid, now = ev.order, ev.order_id, ev.shipment_id, ev.now
    for kind in ("tracking_stale", "handover_missing", "eta"):
        tm.cancel(conn, kinds=[kind], subject=f"{oid}|{sid}", now=now)
    resolve(
        ctx,
        conn,
        oid,
        ["tracking_stale", "handover_missing", "delivery_failed", "dispatch_delay", "waybill_missing"],
        now,
        "auto:delivered",
        ev.note,
    )
    if o.delivered_at is None:
        return  # other parcels of the order are still on their way
    tm.cancel(conn, kinds=ORDER_TIMER_KINDS, order_id=oid, now=now, reason="delivered")
    resolve(ctx, conn, oid, ["delay_risk", "delivery_delay"], now, "auto:delivered", ev.note)
    if o.promised_date is not None:
        late = rules.days_late(o.promised_date, ctx.cal.local_date(o.delivered_at))
        if late > 0:
            comp.propose_and_arm(ctx, conn, oid, now, trigger="delivery_delay", days=late)


def on_delivery_failed(ctx: Context, conn: Connection, ev: Event) -> None:
    """A failed delivery attempt."""
    evidence = {
        "status": "attempt_fail",
        "reason": ev.data.get("reason"),
        "shipment_id": ev.shipment_id,
        "occurred_at": ev.payload.get("occurred_at"),
    }
    finding = rules.Finding("delivery_failed", ev.order_id, evidence, shipment_id=ev.shipment_id)
    open_exception(ctx, conn, finding, ev.order, ev.now)


def on_eta_updated(ctx: Context, conn: Connection, ev: Event) -> None:
    """A carrier's ETA (not our own revision) asks for a revision; either way, check the delay risk."""
    oid, sid, now = ev.order_id, ev.shipment_id, ev.now
    if ev.payload.get("source") != "tms":
        hint = {"eta_min": ev.data.get("eta_min"), "eta_max": ev.data.get("eta_max")}
        payload = {"shipment_id": sid, "trigger": ev.payload.get("event_id"), "hint": hint}
        tm.arm(conn, "eta", f"{oid}|{sid}", now, now, order_id=oid, payload=payload)
    f = rules.delay_risk(ev.order, now, ctx.th("delay_risk", ev.order), ctx.cal)
    if f is not None:
        open_exception(ctx, conn, f, ev.order, now)
    else:
        resolve(ctx, conn, oid, ["delay_risk"], now, "auto:eta_within_promise")


def on_claim(ctx: Context, conn: Connection, ev: Event) -> None:
    """A customer claim: propose what the compensation rules grant."""
    comp.propose_and_arm(
        ctx,
        conn,
        ev.order_id,
        ev.now,
        trigger="claim",
        claim_kind=ev.data.get("kind"),
        claim_amount=ev.data.get("amount"),
    )


# ---------------------------------------------------------------- stage changes and notices
def on_stage_changed(ctx: Context, conn: Connection, p: dict[str, Any], now: datetime) -> None:
    """Push the change to the shop's OMS; a customer-facing stage needs a notice within N minutes."""
    oid, stage = p.get("order_id"), p.get("stage")
    if not oid or not stage or not p.get("current"):
        return  # a late fill-in of an earlier stage: nothing to push, nobody to tell
    queue_oms_update(ctx, conn, str(oid), str(stage), p, now)
    th = ctx.cfg.thresholds("notice_missing")
    if stage not in CUSTOMER_FACING_STAGES or not th.get("enabled", True):
        return
    due = now + timedelta(minutes=float(th.get("minutes", 30)))
    payload = {"stage": stage, "stage_at": p.get("occurred_at")}
    tm.arm(conn, "notice_missing", f"{oid}|{stage}", due, now, order_id=str(oid), payload=payload)


def on_notification(ctx: Context, conn: Connection, p: dict[str, Any], now: datetime) -> None:
    """A notice about a stage went out: its notice_missing timer and exception end."""
    oid, stage = p.get("order_id"), p.get("stage")
    if oid and stage:
        tm.cancel(conn, kinds=["notice_missing"], subject=f"{oid}|{stage}", now=now, reason="notice sent")
        resolve(ctx, conn, str(oid), ["notice_missing"], now, "auto:notification", {"stage": stage})


def on_return_step(ctx: Context, conn: Connection, ev: Event) -> None:
    """A return or exchange moved on: a return_stalled exception of the order ends (the aftersales SLA
    job opens a new one if the next step stalls too)."""
    resolve(ctx, conn, ev.order_id, ["return_stalled"], ev.now, f"auto:{ev.message.topic}", ev.note)


RETURN_STEPS = (
    "return.pickup_booked",
    "return.picked_up",
    "return.received",
    "return.inspected",
    "return.refunded",
    "exchange.reshipped",
    "exchange.completed",
)

ORDER_HANDLERS: dict[str, OrderHandler] = {
    "order.created": on_created,
    "order.paid": on_paid,
    "order.cancelled": on_cancelled,
    "inventory.reserved": on_reserved,
    "inventory.shortage": on_shortage,
    "fulfillment.pick_error": on_pick_error,
    "fulfillment.packed": on_packed,
    "shipment.waybill_created": on_waybill,
    "shipment.handed_over": on_scan,
    "shipment.tracking": on_scan,
    "shipment.delivered": on_delivered,
    "shipment.delivery_failed": on_delivery_failed,
    "shipment.eta_updated": on_eta_updated,
    "claim.opened": on_claim,
    **dict.fromkeys(RETURN_STEPS, on_return_step),
}
OTHER_HANDLERS: dict[str, OtherHandler] = {
    "order.stage_changed": on_stage_changed,
    "inventory.snapshot": on_snapshot,
}
