"""Order actions shared by the API, the CS desk and the chatbot: each checks the order's state and
records a canonical event through the one ingest path (so projections, outbox and notices follow)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.domain.order import Order
from deliveryhub.kernel.korean import attach

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

HANDOVER_RANK = STAGE_RANK["handed_over"]


@dataclass
class CommandResult:
    """Outcome of an order action, with the customer-facing explanation in Korean and English."""

    ok: bool
    code: str
    message_ko: str
    message_en: str
    event_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "ok": self.ok,
            "code": self.code,
            "message_ko": self.message_ko,
            "message_en": self.message_en,
            "event_ids": self.event_ids,
        }


def _order(core: Core, order_id: str) -> Order | None:
    with core.db.read() as conn:
        return load_order(conn, order_id)


def _emit(
    core: Core, order_id: str, kind: str, data: dict[str, Any], actor: str, done: CommandResult
) -> CommandResult:
    """Record the action's event through ingest; `done` (with the event id) when it was accepted."""
    event_id = f"{actor}:{kind}:{uuid.uuid4().hex}"
    raw = {
        "event_id": event_id,
        "source": "chatbot" if actor == "chatbot" else "cs",
        "type": kind,
        "occurred_at": core.clock.now().isoformat(),
        "order_id": order_id,
        "data": data,
        "manual": actor != "chatbot",
    }
    result = core.ingest.ingest([raw])[0]
    if result.status != "accepted":
        msg = (result.error or {}).get("message", "rejected")
        return CommandResult(
            False, "invalid", f"요청을 처리하지 못했어요: {msg}", f"Could not process: {msg}"
        )
    done.event_ids.append(event_id)
    return done


def _not_found(order_id: str) -> CommandResult:
    said = f"주문번호 {attach(order_id, '을/를')} 찾을 수 없어요."
    return CommandResult(False, "not_found", said, f"Order {order_id} not found.")


def cancel_order(core: Core, order_id: str, reason: str | None = None, actor: str = "cs") -> CommandResult:
    """Cancel an order that has not been handed to the carrier yet."""
    order = _order(core, order_id)
    if order is None:
        return _not_found(order_id)
    if order.stage == "cancelled":
        return CommandResult(
            True, "already_cancelled", "이미 취소된 주문이에요.", "The order is already cancelled."
        )
    if order.stage_rank >= HANDOVER_RANK:
        return CommandResult(
            False,
            "already_shipped",
            "이미 택배사에 인계되어 취소할 수 없어요. 받으신 뒤 반품 신청을 도와드릴게요.",
            "The parcel is already with the carrier, so it cannot be cancelled; we can "
            "start a return once it arrives.",
        )
    done = CommandResult(
        True,
        "cancelled",
        "주문이 취소되었어요. 결제하신 금액은 영업일 기준 3~5일 안에 환불돼요.",
        "Your order is cancelled; the payment is refunded within 3-5 business days.",
    )
    return _emit(core, order_id, "order.cancelled", {"reason": reason or "customer request"}, actor, done)


def change_address(core: Core, order_id: str, address: dict[str, Any], actor: str = "cs") -> CommandResult:
    """Change the delivery address before handover."""
    order = _order(core, order_id)
    if order is None:
        return _not_found(order_id)
    if order.stage_rank >= HANDOVER_RANK or order.stage == "cancelled":
        return CommandResult(
            False,
            "too_late",
            "이미 출고되어 배송지를 바꿀 수 없어요. 택배사에 직접 요청하시거나 상담원을 연결해 드릴게요.",
            "The parcel has left the warehouse; the address can no longer be changed here.",
        )
    if not address.get("line1"):
        return CommandResult(False, "invalid", "새 주소를 알려주세요.", "Please give the new address.")
    done = CommandResult(
        True, "address_changed", "배송지가 변경되었어요.", "The delivery address was changed."
    )
    return _emit(core, order_id, "order.address_changed", {"address": address}, actor, done)


def request_return(
    core: Core, order_id: str, reason: str | None = None, items: list[Any] | None = None, actor: str = "cs"
) -> CommandResult:
    """Open a return for a delivered (or handed over) order."""
    order = _order(core, order_id)
    if order is None:
        return _not_found(order_id)
    if order.stage_rank < HANDOVER_RANK:
        return CommandResult(
            False,
            "not_shipped",
            "아직 출고 전이라 반품 대신 바로 취소할 수 있어요.",
            "The order has not shipped yet; it can be cancelled instead.",
        )
    done = CommandResult(
        True,
        "return_requested",
        "반품이 접수되었어요. 1~2일 안에 택배 기사님이 회수하러 방문해요. "
        "단순 변심은 왕복 배송비 6,000원이 들어요.",
        "Your return is registered; a courier picks it up within 1-2 days. Returns for a change "
        "of mind cost 6,000 won shipping.",
    )
    return _emit(core, order_id, "return.requested", {"reason": reason, "items": items or []}, actor, done)


def request_exchange(
    core: Core, order_id: str, reason: str | None = None, items: list[Any] | None = None, actor: str = "cs"
) -> CommandResult:
    """Open an exchange."""
    if _order(core, order_id) is None:
        return _not_found(order_id)
    done = CommandResult(
        True,
        "exchange_requested",
        "교환이 접수되었어요. 회수 후 새 상품을 보내드려요.",
        "Your exchange is registered; we ship the new item once the old one is collected.",
    )
    return _emit(core, order_id, "exchange.requested", {"reason": reason, "items": items or []}, actor, done)


CLAIM_KINDS = ("delay", "damage", "wrong_item", "missing", "other")


def open_claim(
    core: Core,
    order_id: str,
    kind: str,
    amount: float | None = None,
    note: str | None = None,
    actor: str = "cs",
) -> CommandResult:
    """Open a claim (delay, damage, wrong item, missing, other)."""
    if kind not in CLAIM_KINDS:
        return CommandResult(
            False, "invalid", "클레임 종류가 올바르지 않아요.", f"kind must be one of {CLAIM_KINDS}"
        )
    if _order(core, order_id) is None:
        return _not_found(order_id)
    data: dict[str, Any] = {"kind": kind}
    if amount is not None:
        data["amount"] = amount
    if note:
        data["note"] = note
    done = CommandResult(
        True,
        "claim_opened",
        "접수되었어요. 담당자가 확인 후 안내해 드릴게요.",
        "Your claim is registered; we will get back to you.",
    )
    return _emit(core, order_id, "claim.opened", data, actor, done)
