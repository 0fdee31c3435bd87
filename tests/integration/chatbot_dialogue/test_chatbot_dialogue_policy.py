"""Dialogue policy with a tiny deterministic stub classifier (the real NLU is exercised in e2e tests)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from actions_kit import keyword_classifier
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.dialogue import ChatService
from dh_testkit import order_created, waybill

OID = "ORD-2026-000123"

RULES = [
    (r"상담원|agent", "human_agent", 0.99, True),
    (r"사기|고소", "delivery_delay", 0.9, True),
    (r"취소|cancel", "cancel_order", 0.95, False),
    (r"배송지", "change_address", 0.95, False),
    (r"어디|언제|where", "track_order", 0.95, False),
    (r"파손", "damaged_item", 0.95, False),
    (r"^(네|yes)$", "other", 0.8, False),
]


@pytest.fixture
def chat(hub: Any) -> ChatService:
    hub.ingest.ingest(
        [
            order_created(
                "o1",
                OID,
                "2026-11-20T10:00:00+09:00",
                {"name": "홍길동", "phone": "010-1234-5678"},
                {"zip": "06236", "line1": "서울 강남구 테헤란로 1"},
                [{"sku": "SKU-RED", "qty": 1, "price": 30000}],
            ),
            waybill("o2", OID, "2026-11-21T10:00:00+09:00", "cj", "123456789012", shipment_id="S1"),
        ]
    )
    return ChatService(hub, hub.chat.desk, hub.chat.config, classify=keyword_classifier(RULES))


def test_asks_order_then_phone_and_never_reveals_before_verification(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    first = chat.post(sid, "배송 언제 와요?")
    assert "주문번호" in (first.reply or "")
    second = chat.post(sid, OID)
    assert "뒷자리" in (second.reply or "")
    wrong = chat.post(sid, "0000")
    for secret in ("123456789012", "테헤란로", "SKU-RED", "홍길동", "CJ대한통운", "출고"):
        for reply in (first.reply, second.reply, wrong.reply):
            assert secret not in (reply or "")
    assert "일치" in (wrong.reply or "")
    ok = chat.post(sid, "5678")
    assert "123456789012" in (ok.reply or "") and "CJ대한통운" in (ok.reply or "")


def test_phone_digits_are_not_stored_in_the_transcript(chat: ChatService, hub: Any) -> None:
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{OID} 어디쯤이에요")
    chat.post(sid, "5678")
    with hub.db.read() as conn:
        texts = list(
            conn.execute(
                sa.select(ct.chat_messages.c.text).where(ct.chat_messages.c.session_id == sid)
            ).scalars()
        )
    assert not any(t.strip() == "5678" for t in texts)


def test_handoff_is_a_state_and_the_bot_stays_silent(chat: ChatService, hub: Any) -> None:
    sid = chat.new_session()["session_id"]
    turn = chat.post(sid, "상담원 연결해주세요")
    assert turn.escalated and turn.ticket_id
    for text in ("여보세요", "주문 취소해주세요", "어디예요?"):
        again = chat.post(sid, text)
        assert again.reply is None and again.escalated
    desk = hub.chat.desk
    desk.handback(turn.ticket_id, "agent@example.com")
    back = chat.post(sid, "배송 언제 와요?")
    assert back.reply and "주문번호" in back.reply


def test_clarifies_once_then_hands_off(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    first = chat.post(sid, "음 그게 말이죠 저번에")
    assert not first.escalated and "자세히" in (first.reply or "")
    second = chat.post(sid, "그러니까 그거요 그거")
    assert second.escalated and second.ticket_id


def test_threats_hand_off_at_once_with_urgent_priority(chat: ChatService, hub: Any) -> None:
    sid = chat.new_session()["session_id"]
    turn = chat.post(sid, f"{OID} 이거 사기 아니에요? 고소할게요")
    assert turn.escalated
    with hub.db.read() as conn:
        row = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == turn.ticket_id)).one()
    assert row.priority == "urgent" and row.order_id == OID and not row.customer_verified
    assert "주문 " + OID in (row.summary or "")


def test_cancel_before_handover_asks_to_confirm_then_cancels(chat: ChatService, hub: Any) -> None:
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{OID} 취소하고 싶어요")
    confirm = chat.post(sid, "5678")
    assert "취소해 드릴까요" in (confirm.reply or "")
    done = chat.post(sid, "네")
    assert "취소되었어요" in (done.reply or "")
    with hub.db.read() as conn:
        stage = conn.execute(sa.text("select stage from orders where order_id = :o"), {"o": OID}).scalar()
    assert stage == "cancelled"


def test_english_customer_gets_english(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    turn = chat.post(sid, "where is my parcel?")
    assert "order number" in (turn.reply or "")


def test_third_contact_about_the_same_order_hands_off(chat: ChatService) -> None:
    for _ in range(2):
        sid = chat.new_session()["session_id"]
        chat.post(sid, f"{OID} 어디예요")
        assert not chat.post(sid, "5678").escalated
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{OID} 어디예요")
    assert chat.post(sid, "5678").escalated


def test_opened_but_unused_conversations_are_no_contact(chat: ChatService) -> None:
    """Visits from a notification link that ask nothing do not push the customer towards a hand-off."""
    from deliveryhub.notifications.tracking import make_token, tracking_key

    token = make_token(tracking_key(chat.core.keyring), OID)
    for _ in range(3):
        assert chat.new_session(link_token=token)["verified"] is True
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{OID} 어디예요")
    turn = chat.post(sid, "5678")
    assert not turn.escalated and OID in (turn.reply or "")
