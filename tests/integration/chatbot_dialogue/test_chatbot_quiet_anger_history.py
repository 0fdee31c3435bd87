"""Impatience read with the customer's history in the hub (issue 18 item 3): "대체 언제까지 기다려야 하나요"
about an order past its promised date, or with an open claim, goes to a person; the same words about an
order still on time are answered by the bot. The clock is pinned; the classifier is a stub (the real NLU is
measured in the unit tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.bootstrap import bootstrap
from deliveryhub.chatbot.dialogue import ChatService
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import order_created, waybill

# Monday 2026-11-30 10:00 KST.
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
LATE, ON_TIME = "ORD-2026-000501", "ORD-2026-000502"
IMPATIENT = "대체 언제까지 기다려야 하나요"


def stub(text: str) -> dict[str, Any]:
    """Every message is a delivery question; order numbers and four digits as entities."""
    ents: dict[str, Any] = {}
    for oid in (LATE, ON_TIME):
        if oid in text:
            ents["order_id"] = oid
    if text.strip().isdigit() and len(text.strip()) == 4:
        ents["phone_last4"] = text.strip()
    return {"text": text, "intent": "delivery_delay", "confidence": 0.95, "escalate": False, "entities": ents}


@pytest.fixture
def chat(tmp_path: Path, master_key: str) -> Any:
    hub = bootstrap(
        clock=ManualClock(NOW), db_url=f"sqlite:///{tmp_path}/hub.db", data_dir=tmp_path,
        master_key=master_key, env="test",
    )
    customer = {"name": "김하늘", "phone": "010-2222-3344"}
    hub.ingest.ingest(
        [
            order_created("e1", LATE, "2026-11-20T10:00:00+09:00", customer,
                          promised_delivery_date="2026-11-24"),
            waybill("e2", LATE, "2026-11-21T10:00:00+09:00", "cj", "611111111111", shipment_id="S1"),
            order_created("e3", ON_TIME, "2026-11-28T10:00:00+09:00", customer,
                          promised_delivery_date="2026-12-03"),
            waybill("e4", ON_TIME, "2026-11-29T10:00:00+09:00", "cj", "622222222222", shipment_id="S2"),
        ]
    )
    try:
        yield ChatService(hub, hub.chat.desk, hub.chat.config, classify=stub)
    finally:
        hub.close()


def test_impatience_about_a_late_order_goes_to_a_person(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    chat.post(sid, IMPATIENT)
    chat.post(sid, LATE)
    turn = chat.post(sid, "3344")
    assert turn.escalated and turn.ticket_id


def test_the_same_words_about_an_order_on_time_are_answered(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    chat.post(sid, IMPATIENT)
    chat.post(sid, ON_TIME)
    turn = chat.post(sid, "3344")
    assert not turn.escalated and "622222222222" in (turn.reply or "")


def test_a_calm_question_about_a_late_order_is_answered(chat: ChatService) -> None:
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{LATE} 배송 어디쯤인가요")
    turn = chat.post(sid, "3344")
    assert not turn.escalated and "611111111111" in (turn.reply or "")
