"""The chatbot acts through the same commands: an address is shown normalised and applied only on yes;
a return is quoted from the returns policy (day-8 change of mind refused with the reason and the defect
route offered, damage accepted at the shop's cost), and the quoted fee is the FAQ's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from actions_kit import keyword_classifier, seed_orders
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.dialogue import ChatService
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import make_hub

KST = ZoneInfo("Asia/Seoul")
PACKED = "ORD-2026-000801"
DELIVERED = "ORD-2026-000802"
CUSTOMER = {"name": "이서준", "phone": "010-4444-7788"}

RULES = [
    (r"상담원|agent", "human_agent", 0.99, True),
    (r"배송지", "change_address", 0.95, False),
    (r"반품", "return_request", 0.95, False),
    (r"교환", "exchange_request", 0.95, False),
    (r"깨져", "damaged_item", 0.95, False),
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=KST))


@pytest.fixture
def hub(tmp_path: Path, master_key: str, clock: ManualClock) -> Iterator[Any]:
    h = make_hub(tmp_path, master_key, clock=clock)
    item = {"sku": "SKU-LAMP", "qty": 1, "price": 42000}
    seed_orders(h, CUSTOMER, item, packed=PACKED, delivered=(DELIVERED, "600100200401"))
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def chat(hub: Any) -> ChatService:
    return ChatService(hub, hub.chat.desk, hub.chat.config, classify=keyword_classifier(RULES))


def _types(hub: Any, order_id: str) -> list[str]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.inbox.c.type).where(t.inbox.c.order_id == order_id)).scalars())


def _verified(chat: ChatService, first: str) -> tuple[str, str]:
    sid = chat.new_session()["session_id"]
    chat.post(sid, first)
    turn = chat.post(sid, "7788")
    return sid, turn.reply or ""


def test_the_address_is_shown_normalised_and_applied_only_on_yes(chat: ChatService, hub: Any) -> None:
    sid, asked = _verified(chat, f"{PACKED} 배송지 바꾸고 싶어요")
    assert "새 배송지" in asked
    shown = chat.post(sid, "서울 강남구 테헤란로 152 강남파이낸스센터 10층 06236").reply or ""
    assert "[06236] 서울특별시 강남구 테헤란로 152, 강남파이낸스센터 10층" in shown
    assert "이 주소로 변경할까요? (네/아니요)" in shown
    assert "order.address_changed" not in _types(hub, PACKED)
    with hub.db.read() as conn:
        pending = conn.execute(
            sa.select(ct.chat_sessions.c.pending).where(ct.chat_sessions.c.session_id == sid)
        ).scalar_one()
    assert "테헤란로" not in str(pending)  # the address waits encrypted, never in the clear
    done = chat.post(sid, "네").reply or ""
    assert "배송지를 변경했어요" in done
    assert _types(hub, PACKED).count("order.address_changed") == 1


def test_no_keeps_the_address_and_problems_are_named(chat: ChatService, hub: Any) -> None:
    sid, _ = _verified(chat, f"{PACKED} 배송지 변경")
    missing_zip = chat.post(sid, "서울 강남구 테헤란로 152").reply or ""
    assert "우편번호" in missing_zip and "변경할까요" not in missing_zip
    jeju = chat.post(sid, "63309 제주 제주시 첨단로 242").reply or ""  # asked again: the new try is read
    assert "[63309]" in jeju and "추가 배송비" in jeju
    kept = chat.post(sid, "아니요").reply or ""
    assert "그대로" in kept
    assert "order.address_changed" not in _types(hub, PACKED)


def test_day_8_change_of_mind_is_refused_and_damage_is_accepted_at_the_shops_cost(
    chat: ChatService, hub: Any, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 20, 11, 0, tzinfo=KST))  # delivered 12 Nov: day 8
    sid, refused = _verified(chat, f"{DELIVERED} 반품하고 싶어요 단순 변심이에요")
    assert "7일" in refused and "반품을 접수할까요" not in refused
    assert "파손" in refused  # the defect route is offered
    assert "return.requested" not in _types(hub, DELIVERED)
    quote = chat.post(sid, "사실 받았을 때 상자가 찌그러지고 파손돼 있었어요").reply or ""
    assert "저희가 부담" in quote and "반품을 접수할까요? (네/아니요)" in quote
    opened = chat.post(sid, "네").reply or ""
    assert "접수되었어요" in opened
    assert _types(hub, DELIVERED).count("return.requested") == 1


def test_the_quoted_fee_is_the_faqs(chat: ChatService, hub: Any, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 14, 11, 0, tzinfo=KST))  # day 2
    sid, asked = _verified(chat, f"{DELIVERED} 반품 신청할게요")
    assert "사유" in asked  # no reason given: asked before any quote
    quote = chat.post(sid, "마음이 바뀌었어요").reply or ""
    fee = re.search(r"\d{1,3}(?:,\d{3})*원", quote)
    assert fee is not None and fee.group(0) == "6,000원", quote
    faq = next(e for e in chat.faq_entries() if e.key == "return_fee")
    assert fee.group(0) in faq.answer_ko and "3,000원" in faq.answer_ko
    assert "{" not in faq.answer_ko and "6,000 won" in faq.answer_en
    assert "return.requested" not in _types(hub, DELIVERED)  # a quote opens nothing
    chat.post(sid, "아니요")
    assert "return.requested" not in _types(hub, DELIVERED)


def test_an_exchange_is_quoted_and_opened_on_yes(chat: ChatService, hub: Any, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 14, 11, 0, tzinfo=KST))  # day 2
    sid, quote = _verified(chat, f"{DELIVERED} 교환하고 싶어요 사이즈가 안 맞아요")
    assert "교환" in quote and "6,000원" in quote and "교환을 접수할까요? (네/아니요)" in quote
    assert "exchange.requested" not in _types(hub, DELIVERED)
    opened = chat.post(sid, "네").reply or ""
    assert "교환 신청이 접수되었어요" in opened
    assert _types(hub, DELIVERED).count("exchange.requested") == 1


def test_a_damage_claims_refund_remedy_opens_a_return_at_the_shops_cost(
    chat: ChatService, hub: Any, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 12, 2, 11, 0, tzinfo=KST))  # day 20: past the change-of-mind window
    sid, asked = _verified(chat, f"{DELIVERED} 상품이 깨져서 왔어요")
    assert "1) 교환" in asked and "2) 환불" in asked
    opened = chat.post(sid, "2").reply or ""
    assert "반품 신청이 접수되었어요" in opened and "저희가 부담" in opened
    assert _types(hub, DELIVERED).count("return.requested") == 1
