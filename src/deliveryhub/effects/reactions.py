"""The `effects.reactions` consumer: what the hub must do outside when certain facts arrive.

- `order.cancelled` before handover → release the WMS reservation (`release:<order>`), tell the marketplace
  the order came from when the cancel was made through the hub (`marketplace-cancel:<order>`), and, when
  money was paid, refund what is left of it (`core.refunds`, key `refund:cancel:<order>`).
- `order.address_changed` said by CS, the chatbot or the web UI (never the OMS's own change: no echo) →
  push the address to the WMS/TMS (`address:<order>:<event id>`), before handover only.
- `compensation.issued` → a coupon or points through the shop's rewards port (`reward:<event id>`) when
  one is configured, or a refund (`refund:comp:<event id>`).
Everything is queued in the consumer's transaction through the ledger (once per key); the driver job
carries it out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.orders import load_orders, order_origin
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.effects import marketplace_cancel
from deliveryhub.service_layer.hub import is_wired
from deliveryhub.service_layer.messaging import Message
from deliveryhub.service_layer.ports import OutsideAction, RefundAsk

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

TOPICS = ("order.cancelled", "order.address_changed", "compensation.issued")
HANDOVER_RANK = STAGE_RANK["handed_over"]
# Sources whose address change the OMS/WMS/TMS have not heard of yet (people acting through the hub).
PUSHED_ADDRESS_SOURCES = frozenset({"cs", "chatbot", "ui"})


def action_key(prefix: str, order_id: str, event_id: str) -> str:
    """`<prefix>:<order>:<event id>`, or with the event id's digest when that would pass 200 characters."""
    key = f"{prefix}:{order_id}:{event_id}"
    if len(key) <= 200:
        return key
    return f"{prefix}:{order_id[:128]}:h{hashlib.sha256(event_id.encode()).hexdigest()[:40]}"


def order_items(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """The order's items as order.created gave them ([{sku, qty}]); [] when unknown."""
    items = order_origin(conn, order_id)[1].get("items")
    out = []
    for item in items or []:
        if isinstance(item, dict) and item.get("sku"):
            out.append({"sku": item["sku"], "qty": int(item.get("qty") or 1)})
    return out


class Reactions:
    """Consumer `effects.reactions` (runs in the consumer's transaction)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Queue the outside actions each fact calls for."""
        wanted = [m for m in messages if m.topic in TOPICS and m.order_id]
        if not wanted:
            return
        orders = load_orders(conn, sorted({str(m.order_id) for m in wanted}))
        for m in wanted:
            order = orders.get(str(m.order_id))
            if order is None:
                continue
            if m.topic == "order.cancelled":
                self.cancelled(conn, m, order)
            elif m.topic == "order.address_changed":
                self.address_changed(conn, m, order)
            else:
                self.compensation(conn, m, order)

    def cancelled(self, conn: Connection, m: Message, order: Any) -> None:
        """Before handover: release the reservation; refund what is left of the payment."""
        oid = order.order_id
        if order.stage_rank >= HANDOVER_RANK:
            return  # the parcel left: a return, not a release
        core = self.core
        if is_wired(core.fulfilment):
            items = order_items(conn, oid)
            core.outside.enqueue(
                conn,
                OutsideAction(
                    key=f"release:{oid}",
                    system="fulfilment",
                    action="release_reservation",
                    order_id=oid,
                    payload={"order_id": oid, "items": items},
                ),
            )
        # Refunds only where the hub holds the payment provider (a shop refunding in its own system is not
        # asked to, as for releases and pushes); then a refund that could not be queued is worth a line.
        marketplace_cancel.queue(core, conn, m, oid)  # a marketplace order: told once, never echoed
        refundable = core.refunds.refundable(conn, oid) if is_wired(core.payments) else 0
        if refundable > 0:
            reason = str((m.payload.get("data") or {}).get("reason") or "주문 취소 / order cancelled")[:200]
            ask = RefundAsk(oid, refundable, "cancel", f"refund:cancel:{oid}", reason)
            decision = core.refunds.request_refund(conn, ask)
            if not decision.ok and decision.code != "duplicate":
                log.warning("cancel_refund_not_queued", order_id=oid, code=decision.code, amount=refundable)

    def address_changed(self, conn: Connection, m: Message, order: Any) -> None:
        """A change made through the hub reaches the WMS/TMS (the address is read at send time)."""
        if m.payload.get("source") not in PUSHED_ADDRESS_SOURCES or not is_wired(self.core.fulfilment):
            return
        if order.stage_rank >= HANDOVER_RANK or order.cancelled_at is not None:
            return
        oid = order.order_id
        self.core.outside.enqueue(
            conn,
            OutsideAction(
                key=action_key("address", oid, str(m.payload.get("event_id") or m.id)),
                system="fulfilment",
                action="push_address",
                order_id=oid,
                payload={"order_id": oid},
            ),
        )

    def compensation(self, conn: Connection, m: Message, order: Any) -> None:
        """A coupon or points in the shop's system, or money back."""
        data = m.payload.get("data") or {}
        kind, amount = data.get("kind"), int(float(data.get("amount") or 0))
        eid = str(m.payload.get("event_id") or m.id)
        oid = order.order_id
        reason = f"보상 / compensation {data.get('rule') or ''}".strip()
        if amount <= 0:
            return
        if kind in ("coupon", "points"):
            if not is_wired(self.core.rewards):
                return  # no coupon system to create it in: issued by hand from the compensation list
            self.core.outside.enqueue(
                conn,
                OutsideAction(
                    key=f"reward:{eid}"[:200],
                    system="rewards",
                    action="grant",
                    order_id=oid,
                    payload={
                        "order_id": oid,
                        "customer_ref": order.customer_id,
                        "kind": kind,
                        "amount": amount,
                        "reason": reason,
                    },
                ),
            )
        elif kind == "refund":
            ask = RefundAsk(oid, amount, "compensation", f"refund:comp:{eid}"[:200], reason)
            decision = self.core.refunds.request_refund(conn, ask)
            if not decision.ok and decision.code != "duplicate":
                log.warning("compensation_refund_refused", order_id=oid, code=decision.code, amount=amount)
