"""The returns workflow as events advance it: each after-sales event moves one `returns` row forward
(never back: a late or replayed event changes nothing), and the steps that act outside are queued in
the same transaction with keys that make them once-only:

    requested ──(book_pickup `pickup:<id>`)──▶ pickup_booked ─▶ picked_up ─▶ received ─▶ inspected
    inspected (pass) ─▶ return:   refund `refund:return:<id>` ─▶ refunded
                     ─▶ exchange: reship `reship:<id>` ─▶ reshipped ─▶ completed
    inspected (fail) ─▶ inspection_failed (for the operators)

A marketplace's own claim (return.requested from naver/coupang/cafe24 with no return_id) opens a row
too; the marketplace collects and refunds through its own claim flow, so nothing is queued for it.
Steps without a return_id (a WMS's return.received) apply to the order's newest open return."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.engine import Connection, Row

from deliveryhub.aftersales import store
from deliveryhub.aftersales.tables import STEP_COLUMNS
from deliveryhub.domain.messages import Message
from deliveryhub.domain.returns import (
    REASON_CODES,
    STATUS_RANK,
    ReturnPolicy,
    classify_reason,
    refund_amount,
    step_due,
)
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.service_layer.ports import OutsideAction, RefundAsk

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

# shipment.delivered: a replacement parcel delivered completes its exchange (the SLA job's sweep also
# catches one a carrier reported only as a tracking scan).
TOPICS = ("return.", "exchange.", "action.failed", "shipment.delivered")
STEP_TYPES: dict[str, str] = {
    "return.pickup_booked": "pickup_booked",
    "return.picked_up": "picked_up",
    "return.received": "received",
    "exchange.reshipped": "reshipped",
    "exchange.completed": "completed",
}
# The ledger keys this workflow queues, by prefix, and what their failure means.
KEY_PREFIXES = (("pickup:", "회수 접수"), ("refund:return:", "환불"), ("reship:", "교환 상품 발송"))


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


class Workflow:
    """Applies after-sales events to `returns` rows (the consumer and the desk share it)."""

    def __init__(
        self, core: Core, policy: Callable[[], ReturnPolicy], calendar: Callable[[], BusinessCalendar]
    ) -> None:
        self.core = core
        self.policy = policy
        self.calendar = calendar

    # ------------------------------------------------------------ consumer
    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Consumer entry: apply each after-sales event in the batch."""
        for msg in messages:
            if msg.topic.startswith(TOPICS):
                self.apply(conn, msg.payload)

    def delivered_orders(self, messages: Sequence[Message]) -> list[str]:
        """Orders a parcel of which was delivered in this batch (a replacement may be among them)."""
        return sorted({str(m.order_id) for m in messages if m.topic == "shipment.delivered" and m.order_id})

    def apply(self, conn: Connection, ev: Mapping[str, Any]) -> str | None:
        """Apply one event (bus payload shape); the return id it touched, if any."""
        kind = str(ev.get("type") or "")
        if kind not in STEP_TYPES and not kind.startswith(("return.", "exchange.", "action.failed")):
            return None
        data: Mapping[str, Any] = ev.get("data") or {}
        if kind in ("return.requested", "exchange.requested"):
            return self._requested(conn, ev, data)
        if kind == "action.failed":
            return self._action_failed(conn, data)
        row = self._row_for(conn, ev, data)
        if row is None:
            return None
        at = parse_datetime(ev.get("occurred_at")) or self.core.clock.now()
        if kind == "return.inspected":
            self._inspected(conn, row, at, data, str(ev.get("source") or ""))
        elif kind in ("return.refunded", "payment.refunded"):
            if kind == "payment.refunded" and data.get("cause") != "return":
                return None
            amount = data.get("amount")
            self._advance(
                conn,
                row,
                "refunded",
                at,
                {
                    "refund_amount": int(amount) if amount is not None else row.refund_amount,
                    "refund_status": "done",
                },
            )
        elif kind in STEP_TYPES:
            self._step(conn, row, STEP_TYPES[kind], at, data)
        return str(row.return_id)

    def _row_for(self, conn: Connection, ev: Mapping[str, Any], data: Mapping[str, Any]) -> Row[Any] | None:
        rid = data.get("return_id")
        if rid:
            return store.get(conn, str(rid), lock=True)
        order_id = ev.get("order_id")
        if not order_id:
            return None
        kind = "exchange" if str(ev.get("type", "")).startswith("exchange.") else None
        found = store.open_for_order(conn, str(order_id), kind)
        return store.get(conn, str(found.return_id), lock=True) if found is not None else None

    # ------------------------------------------------------------ steps
    def _requested(self, conn: Connection, ev: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
        order_id = ev.get("order_id")
        if not order_id:
            return None
        kind = "exchange" if ev.get("type") == "exchange.requested" else "return"
        source = str(ev.get("source") or "")
        at = parse_datetime(ev.get("occurred_at")) or self.core.clock.now()
        claim = not data.get("return_id")
        rid = str(data.get("return_id") or store.claim_return_id(kind, source, str(ev.get("event_id"))))
        if claim and store.open_for_order(conn, str(order_id), kind) is not None:
            return None  # a marketplace reporting a claim the hub already follows
        facts = store.order_facts(conn, str(order_id))
        marketplace = store.marketplace_of(source) if claim else facts.marketplace
        reason = _text(data.get("reason") or data.get("reason_text"), 2000)
        code = str(data.get("reason_code") or classify_reason(reason))
        if code not in REASON_CODES:
            code = "other"
        items = list(data.get("items") or [])
        fee = data.get("fee")
        values = {
            "return_id": rid,
            "order_id": str(order_id),
            "kind": kind,
            "status": "requested",
            "reason": reason,
            "reason_code": code,
            "fee": int(fee or 0),
            "fee_payer": data.get("fee_payer"),
            "items": items,
            "actor": _text(data.get("actor") or source, 128),
            "source": source[:72] or None,
            "via": marketplace or "carrier",
            "marketplace_ref": _text(data.get("receipt_id") or (ev.get("event_id") if claim else None), 200)
            or facts.marketplace_ref,
            "requested_at": at,
            "due_at": self._due(kind, "requested", at, claim=claim and marketplace is not None),
            "created_at": self.core.clock.now(),
            "updated_at": self.core.clock.now(),
        }
        if not store.insert(conn, values):
            return rid  # seen before (the desk wrote it, or a replay)
        if not claim:
            self.core.outside.enqueue(
                conn,
                OutsideAction(
                    key=f"pickup:{rid}",
                    system="pickup",
                    action="book_pickup",
                    order_id=str(order_id),
                    payload={
                        "return_id": rid,
                        "order_id": str(order_id),
                        "kind": kind,
                        "items": items,
                        "reason_code": code,
                        "source": marketplace,
                        "marketplace_ref": values["marketplace_ref"],
                    },
                    done_event="return.pickup_booked",
                    done_data={"return_id": rid, "via": marketplace or "carrier"},
                ),
            )
        log.info("return_opened", return_id=rid, order_id=order_id, kind=kind, reason_code=code, claim=claim)
        return rid

    def _due(
        self,
        kind: str,
        status: str,
        at: datetime,
        *,
        claim: bool = False,
        received_at: datetime | None = None,
    ) -> datetime | None:
        policy, cal = self.policy(), self.calendar()
        if claim and status == "requested":  # the marketplace books its own pickup: wait for the pickup
            return step_due(policy, kind, "pickup_booked", at, cal)
        return step_due(policy, kind, status, at, cal, received_at=received_at)

    def _advance(
        self, conn: Connection, row: Row[Any], status: str, at: datetime, extra: Mapping[str, Any]
    ) -> bool:
        """Move `row` to `status` (when that is forward), its step time, the next deadline and `extra`."""
        if STATUS_RANK[status] <= STATUS_RANK[str(row.status)]:
            late = {k: v for k, v in extra.items() if v is not None and getattr(row, k, None) is None}
            column = STEP_COLUMNS[status]
            if getattr(row, column) is None and status != row.status:
                late[column] = at  # a late step: its time is kept, the status does not move back
            if late:
                store.update(conn, str(row.return_id), {**late, "updated_at": self.core.clock.now()})
            return False
        received = row.received_at or (at if status == "received" else None)
        values = {
            **{k: v for k, v in extra.items() if v is not None},
            "status": status,
            STEP_COLUMNS[status]: at,
            "due_at": self._due(str(row.kind), status, at, received_at=received),
            "updated_at": self.core.clock.now(),
        }
        if status in ("inspected", "inspection_failed") and row.received_at is None:
            values["received_at"] = at  # inspected straight from the pickup: the goods were received
        store.update(conn, str(row.return_id), values)
        return True

    def _step(
        self, conn: Connection, row: Row[Any], status: str, at: datetime, data: Mapping[str, Any]
    ) -> None:
        extra: dict[str, Any] = {}
        if status in ("pickup_booked", "picked_up", "received"):
            extra["return_tracking_no"] = _text(data.get("tracking_no"), 64)
        if status == "pickup_booked":
            extra.update(
                carrier=_text(data.get("carrier"), 32),
                pickup_ref=_text(data.get("pickup_ref") or data.get("ref"), 200),
                via=_text(data.get("via"), 32),
                problem=None,
            )
        if status == "reshipped":
            extra.update(reship_tracking_no=_text(data.get("tracking_no"), 64))
        self._advance(conn, row, status, at, extra)

    def _inspected(
        self, conn: Connection, row: Row[Any], at: datetime, data: Mapping[str, Any], source: str
    ) -> None:
        passed = data.get("result") == "pass"
        extra = {
            "inspection_result": "pass" if passed else "fail",
            "inspection_note": _text(data.get("note"), 2000),
            "inspection_photo_id": _text(data.get("photo_id"), 64),
            "inspected_by": _text(data.get("actor") or source, 128),
        }
        if not self._advance(conn, row, "inspected" if passed else "inspection_failed", at, extra):
            return
        if not passed:
            return
        fresh = store.get(conn, str(row.return_id))
        assert fresh is not None
        if fresh.kind == "exchange":
            self.core.outside.enqueue(
                conn,
                OutsideAction(
                    key=f"reship:{fresh.return_id}",
                    system="fulfilment",
                    action="reship",
                    order_id=str(fresh.order_id),
                    payload={
                        "order_id": fresh.order_id,
                        "return_id": fresh.return_id,
                        "items": list(fresh.items or []),
                    },
                    done_event="exchange.reshipped",
                    done_data={"return_id": fresh.return_id},
                ),
            )
            return
        if store.marketplace_of(fresh.via) is not None:
            # the marketplace refunds the buyer through its own claim flow: the hub's part ends here
            self._advance(conn, fresh, "completed", at, {"refund_status": "marketplace"})
            return
        self._refund(conn, fresh)

    def _refund(self, conn: Connection, row: Row[Any]) -> None:
        refundable = int(self.core.refunds.refundable(conn, str(row.order_id)) or 0)
        amount = refund_amount(list(row.items or []), int(row.fee or 0), row.fee_payer, refundable)
        if amount <= 0:
            status = "nothing_paid" if refundable <= 0 else "nothing_to_refund"
            store.update(conn, str(row.return_id), {"refund_amount": 0, "refund_status": status})
            return
        decision = self.core.refunds.request_refund(
            conn,
            RefundAsk(
                order_id=str(row.order_id),
                amount=amount,
                cause="return",
                key=f"refund:return:{row.return_id}",
                reason=f"반품 환불 {row.return_id} ({row.reason_code})",
                return_id=str(row.return_id),
            ),
        )
        store.update(
            conn,
            str(row.return_id),
            {
                "refund_amount": amount,
                "refund_status": decision.code,
                "problem": None if decision.ok or decision.code == "duplicate" else f"refund {decision.code}",
            },
        )

    def _action_failed(self, conn: Connection, data: Mapping[str, Any]) -> str | None:
        key = str(data.get("key") or "")
        for prefix, what in KEY_PREFIXES:
            if key.startswith(prefix):
                rid = key[len(prefix) :]
                row = store.get(conn, rid, lock=True)
                if row is None:
                    return None
                message = str(data.get("message") or "")
                values: dict[str, Any] = {
                    "problem": f"{what} 실패: {message}"[:500],
                    "updated_at": self.core.clock.now(),
                }
                if prefix == "refund:return:":
                    values["refund_status"] = "failed"
                store.update(conn, rid, values)
                return rid
        return None
