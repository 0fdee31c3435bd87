"""The chatbot's turn on PostgreSQL (one shared transaction per turn, prebuilt statements): verification,
the live answer, link verification, the repeat-contact rule and a cancel — the same behaviour as SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot.dialogue import ChatService
from dh_testkit import event, make_hub, order_created

SHIPPED = "ORD-2026-000777"
PACKED = "ORD-2026-000778"


def keyword_nlu(text: str) -> dict[str, Any]:
    """A deterministic classifier: the policy is under test here, not the NLU."""
    ents: dict[str, Any] = {}
    if m := re.search(r"ORD-\d{4}-\d{6}", text):
        ents["order_id"] = m.group(0)
    if re.fullmatch(r"\d{4}", text.strip()):
        ents["phone_last4"] = text.strip()
    for rx, intent in ((r"취소", "cancel_order"), (r"어디|언제", "track_order"), (r"^네$", "other")):
        if re.search(rx, text):
            return {"intent": intent, "confidence": 0.95, "escalate": False, "entities": ents}
    return {"intent": "other", "confidence": 0.3, "escalate": False, "entities": ents}


def _order(oid: str, phone: str, i: int) -> list[dict[str, Any]]:
    return [
        order_created(
            f"{oid}-c",
            oid,
            "2026-11-20T10:00:00+09:00",
            {"name": "김민지", "phone": phone},
            {"zip": "06236", "line1": "서울 강남구 테헤란로 1"},
            [{"sku": "A", "qty": 1, "price": 19000}],
        ),
        event(f"{oid}-p", "fulfillment.packed", oid, "2026-11-20T15:00:00+09:00", {}, source="wms"),
    ] + (
        [
            event(
                f"{oid}-w",
                "shipment.waybill_created",
                oid,
                "2026-11-21T10:00:00+09:00",
                {"carrier": "cj", "tracking_no": f"55500000000{i}"},
                shipment_id=f"S{i}",
                source="tms",
            ),
            event(
                f"{oid}-t",
                "shipment.tracking",
                oid,
                "2026-11-21T20:00:00+09:00",
                {"status": "in_transit", "location": "옥천HUB"},
                shipment_id=f"S{i}",
                source="tms",
            ),
        ]
        if oid == SHIPPED
        else []
    )


@pytest.fixture
def pg_chat(tmp_path: Path, master_key: str, pg_url: str) -> Iterator[tuple[Any, ChatService]]:
    hub = make_hub(tmp_path, master_key, db_url=pg_url)
    try:
        hub.ingest.ingest(_order(SHIPPED, "010-2222-3456", 1) + _order(PACKED, "010-3333-4567", 2))
        yield hub, ChatService(hub, hub.chat.desk, hub.chat.config, classify=keyword_nlu)
    finally:
        hub.close()


def test_chatbot_pg_verify_then_live_answer(pg_chat: tuple[Any, ChatService]) -> None:
    _hub, chat = pg_chat
    sid = chat.new_session()["session_id"]
    ask = chat.post(sid, f"{SHIPPED} 어디쯤이에요?")
    assert "뒷자리" in (ask.reply or "") and "555000000001" not in (ask.reply or "")
    assert "일치" in (chat.post(sid, "0000").reply or "")
    ok = chat.post(sid, "3456")
    assert "555000000001" in (ok.reply or "") and "옥천HUB" in (ok.reply or "")


def test_chatbot_pg_link_and_repeat_contact(pg_chat: tuple[Any, ChatService]) -> None:
    hub, chat = pg_chat
    from deliveryhub.notifications.tracking import make_token, tracking_key

    opened = chat.new_session(link_token=make_token(tracking_key(hub.keyring), SHIPPED))
    assert opened["verified"] is True
    assert "555000000001" in (chat.post(opened["session_id"], "언제 와요?").reply or "")
    # That was one contact; a second conversation is served, the third about the same order is handed off.
    for handed_off in (False, True):
        sid = chat.new_session()["session_id"]
        chat.post(sid, f"{SHIPPED} 어디예요")
        assert chat.post(sid, "3456").escalated is handed_off


def test_chatbot_pg_cancel_before_handover(pg_chat: tuple[Any, ChatService]) -> None:
    hub, chat = pg_chat
    sid = chat.new_session()["session_id"]
    chat.post(sid, f"{PACKED} 주문 취소해주세요")
    assert "취소해 드릴까요" in (chat.post(sid, "4567").reply or "")
    assert "취소되었어요" in (chat.post(sid, "네").reply or "")
    with hub.db.read() as conn:
        stage = conn.execute(sa.select(t.orders.c.stage).where(t.orders.c.order_id == PACKED)).scalar()
    assert stage == "cancelled"
