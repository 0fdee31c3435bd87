"""Toss Payments webhook (`PAYMENT_STATUS_CHANGED`): trusted only through a fresh look-up at Toss.

Toss signs no PAYMENT_STATUS_CHANGED body, so nothing in it is believed: the body only names a
paymentKey; the hub asks `GET /v1/payments/{paymentKey}` with its own secret key and acts on the Payment
object Toss answers:
- DONE (or already partly/wholly cancelled): the payment is recorded for the order Toss names (`orderId`)
  as an `order.paid` event (event id `toss:paid:<paymentKey>`, so every resend is a duplicate) unless the
  hub already knows that payment;
- PARTIAL_CANCELED / CANCELED: each cancel the hub did not start (made in the Toss dashboard, say) becomes a
  `payment.refunded` event with cause `manual` (event id `toss:cancel:<transactionKey>`), so refunds never
  count more than Toss gave back; a cancel still pending in the hub with the same amount is the hub's own;
- anything else (ABORTED, EXPIRED, WAITING_FOR_DEPOSIT, …), or a paymentKey Toss does not know (a forged or
  foreign webhook): answered 200 "ignored" with no effect, so Toss stops resending and nothing happens.
A body that is not a JSON object naming a paymentKey is refused (400); when Toss cannot be asked right now
the hub answers 503 so Toss sends the webhook again later (1, 4, 16 … minutes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.outside.toss import PAYMENT_KEY, PROVIDER, TossError, TossPayments
from deliveryhub.contracts.ids import id_problem
from deliveryhub.payments import tables as pt

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

MAX_BODY = 64 * 1024
SOURCE = "toss"
PAID_STATES = frozenset({"DONE", "PARTIAL_CANCELED", "CANCELED"})
# Toss's status -> the hub's word for the payment (payments.status).
STATUS = {"DONE": "paid", "PARTIAL_CANCELED": "partially_refunded", "CANCELED": "refunded"}


class WebhookRefused(Exception):
    """A webhook the hub will not take: HTTP status, a stable code, a Korean-first message, the field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class WebhookAnswer:
    """What the webhook did (the 200 body)."""

    status: str  # processed | ignored
    reason: str | None = None
    order_id: str | None = None
    payment_status: str | None = None
    recorded: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON answer."""
        out: dict[str, Any] = {"status": self.status}
        for name in ("reason", "order_id", "payment_status"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.recorded:
            out["recorded"] = list(self.recorded)
        return out


def _payment_key_of(body: bytes) -> tuple[str | None, str]:
    """(the paymentKey the body names or None when it is another event type, the event type)."""
    if len(body) > MAX_BODY:
        raise WebhookRefused(
            413, "body_too_large", f"본문이 너무 커요 (최대 {MAX_BODY} bytes). body too large"
        )
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused(400, "invalid_json", "본문이 JSON이 아니에요. body is not JSON") from None
    if not isinstance(parsed, dict):
        raise WebhookRefused(400, "invalid_body", "본문은 JSON 객체여야 해요. body must be a JSON object")
    event_type = parsed.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise WebhookRefused(400, "missing_field", "eventType이 없어요. eventType is required", "eventType")
    if event_type != "PAYMENT_STATUS_CHANGED":
        return None, event_type[:64]
    data = parsed.get("data")
    key = data.get("paymentKey") if isinstance(data, dict) else None
    if not isinstance(key, str) or not PAYMENT_KEY.match(key):
        raise WebhookRefused(
            400,
            "invalid_field",
            "data.paymentKey가 올바르지 않아요. data.paymentKey is missing or malformed",
            "data.paymentKey",
        )
    return key, event_type


def receive_toss(core: Core, toss: TossPayments | None, body: bytes) -> WebhookAnswer:
    """Handle one Toss webhook body: look the payment up at Toss and act on Toss's own answer only."""
    payment_key, event_type = _payment_key_of(body)
    if payment_key is None:
        return WebhookAnswer("ignored", reason=f"event type {event_type} is not handled")
    if toss is None:
        raise WebhookRefused(
            404,
            "not_configured",
            "이 상점은 토스페이먼츠가 설정되지 않았어요. Toss Payments is not configured",
        )
    try:
        payment = toss.get_payment(payment_key)
    except TossError as exc:
        log.warning("toss_webhook_lookup_failed", retryable=exc.retryable)
        raise WebhookRefused(
            503,
            "upstream_unavailable",
            "토스페이먼츠에 결제를 확인하지 못했어요. 잠시 후 다시 보내 주세요. "
            "could not confirm the payment with Toss; send again later",
        ) from None
    if payment is None or payment.get("paymentKey") not in (None, payment_key):
        log.warning("toss_webhook_unknown_payment")  # forged, another shop's, or a test webhook
        return WebhookAnswer("ignored", reason="unknown payment")
    order_id = payment.get("orderId")
    status = str(payment.get("status") or "")
    if not isinstance(order_id, str) or not order_id or id_problem(order_id) is not None:
        log.warning("toss_webhook_bad_order_id")
        return WebhookAnswer("ignored", reason="payment names no usable orderId", payment_status=status)
    if status not in PAID_STATES:
        return WebhookAnswer("ignored", reason=f"status {status}", order_id=order_id, payment_status=status)
    recorded = _record(core, payment_key, order_id, status, payment)
    log.info("toss_webhook_processed", order_id=order_id, status=status, recorded=len(recorded))
    return WebhookAnswer("processed", order_id=order_id, payment_status=status, recorded=tuple(recorded))


def _amount(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _record(
    core: Core, payment_key: str, order_id: str, status: str, payment: Mapping[str, Any]
) -> list[str]:
    """Ingest what the fetched payment says the hub does not know yet; the ids of the events sent."""
    events: list[dict[str, Any]] = []
    now = core.clock.now().isoformat()
    with core.db.read_latest() as conn:
        known = conn.execute(
            sa.select(pt.payments.c.payment_key).where(pt.payments.c.order_id == order_id)
        ).first()
        refunds = conn.execute(
            sa.select(pt.refunds.c.refund_id, pt.refunds.c.amount, pt.refunds.c.status).where(
                pt.refunds.c.order_id == order_id
            )
        ).all()
    if known is None or known.payment_key != payment_key:
        events.append(
            {
                "event_id": f"toss:paid:{payment_key}",
                "source": SOURCE,
                "type": "order.paid",
                "occurred_at": payment.get("approvedAt") or payment.get("requestedAt") or now,
                "order_id": order_id,
                "data": {
                    "amount": _amount(payment.get("totalAmount")),
                    "payment_key": payment_key,
                    "provider": PROVIDER,
                    **({"method": str(payment["method"])[:60]} if payment.get("method") else {}),
                },
            }
        )
    if status in ("PARTIAL_CANCELED", "CANCELED"):
        events += _manual_cancels(order_id, payment, refunds, now)
    if events:
        core.ingest.ingest(events, source_hint=SOURCE)
    with core.db.write() as conn:
        conn.execute(
            sa.update(pt.payments)
            .where(pt.payments.c.order_id == order_id, pt.payments.c.payment_key == payment_key)
            .values(
                status=STATUS[status],
                cancelled=max(0, _amount(payment.get("totalAmount")) - _amount(payment.get("balanceAmount"))),
                updated_at=core.clock.now(),
            )
        )
    return [e["event_id"] for e in events]


def _manual_cancels(
    order_id: str, payment: Mapping[str, Any], refunds: Sequence[Any], now: str
) -> list[dict[str, Any]]:
    """payment.refunded events for the cancels Toss made that the hub neither started nor recorded."""
    known_ids = {str(r.refund_id) for r in refunds if r.refund_id}
    pending = [int(r.amount) for r in refunds if r.status == "pending"]
    out: list[dict[str, Any]] = []
    for cancel in payment.get("cancels") or []:
        if not isinstance(cancel, Mapping):
            continue
        tx = cancel.get("transactionKey")
        amount = _amount(cancel.get("cancelAmount"))
        if not isinstance(tx, str) or not PAYMENT_KEY.match(tx) or amount <= 0 or tx in known_ids:
            continue
        if cancel.get("cancelStatus") not in (None, "DONE"):
            continue
        if amount in pending:  # the hub's own refund, its result not recorded yet
            pending.remove(amount)
            continue
        out.append(
            {
                "event_id": f"toss:cancel:{tx}",
                "source": SOURCE,
                "type": "payment.refunded",
                "occurred_at": cancel.get("canceledAt") or now,
                "order_id": order_id,
                "data": {"amount": amount, "refund_id": tx, "cause": "manual"},
            }
        )
    return out
