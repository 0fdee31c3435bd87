"""Order actions shared by the API, the CS desk and the chatbot: each checks the order's state and
records a canonical event through the one ingest path (so projections, outbox and notices follow).

Returns and exchanges go through the returns desk (`core.returns`), which decides eligibility and the fee
from the configured policy; an address is normalised and confirmed before it is applied; a cancellation
speaks of a refund only when something was paid (`core.refunds`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.address import AddressCheck, check_address, confirm_text
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.domain.order import Order
from deliveryhub.kernel.korean import attach
from deliveryhub.service_layer.ports import NormalisedAddress, ReturnAsk, ReturnDecision

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

HANDOVER_RANK = STAGE_RANK["handed_over"]
# What resends a notice: (order id, actor) -> (state, job id); state ok, missing, closed or nothing.
Problem = tuple[str, str, str]  # (code, Korean, English)
NoticeResender = Callable[[str, str], tuple[str, "int | None"]]


@dataclass
class CommandResult:
    """Outcome of an order action, with the customer-facing explanation in Korean and English; `data`
    carries the action's facts (return id and fee, the normalised address to confirm, problems)."""

    ok: bool
    code: str
    message_ko: str
    message_en: str
    event_ids: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            **self.data,
            "ok": self.ok,
            "code": self.code,
            "message_ko": self.message_ko,
            "message_en": self.message_en,
            "event_ids": self.event_ids,
        }


def _order(core: Core, order_id: str) -> Order | None:
    with core.db.read() as conn:
        return load_order(conn, order_id)


def _source(actor: str) -> str:
    return "chatbot" if actor == "chatbot" else "cs"


def _emit(
    core: Core, order_id: str, kind: str, data: dict[str, Any], actor: str, done: CommandResult
) -> CommandResult:
    """Record the action's event through ingest; `done` (with the event id) when it was accepted."""
    event_id = f"{_source(actor)}:{kind}:{uuid.uuid4().hex}"
    raw = {
        "event_id": event_id,
        "source": _source(actor),
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


def _won(amount: int) -> str:
    return f"{amount:,}원"


def cancel_order(core: Core, order_id: str, reason: str | None = None, actor: str = "cs") -> CommandResult:
    """Cancel an order that has not been handed to the carrier yet; the refund is promised only when
    something was paid (the effects feature releases the stock and asks for the refund)."""
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
    with core.db.read() as conn:
        paid = int(core.refunds.refundable(conn, order_id) or 0)
    if paid > 0:
        done = CommandResult(
            True,
            "cancelled",
            f"주문이 취소되었어요. 결제하신 {_won(paid)}은 결제하신 수단으로 환불해 드려요. "
            "환불이 끝나면 다시 알려 드릴게요.",
            f"Your order is cancelled; the {paid:,} won you paid is being refunded to your payment "
            "method, and we will tell you when it is done.",
            data={"refund_amount": paid},
        )
    else:
        done = CommandResult(
            True, "cancelled", "주문이 취소되었어요.", "Your order is cancelled.", data={"refund_amount": 0}
        )
    return _emit(core, order_id, "order.cancelled", {"reason": reason or "customer request"}, actor, done)


# ------------------------------------------------------------------------------------------- addresses
def _address_text(address: Mapping[str, Any] | str) -> str:
    if isinstance(address, str):
        return address.strip()
    parts = [str(address.get(k) or "").strip() for k in ("zip", "line1", "line2")]
    return " ".join(p for p in parts if p)


def _flags_note(addr: NormalisedAddress) -> tuple[str, str]:
    """The extra-shipping note for Jeju or a remote island ('' when neither)."""
    if addr.jeju:
        return (
            "제주 지역이라 추가 배송비가 붙고 하루 이틀 더 걸릴 수 있어요.",
            "This is on Jeju: an extra shipping fee applies and delivery may take a day or two longer.",
        )
    if addr.remote:
        return (
            "도서산간 지역이라 추가 배송비가 붙고 하루 이틀 더 걸릴 수 있어요.",
            "This is a remote/island area: an extra shipping fee applies and delivery may take longer.",
        )
    return "", ""


def address_view(addr: NormalisedAddress) -> dict[str, Any]:
    """A normalised address as the confirm step shows it (JSON)."""
    note_ko, note_en = _flags_note(addr)
    return {
        "zip": addr.zip,
        "line1": addr.line1,
        "line2": addr.line2,
        "jeju": addr.jeju,
        "remote": addr.remote,
        "extra_shipping": addr.jeju or addr.remote,
        "note_ko": note_ko,
        "note_en": note_en,
        "source": addr.source,
    }


def address_text(addr: Mapping[str, Any]) -> str:
    """One line people read: "[06236] 서울특별시 강남구 테헤란로 152, 101동 1203호"."""
    line = str(addr.get("line1") or "")
    if addr.get("line2"):
        line += f", {addr['line2']}"
    return f"[{addr.get('zip')}] {line}" if addr.get("zip") else line


def _lookup_query(checked: AddressCheck, address: Mapping[str, Any] | str) -> str:
    """What to ask the 도로명주소 search: the road line the check read, else what was given."""
    parts = (checked.sido, checked.sigungu, checked.road, checked.building_no)
    if checked.road and checked.building_no:
        return " ".join(p for p in parts if p)
    if isinstance(address, str):
        return address.strip()
    return " ".join(str(address.get(k) or "").strip() for k in ("line1",)).strip()


def normalise_address(
    core: Core, address: Mapping[str, Any] | str
) -> tuple[NormalisedAddress | None, list[Problem]]:
    """The address in the hub's shape, through the format check (domain/address.py) and, when it
    answers, the 도로명주소 lookup (`core.address_book`); (address or None, problems (code, ko, en))."""
    if isinstance(address, str):
        checked = check_address(address)
    else:
        checked = check_address(
            zip_code=str(address.get("zip") or "") or None,
            line1=str(address.get("line1") or "") or None,
            line2=str(address.get("line2") or "") or None,
        )
    problems: list[Problem] = [(str(p[0]), str(p[1]), str(p[2])) for p in checked.problems]
    query = _lookup_query(checked, address)
    found: list[NormalisedAddress] = []
    if query:
        try:
            found = list(core.address_book.lookup(query) or [])
        except (OSError, ValueError):
            found = []
    if found:
        hit = found[0]
        given_line2 = "" if isinstance(address, str) else str(address.get("line2") or "")
        read = checked.address.line2 if checked.address is not None else checked.detail
        line2 = read or given_line2 or hit.line2
        # The road-name search found it: what the format check could not read (a zip) no longer matters.
        return replace(hit, line2=line2), []
    if not checked.ok or checked.address is None:
        return None, problems
    return checked.address, problems


def change_address(
    core: Core,
    order_id: str,
    address: Mapping[str, Any] | str,
    actor: str = "cs",
    confirm: bool = False,
) -> CommandResult:
    """Change the delivery address before handover, in two steps: without `confirm` the answer carries
    the normalised address (code `confirm_address`) for the customer or agent to confirm; with it the
    normalised address is recorded as order.address_changed."""
    order = _order(core, order_id)
    if order is None:
        return _not_found(order_id)
    if order.stage_rank >= HANDOVER_RANK or order.stage == "cancelled":
        why_ko = "이미 취소된 주문이라" if order.stage == "cancelled" else "이미 택배사에 인계되어"
        why_en = "The order is cancelled" if order.stage == "cancelled" else "The parcel is with the carrier"
        return CommandResult(
            False,
            "too_late",
            f"{why_ko} 배송지를 바꿀 수 없어요. 택배사에 직접 요청하시거나 상담원을 연결해 드릴게요.",
            f"{why_en}, so the address can no longer be changed here.",
            data={"stage": order.stage},
        )
    if not _address_text(address):
        return CommandResult(
            False,
            "invalid",
            "새 주소를 알려주세요.",
            "Please give the new address.",
            data={"field": "address"},
        )
    addr, problems = normalise_address(core, address)
    listed = [{"code": p[0], "message_ko": p[1], "message_en": p[2]} for p in problems]
    if addr is None:
        ko = (
            " ".join(p[1] for p in problems)
            or "주소를 읽지 못했어요. 우편번호 5자리와 도로명 주소를 적어 주세요."
        )
        en = " ".join(p[2] for p in problems) or "The address could not be read; give the postcode and road."
        return CommandResult(
            False,
            "address_invalid",
            f"새 배송지를 확인하지 못했어요. {ko}",
            f"The new address could not be confirmed. {en}",
            data={"problems": listed, "field": "address"},
        )
    view = address_view(addr)
    shown = address_text(view)
    if not confirm:
        said_ko, said_en = confirm_text(addr)
        return CommandResult(
            True,
            "confirm_address",
            f"새 배송지를 이렇게 확인했어요: {said_ko} 이 주소로 변경할까요? (네/아니요)",
            f"I read the new address as: {said_en}. Change the delivery address to this? (yes/no)",
            data={"address": view, "problems": listed},
        )
    done = CommandResult(
        True,
        "address_changed",
        f"배송지를 변경했어요: {shown}",
        f"The delivery address is now {shown}.",
        data={"address": view},
    )
    return _emit(core, order_id, "order.address_changed", {"address": addr.as_event_address()}, actor, done)


# ------------------------------------------------------------------------------- returns and exchanges
def _from_decision(dec: ReturnDecision) -> CommandResult:
    data: dict[str, Any] = {"fee": dec.fee, "fee_payer": dec.fee_payer}
    if dec.return_id:
        data["return_id"] = dec.return_id
    if dec.status:
        data["status"] = dec.status
    return CommandResult(dec.ok, dec.code, dec.message_ko, dec.message_en, list(dec.event_ids), data)


def _not_returnable(core: Core, order_id: str) -> CommandResult | None:
    """Why no return or exchange can be opened for the order (unknown, or not shipped yet), or None."""
    order = _order(core, order_id)
    if order is None:
        return _not_found(order_id)
    if order.stage_rank < HANDOVER_RANK and order.stage != "cancelled":
        return CommandResult(
            False,
            "not_shipped",
            "아직 출고 전이라 반품 대신 바로 취소할 수 있어요.",
            "The order has not shipped yet; it can be cancelled instead.",
        )
    return None


def quote_return(
    core: Core, order_id: str, reason_code: str | None, kind: Literal["return", "exchange"] = "return"
) -> CommandResult:
    """What opening a return or exchange would answer (eligibility, fee, who pays), opening nothing."""
    early = _not_returnable(core, order_id)
    if early is not None:
        return early
    return _from_decision(core.returns.quote(order_id, reason_code, kind))


def request_return(
    core: Core,
    order_id: str,
    reason: str | None = None,
    items: list[Any] | None = None,
    actor: str = "cs",
    reason_code: str | None = None,
    photo_ids: tuple[str, ...] = (),
    kind: Literal["return", "exchange"] = "return",
) -> CommandResult:
    """Open a return (or, with ``kind="exchange"``, an exchange) for a handed-over or delivered order
    through the returns desk (eligibility and the fee from the configured policy; the pickup is booked by
    the workflow)."""
    early = _not_returnable(core, order_id)
    if early is not None:
        return early
    ask = ReturnAsk(order_id, kind, reason, reason_code, list(items or []), actor, tuple(photo_ids))
    return _from_decision(core.returns.open(ask))


# ------------------------------------------------------------------------------------------- notices
def resend_notice(
    core: Core, order_id: str, resend: NoticeResender | None, actor: str = "cs"
) -> CommandResult:
    """Send the customer the order's latest notice again (it carries a fresh tracking link); `resend`
    is the notifications feature's resender (None on a hub without notifications)."""
    if resend is None:
        return CommandResult(
            False, "unavailable", "알림 기능이 꺼져 있어 다시 보낼 수 없어요.", "Notices are off on this hub."
        )
    state, job_id = resend(order_id, actor)
    if state == "missing":
        return _not_found(order_id)
    if state == "closed":
        return CommandResult(
            False,
            "links_closed",
            "취소되었거나 정보가 삭제된 주문이라 안내를 다시 보낼 수 없어요.",
            "The order is cancelled or its data erased; its notices cannot be sent again.",
        )
    if state == "nothing":
        return CommandResult(
            False,
            "no_notice",
            "아직 고객에게 보낸 안내가 없어 다시 보낼 수 없어요.",
            "The customer has not been sent any notice for this order yet.",
        )
    return CommandResult(
        True,
        "notice_resent",
        "최근 안내를 고객에게 다시 보냈어요.",
        "The latest notice is queued to the customer again.",
        data={"job_id": job_id},
    )


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
