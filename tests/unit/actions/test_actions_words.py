"""Pure pieces of the actions work: FAQ answers rendered from the returns policy's facts, and the order
story's words for after-sales and outside-action events."""

from __future__ import annotations

from deliveryhub.chatbot import faq as faqmod
from deliveryhub.domain.returns import ReturnPolicy, policy_facts
from deliveryhub.views.story import event_detail


def test_the_faq_fee_answer_is_rendered_from_the_policy() -> None:
    entry = next(e for e in faqmod.load_file() if e.key == "return_fee")
    assert "{return_fee_free_shipping}" in entry.answer_ko  # the file holds placeholders, not amounts
    default = faqmod.rendered(entry, policy_facts(ReturnPolicy()))
    assert "6,000원" in default.answer_ko and "3,000원" in default.answer_ko
    assert "6,000 won" in default.answer_en and "3,000 won" in default.answer_en
    shop = faqmod.rendered(entry, policy_facts(ReturnPolicy(fee_change_of_mind_free_shipping=5000)))
    assert "5,000원" in shop.answer_ko and "6,000원 " not in shop.answer_ko.replace("{", "")
    window = next(e for e in faqmod.load_file() if e.key == "return_window")
    assert "14일" in faqmod.rendered(window, policy_facts(ReturnPolicy(window_days=14))).answer_ko


def test_unknown_placeholders_and_edited_braces_are_left_alone() -> None:
    facts = {"return_fee_free_shipping": "6,000원"}
    assert faqmod.render("비용 {nope} {return_fee_free_shipping} {x y}", facts) == "비용 {nope} 6,000원 {x y}"


def test_event_detail_tells_outside_actions_and_returns_in_words() -> None:
    done = {"type": "action.completed", "data": {"system": "fulfilment", "action": "release_reservation"}}
    assert event_detail(done, "ko") == "재고 할당 해제 · 물류(WMS·TMS)"
    failed = {
        "type": "action.failed",
        "data": {"system": "payments", "action": "refund", "message": "already canceled"},
    }
    assert event_detail(failed, "en") == "Refund · Payments · already canceled"
    opened = {
        "type": "return.requested",
        "data": {"reason_code": "damaged", "fee": 0, "fee_payer": "shop", "return_id": "RT-1"},
    }
    assert event_detail(opened, "ko") == "파손 · 판매자 부담"
    mind = {
        "type": "return.requested",
        "data": {"reason_code": "change_of_mind", "fee": 6000, "fee_payer": "customer"},
    }
    assert event_detail(mind, "ko") == "단순 변심 · 6,000원 고객 부담"
    refunded = {"type": "return.refunded", "data": {"amount": 53000, "return_id": "RT-1"}}
    assert event_detail(refunded, "en") == "53,000 won · RT-1"
    assert event_detail({"type": "order.cancelled"}, "ko") == ""
