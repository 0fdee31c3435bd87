"""Refunds against what the customer paid: never more than was paid, never twice (`core.refunds`).

What was paid comes from `order.paid` (amount, payment_key, provider) into `payments`. A refund asked with
`request_refund` inside the caller's transaction is checked against `refundable = paid − (pending + done)`,
written as a `refunds` row under its key and queued on the outside-action ledger (`core.outside`) in the
same transaction, so the refund is either wholly asked for or not at all. On PostgreSQL the payment row is
locked (SELECT … FOR UPDATE) first, so two concurrent asks for one order run one after the other; SQLite
write transactions are exclusive already (BEGIN IMMEDIATE). Consumers run on their own, so the order's
stored events (`order.paid`, refunds reported elsewhere) are read at ask time too: a refund asked right after
the payment (a cancel in the same batch) sees it, and one reported by a marketplace counts before the
consumer has recorded it.

The `payments` consumer keeps the rows true to what happened: `order.paid` records the payment, the
refunded event the ledger records when the provider said done (event id `act:<key>`) marks the row done
with the provider's reference, `action.failed` of a payments refund marks it failed (its amount is
refundable again), and a refund reported by someone else (the Toss webhook for a cancel made in the Toss
dashboard, a marketplace) is recorded as done so it counts against the payment too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.effects.driver import event_id as act_event_id
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.payments import tables as pt
from deliveryhub.service_layer.ports import OutsideAction, RefundAsk, RefundDecision, RefundRequest

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

TOPICS = ("order.paid", "return.refunded", "payment.refunded", "action.failed")
COUNTING = ("pending", "done")
ACT_PREFIX = "act:"


def _amount(value: Any) -> int | None:
    """A won amount as an int (events carry floats); None when absent or not a number."""
    try:
        return int(round(float(value))) if value is not None else None
    except (TypeError, ValueError):
        return None


class RefundBook:
    """The `Refunds` port and the consumer that keeps payments and refunds true to the events."""

    def __init__(self, core: Core) -> None:
        self.core = core

    # ------------------------------------------------------------------------------------ the port
    def _payment(self, conn: Connection, order_id: str, *, lock: bool) -> Any:
        query = sa.select(pt.payments).where(pt.payments.c.order_id == order_id)
        return conn.execute(query.with_for_update() if lock else query).first()

    def _given_back(self, conn: Connection, order_id: str) -> int:
        r = pt.refunds
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(r.c.amount), 0)).where(
                r.c.order_id == order_id, r.c.status.in_(COUNTING)
            )
        ).scalar_one()
        return int(total)

    @staticmethod
    def _stored(conn: Connection, order_id: str) -> list[Message]:
        """The order's stored events this feature follows, oldest first, as the bus carries them."""
        i = t.inbox
        rows = conn.execute(
            sa.select(i.c.event_id, i.c.source, i.c.type, i.c.occurred_at, i.c.data)
            .where(i.c.order_id == order_id, i.c.type.in_(TOPICS))
            .order_by(i.c.id)
        ).all()
        return [
            Message.new(
                str(r.type),
                order_id,
                {
                    "event_id": r.event_id,
                    "source": r.source,
                    "occurred_at": r.occurred_at.isoformat() if r.occurred_at else None,
                    "data": r.data if isinstance(r.data, dict) else {},
                },
            )
            for r in rows
        ]

    def _not_yet_applied(self, conn: Connection, order_id: str) -> tuple[int | None, int]:
        """(what was paid when no payments row exists yet, refunds reported that have no row yet), read from
        the stored events: the consumer runs on its own, so a refund asked right after `order.paid` or a
        marketplace's refund must not wait for it (read only: no row is written)."""
        stored = self._stored(conn, order_id)
        paid: int | None = None
        if self._payment(conn, order_id, lock=False) is None:
            for m in stored:
                if m.topic == "order.paid":
                    amount = _amount((m.payload.get("data") or {}).get("amount"))
                    paid = amount if amount is not None else paid
        r = pt.refunds
        rows = conn.execute(sa.select(r.c.key, r.c.refund_id).where(r.c.order_id == order_id)).all()
        keys = {row.key for row in rows}
        refs = {row.refund_id for row in rows if row.refund_id}
        unrecorded = 0
        for m in stored:
            data = m.payload.get("data") or {}
            event_id = str(m.payload.get("event_id") or "")
            if m.topic not in ("return.refunded", "payment.refunded") or event_id.startswith(ACT_PREFIX):
                continue
            ref = data.get("refund_id") or data.get("ref")
            if _event_key(event_id) in keys or (ref and str(ref) in refs):
                continue
            unrecorded += max(0, _amount(data.get("amount")) or 0)
        return paid, unrecorded

    def refundable(self, conn: Connection, order_id: str) -> int:
        """What may still be refunded: paid − (pending + done refunds); 0 when nothing was paid."""
        pay = self._payment(conn, order_id, lock=False)
        paid_unapplied, unrecorded = self._not_yet_applied(conn, order_id)
        paid = int(pay.amount) if pay is not None else (paid_unapplied or 0)
        return max(0, paid - self._given_back(conn, order_id) - unrecorded)

    def _catch_up(self, conn: Connection, order_id: str) -> Any:
        """Apply the order's stored events the consumer may not have applied yet (idempotent), then lock
        the payment row: every later read in the caller's transaction sees the whole truth."""
        stored = self._stored(conn, order_id)
        self.handle(conn, [m for m in stored if m.topic == "order.paid"])
        pay = self._payment(conn, order_id, lock=True)  # serialises asks for one order on PostgreSQL
        self.handle(conn, [m for m in stored if m.topic != "order.paid"])
        return pay

    def request_refund(self, conn: Connection, ask: RefundAsk) -> RefundDecision:
        """Record and queue a refund in the caller's transaction, unless a duplicate or over what is left."""
        pay = self._catch_up(conn, ask.order_id)
        existing = conn.execute(
            sa.select(pt.refunds.c.amount).where(pt.refunds.c.key == ask.key)
        ).scalar_one_or_none()
        left = 0 if pay is None else max(0, int(pay.amount) - self._given_back(conn, ask.order_id))
        if existing is not None:
            return RefundDecision(False, "duplicate", int(existing), left)
        if pay is None or int(pay.amount) <= 0 or ask.amount <= 0:
            return RefundDecision(False, "nothing_paid", 0, left)
        if not pay.payment_key:
            return RefundDecision(False, "no_payment_key", 0, left)
        if ask.amount > left:
            log.info("refund_over", order_id=ask.order_id, key=ask.key, asked=ask.amount, refundable=left)
            return RefundDecision(False, "over_refund", 0, left)
        now = self.core.clock.now()
        row = {
            "key": ask.key,
            "order_id": ask.order_id,
            "amount": int(ask.amount),
            "cause": ask.cause,
            "return_id": ask.return_id,
            "status": "pending",
            "refund_id": None,
            "reason": (ask.reason or "")[:500],
            "message": None,
            "created_at": now,
            "done_at": None,
        }
        if insert_or_ignore(conn, pt.refunds, [row], ["key"]) == 0:
            return RefundDecision(False, "duplicate", int(ask.amount), left)
        request = RefundRequest(
            order_id=ask.order_id,
            payment_key=str(pay.payment_key),
            amount=int(ask.amount),
            reason=ask.reason or _default_reason(ask.cause),
        )
        done_data = {"amount": int(ask.amount), "return_id": ask.return_id, "cause": ask.cause}
        self.core.outside.enqueue(
            conn,
            OutsideAction(
                key=ask.key,
                system="payments",
                action="refund",
                order_id=ask.order_id,
                payload=asdict(request),
                done_event="return.refunded" if ask.cause == "return" else "payment.refunded",
                done_data={k: v for k, v in done_data.items() if v is not None},
            ),
        )
        log.info("refund_queued", order_id=ask.order_id, key=ask.key, amount=ask.amount, cause=ask.cause)
        return RefundDecision(True, "queued", int(ask.amount), left - int(ask.amount))

    def refunds_of(self, conn: Connection, order_id: str) -> list[dict[str, Any]]:
        """The order's refunds, oldest first (for the order page and the desk)."""
        r = pt.refunds
        rows = conn.execute(
            sa.select(
                r.c.key,
                r.c.amount,
                r.c.cause,
                r.c.return_id,
                r.c.status,
                r.c.refund_id,
                r.c.message,
                r.c.created_at,
                r.c.done_at,
            )
            .where(r.c.order_id == order_id)
            .order_by(r.c.created_at, r.c.key)
        ).all()
        return [dict(row._mapping) for row in rows]

    def order_section(self, conn: Connection, order_id: str, _principal: Any = None) -> dict[str, Any] | None:
        """`payment` of GET /v1/orders/{id}: paid, refundable and each refund (None when nothing was paid)."""
        pay = self._payment(conn, order_id, lock=False)
        if pay is None:
            return None
        refunds = self.refunds_of(conn, order_id)
        for item in refunds:
            for name in ("created_at", "done_at"):
                item[name] = item[name].isoformat() if item[name] else None
        return {
            "paid": int(pay.amount),
            "provider": pay.provider,
            "method": pay.method,
            "status": pay.status,
            "refundable": self.refundable(conn, order_id),
            "refunds": refunds,
        }

    # -------------------------------------------------------------------------------- the consumer
    def consumer(self) -> Consumer:
        """The `payments` consumer (order.paid, refunded events, failed payment actions)."""
        return Consumer("payments", self.handle, topics=TOPICS)

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Apply a batch in the consumer's transaction."""
        for m in messages:
            data = m.payload.get("data") or {}
            if not isinstance(data, dict):
                continue
            if m.topic == "order.paid" and m.order_id:
                self._paid(conn, m, data)
            elif m.topic in ("return.refunded", "payment.refunded") and m.order_id:
                self._refunded(conn, m, data)
            elif m.topic == "action.failed" and data.get("system") == "payments":
                self._failed(conn, data)

    def _paid(self, conn: Connection, m: Message, data: dict[str, Any]) -> None:
        amount = _amount(data.get("amount"))
        order_id = str(m.order_id)
        now = self.core.clock.now()
        paid_at = _when(m.payload.get("occurred_at")) or now
        existing = self._payment(conn, order_id, lock=False)
        if existing is None:
            if amount is None:
                log.info("payment_without_amount", order_id=order_id)
                return
            row = {
                "order_id": order_id,
                "payment_key": data.get("payment_key"),
                "provider": data.get("provider"),
                "amount": amount,
                "method": (str(data["method"])[:64] if data.get("method") else None),
                "paid_at": paid_at,
                "status": "paid",
                "cancelled": 0,
                "updated_at": now,
            }
            insert_or_ignore(conn, pt.payments, [row], ["order_id"])
            return
        # A second order.paid for the order (the OMS's, then the Toss webhook's with the key): fill in.
        changes: dict[str, Any] = {}
        if data.get("payment_key") and not existing.payment_key:
            changes["payment_key"] = data["payment_key"]
            changes["provider"] = data.get("provider") or existing.provider
        if amount is not None and amount != existing.amount and not existing.payment_key:
            changes["amount"] = amount
        if changes:
            changes["updated_at"] = now
            conn.execute(sa.update(pt.payments).where(pt.payments.c.order_id == order_id).values(**changes))

    def _refunded(self, conn: Connection, m: Message, data: dict[str, Any]) -> None:
        event_id = str(m.payload.get("event_id") or "")
        refund_id = data.get("refund_id") or data.get("ref")
        now = self.core.clock.now()
        r = pt.refunds
        key = self._key_of_act(conn, str(m.order_id), event_id)
        if key is not None:
            done = (
                sa.update(r)
                .where(r.c.key == key, r.c.status != "done")
                .values(status="done", refund_id=refund_id, done_at=now, message=None)
            )
            if conn.execute(done).rowcount:
                log.info("refund_done", order_id=m.order_id, key=key)
            if conn.execute(sa.select(r.c.key).where(r.c.key == key)).first() is not None:
                return
        if refund_id and conn.execute(sa.select(r.c.key).where(r.c.refund_id == str(refund_id))).first():
            return  # already counted (the hub's own refund, or a reconciled one)
        amount = _amount(data.get("amount"))
        if amount is None or amount <= 0:
            return
        cause = data.get("cause") if data.get("cause") in ("return", "cancel", "compensation") else "manual"
        row = {
            "key": _event_key(event_id),
            "order_id": str(m.order_id),
            "amount": amount,
            "cause": cause,
            "return_id": data.get("return_id"),
            "status": "done",
            "refund_id": str(refund_id)[:200] if refund_id else None,
            "reason": f"reported by {m.payload.get('source')}"[:500],
            "message": None,
            "created_at": now,
            "done_at": now,
        }
        if insert_or_ignore(conn, r, [row], ["key"]):
            log.info("refund_recorded", order_id=m.order_id, key=row["key"], amount=amount, cause=cause)

    @staticmethod
    def _key_of_act(conn: Connection, order_id: str, event_id: str) -> str | None:
        """The refund key an `act:` event id stands for (the ledger writes a digest for a long key)."""
        if not event_id.startswith(ACT_PREFIX):
            return None
        if not event_id.startswith(ACT_PREFIX + "h:"):
            return event_id[len(ACT_PREFIX) :]
        keys = conn.execute(sa.select(pt.refunds.c.key).where(pt.refunds.c.order_id == order_id)).scalars()
        return next((k for k in keys if act_event_id("act", k) == event_id), None)

    def _failed(self, conn: Connection, data: dict[str, Any]) -> None:
        key = str(data.get("key") or "")
        if not key:
            return
        message = str(data.get("message") or "")[:500] or None
        r = pt.refunds
        failed = (
            sa.update(r)
            .where(r.c.key == key, r.c.status == "pending")
            .values(status="failed", message=message)
        )
        if conn.execute(failed).rowcount:
            log.warning("refund_failed", key=key)


def _when(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _event_key(event_id: str) -> str:
    """The refunds key of a refund someone else reported (by the event that told it)."""
    return f"refund:event:{event_id}"[:200]


def _default_reason(cause: str) -> str:
    return {
        "return": "반품 환불",
        "cancel": "주문 취소",
        "compensation": "보상 환불",
    }.get(cause, "환불")
