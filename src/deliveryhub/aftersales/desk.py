"""`core.returns`: quote, open, receive and inspect returns and exchanges, the same for the bot, the desk
and the API. Each records its event through ingest (event ids deterministic from the return id, so a
retry is a duplicate) and then applies it at once, so the answer shows the new state; the aftersales
consumer applies the same event again later and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from deliveryhub.aftersales import store
from deliveryhub.aftersales.workflow import Workflow
from deliveryhub.domain.returns import (
    REASON_CODES,
    STATUS_RANK,
    Eligibility,
    ReturnPolicy,
    assess,
    classify_reason,
    select_items,
    shipping_paid,
)
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.korean import attach
from deliveryhub.pii.dlp import mask_text
from deliveryhub.service_layer.ports import ReturnAsk, ReturnDecision

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

_WHAT = {"return": ("반품", "return"), "exchange": ("교환", "exchange")}


def source_of(actor: str) -> str:
    """The event source an actor's request is recorded under: chatbot, a marketplace, else cs."""
    if actor == "chatbot":
        return "chatbot"
    market = store.marketplace_of(actor)
    return market or "cs"


def _fail(code: str, ko: str, en: str, **kw: Any) -> ReturnDecision:
    return ReturnDecision(False, code, ko, en, **kw)


class Desk:
    """The returns desk (implements the ReturnsDesk port)."""

    def __init__(
        self,
        core: Core,
        workflow: Workflow,
        policy: Callable[[], ReturnPolicy],
        calendar: Callable[[], BusinessCalendar],
    ) -> None:
        self.core = core
        self.workflow = workflow
        self.policy = policy
        self.calendar = calendar

    # ------------------------------------------------------------ quote / open
    def _assess(self, facts: store.OrderFacts, kind: str, code: str) -> Eligibility:
        policy = self.policy()
        return assess(
            policy,
            kind=kind,
            reason_code=code,
            delivered_at=facts.delivered_at,
            handed_over_at=facts.handed_over_at,
            now=self.core.clock.now(),
            shipping_paid=shipping_paid(policy, facts.data),
            calendar=self.calendar(),
        )

    def _check_order(self, facts: store.OrderFacts, order_id: str) -> ReturnDecision | None:
        if facts.order is None:
            return _fail(
                "not_found",
                f"주문번호 {attach(order_id, '을/를')} 찾을 수 없어요.",
                f"Order {order_id} not found.",
            )
        if facts.order.cancelled_at is not None or facts.order.stage == "cancelled":
            return _fail(
                "cancelled", "취소된 주문이라 반품·교환을 신청할 수 없어요.", "The order is cancelled."
            )
        return None

    def quote(self, order_id: str, reason_code: str | None, kind: str = "return") -> ReturnDecision:
        """What opening would answer (eligibility, fee, who pays), without opening anything."""
        if kind not in _WHAT:
            return _fail("invalid", "반품 또는 교환 중에서 골라 주세요.", "kind must be return or exchange")
        code = reason_code if reason_code in REASON_CODES else "other"
        with self.core.db.read() as conn:
            facts = store.order_facts(conn, order_id)
        problem = self._check_order(facts, order_id)
        if problem is not None:
            return problem
        e = self._assess(facts, kind, code)
        return ReturnDecision(
            e.ok, e.code, e.message_ko, e.message_en, fee=e.fee, fee_payer=e.fee_payer if e.ok else None
        )

    def open(self, ask: ReturnAsk) -> ReturnDecision:
        """Check eligibility, record return.requested / exchange.requested and queue the pickup."""
        kind = ask.kind
        if kind not in _WHAT:
            return _fail("invalid", "반품 또는 교환 중에서 골라 주세요.", "kind must be return or exchange")
        code = ask.reason_code or classify_reason(ask.reason)
        if code not in REASON_CODES:
            return _fail(
                "invalid",
                "반품 사유를 알 수 없어요.",
                f"reason_code must be one of {', '.join(REASON_CODES)}",
            )
        with self.core.db.read() as conn:
            facts = store.order_facts(conn, ask.order_id)
            existing = store.open_for_order(conn, ask.order_id)
        problem = self._check_order(facts, ask.order_id)
        if problem is not None:
            return problem
        ko, en = _WHAT[kind]
        if existing is not None:
            eko, een = _WHAT.get(str(existing.kind), _WHAT["return"])
            return ReturnDecision(
                True,
                "already_open",
                f"이미 접수된 {eko} 건이 있어요(접수번호 {existing.return_id}). 진행 상황을 알려 드릴게요.",
                f"There is already an open {een} for this order ({existing.return_id}).",
                return_id=str(existing.return_id),
                status=str(existing.status),
                fee=int(existing.fee or 0),
                fee_payer=existing.fee_payer,
            )
        e = self._assess(facts, kind, code)
        if not e.ok:
            return _fail(e.code, e.message_ko, e.message_en)
        items = select_items(facts.data.get("items"), list(ask.items or []))
        if ask.items and not items:
            return _fail(
                "invalid",
                "반품할 상품을 주문에서 찾을 수 없어요. 상품 코드를 확인해 주세요.",
                "items: none of the named items is in the order",
            )
        rid = store.new_return_id(kind)
        source = source_of(ask.actor)
        data: dict[str, Any] = {
            "return_id": rid,
            "reason_code": code,
            "fee": e.fee,
            "fee_payer": e.fee_payer,
            "items": [_item(i) for i in items],
            "reason": (ask.reason or "")[:2000] or None,
        }
        raw = self._event(f"{kind}:{rid}", source, f"{kind}.requested", ask.order_id, data, ask.actor)
        rejected = self._record(raw)
        if rejected is not None:
            return rejected
        with self.core.db.write() as conn:
            self.workflow.apply(conn, _as_stored(raw, ask.actor))
        fee_ko = e.message_ko
        return ReturnDecision(
            True,
            "opened",
            f"{ko} 신청이 접수되었어요(접수번호 {rid}). {fee_ko} 회수 일정이 잡히면 바로 알려 드릴게요.",
            f"Your {en} request is in ({rid}). {e.message_en} We will tell you as soon as the pickup "
            "is booked.",
            return_id=rid,
            status="requested",
            fee=e.fee,
            fee_payer=e.fee_payer,
            event_ids=(str(raw["event_id"]),),
        )

    # ------------------------------------------------------------ desk steps
    def receive(self, return_id: str, actor: str) -> ReturnDecision:
        """The goods came back to the warehouse (desk or WMS): record return.received."""
        with self.core.db.read() as conn:
            row = store.get(conn, return_id)
        if row is None:
            return _not_found(return_id)
        if STATUS_RANK[str(row.status)] >= STATUS_RANK["received"]:
            return _state(row, True, "already_received", "이미 입고 처리된 건이에요.", "Already received.")
        raw = self._event(
            f"received:{return_id}",
            "cs",
            "return.received",
            str(row.order_id),
            {"return_id": return_id, "tracking_no": row.return_tracking_no},
            actor,
        )
        return self._record_and_apply(raw, return_id, actor, "입고 처리되었어요.", "Marked as received.")

    def inspect(
        self,
        return_id: str,
        result: Literal["pass", "fail"],
        note: str | None,
        actor: str,
        photo_id: str | None = None,
    ) -> ReturnDecision:
        """Record the inspection; a pass refunds a return (or reships an exchange), a fail waits for ops."""
        if result not in ("pass", "fail"):
            return _fail("invalid", "검수 결과는 합격 또는 불합격이어야 해요.", "result must be pass or fail")
        with self.core.db.read() as conn:
            row = store.get(conn, return_id)
        if row is None:
            return _not_found(return_id)
        if row.inspection_result is not None:
            same = row.inspection_result == result
            return _state(
                row,
                same,
                "already_inspected",
                f"이미 검수된 건이에요(결과: {'합격' if row.inspection_result == 'pass' else '불합격'}).",
                f"Already inspected ({row.inspection_result}).",
            )
        if STATUS_RANK[str(row.status)] < STATUS_RANK["picked_up"]:
            return _state(
                row,
                False,
                "not_received",
                "아직 상품이 회수되지 않아 검수할 수 없어요.",
                "The goods have not been collected yet, so they cannot be inspected.",
            )
        data = {
            "return_id": return_id,
            "result": result,
            "note": (note or "")[:2000] or None,
            "photo_id": photo_id,
        }
        raw = self._event(f"inspected:{return_id}", "cs", "return.inspected", str(row.order_id), data, actor)
        if result == "pass" and row.kind == "exchange":
            ko, en = (
                "검수 합격으로 처리했어요. 교환 상품을 보내 드릴게요.",
                "Passed inspection; the exchange ships next.",
            )
        elif result == "pass" and store.marketplace_of(row.via) is not None:
            ko = "검수 합격으로 처리했어요. 환불은 마켓에서 진행돼요."
            en = "Passed inspection; the marketplace refunds the buyer."
        elif result == "pass":
            ko, en = (
                "검수 합격으로 처리했어요. 환불을 진행할게요.",
                "Passed inspection; the refund is on its way.",
            )
        else:
            ko, en = (
                "검수 불합격으로 처리했어요. 운영 담당자가 확인할게요.",
                "Failed inspection; operations will follow up.",
            )
        return self._record_and_apply(raw, return_id, actor, ko, en)

    # ------------------------------------------------------------ helpers
    def _event(
        self, event_id: str, source: str, type_: str, order_id: str, data: Mapping[str, Any], actor: str
    ) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "source": source,
            "type": type_,
            "occurred_at": self.core.clock.now().isoformat(),
            "order_id": order_id,
            "data": dict(data),
            "manual": actor != "chatbot",
        }

    def _record(self, raw: dict[str, Any]) -> ReturnDecision | None:
        """Ingest the event; None when stored (or already stored), else the refusal."""
        result = self.core.ingest.ingest([raw])[0]
        if result.status in ("accepted", "duplicate"):
            return None
        msg = str((result.error or {}).get("message") or "rejected")
        return _fail("invalid", f"요청을 처리하지 못했어요: {msg}", f"Could not process: {msg}")

    def _record_and_apply(
        self, raw: dict[str, Any], return_id: str, actor: str, ko: str, en: str
    ) -> ReturnDecision:
        rejected = self._record(raw)
        if rejected is not None:
            return rejected
        with self.core.db.write() as conn:
            self.workflow.apply(conn, _as_stored(raw, actor))
            row = store.get(conn, return_id)
        assert row is not None
        return _state(row, True, "ok", ko, en, event_ids=(str(raw["event_id"]),))


def _as_stored(raw: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """The event as the consumer will see it (free text DLP-masked), plus who acted."""
    data = dict(raw["data"])
    for name in ("reason", "note"):
        if data.get(name):
            data[name] = mask_text(str(data[name]))
    return {**raw, "data": {**data, "actor": actor}}


def _item(item: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in ("sku", "qty", "price", "name") if item.get(k) is not None}
    out.setdefault("qty", 1)
    return out


def _not_found(return_id: str) -> ReturnDecision:
    return _fail(
        "not_found", f"접수번호 {attach(return_id, '을/를')} 찾을 수 없어요.", f"No return {return_id}."
    )


def _state(row: Any, ok: bool, code: str, ko: str, en: str, **kw: Any) -> ReturnDecision:
    return ReturnDecision(
        ok,
        code,
        ko,
        en,
        return_id=str(row.return_id),
        status=str(row.status),
        fee=int(row.fee or 0),
        fee_payer=row.fee_payer,
        **kw,
    )
