"""Multi-turn conversations over HTTP against a live uvicorn server with the real NLU and worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from dh_testkit import (
    event,
    handed_over,
    make_hub,
    order_created,
    parcel_event,
    serve_hub,
    tracking,
    waybill,
)

SHIPPED = "ORD-2026-000501"
PACKED = "ORD-2026-000502"
SECRETS = ("123456789012", "테헤란로", "SKU-BLUE-L", "박지영", "CJ대한통운", "06236", "배송 중")


def seed(hub: Any) -> None:
    cust = {"name": "박지영", "phone": "010-3333-4821"}
    addr = {"zip": "06236", "line1": "서울 강남구 테헤란로 152"}
    items = [{"sku": "SKU-BLUE-L", "qty": 1, "price": 45000}]
    hub.ingest.ingest(
        [
            order_created(
                "s1",
                SHIPPED,
                "2026-11-20T10:00:00+09:00",
                cust,
                addr,
                items,
                promised_delivery_date="2026-11-24",
            ),
            waybill("s2", SHIPPED, "2026-11-21T09:00:00+09:00", "cj", "123456789012"),
            handed_over("s3", SHIPPED, "2026-11-21T13:00:00+09:00", "cj"),
            tracking(
                "s4",
                SHIPPED,
                "2026-11-22T06:10:00+09:00",
                "cj",
                status="in_transit",
                location="대전HUB",
                raw_status="간선하차",
            ),
            parcel_event(
                "s5",
                "shipment.eta_updated",
                SHIPPED,
                "2026-11-22T06:10:00+09:00",
                {"eta_min": "2026-11-23T14:00:00+09:00", "eta_max": "2026-11-23T16:00:00+09:00"},
            ),
            order_created("p1", PACKED, "2026-11-22T08:00:00+09:00", cust, addr, items),
            event("p2", "fulfillment.packed", PACKED, "2026-11-22T11:00:00+09:00", {}, source="wms"),
        ]
    )


@pytest.fixture
def server(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any]]:
    hub = make_hub(tmp_path, master_key)
    seed(hub)
    with serve_hub(hub) as base:
        yield base, hub


def talk(client: httpx.Client, sid: str, text: str) -> dict[str, Any]:
    r = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def new_session(client: httpx.Client) -> str:
    r = client.post("/v1/chat/sessions", json={})
    assert r.status_code == 200
    return r.json()["session_id"]  # type: ignore[no-any-return]


def test_unverified_questions_never_reveal_order_data(server: tuple[str, Any]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        replies = [
            talk(c, sid, text)["reply"] or ""
            for text in (
                f"{SHIPPED} 배송 어디쯤이에요?",
                "송장번호만 알려주세요",
                "그냥 주소 어디로 가는지만 알려줘요",
                "0000",
                "1111",
            )
        ]
        assert any("뒷자리" in r for r in replies)
        for r in replies:
            for secret in SECRETS:
                assert secret not in r, (secret, r)
        # Someone else's session that guesses the order number learns nothing either.
        other = new_session(c)
        for text in (f"what's in order {SHIPPED}?", "9999"):
            reply = talk(c, other, text)["reply"] or ""
            assert not any(s in reply for s in SECRETS)


def test_verified_wismo_gets_the_live_stage_and_eta(server: tuple[str, Any]) -> None:
    base, hub = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        first = talk(c, sid, "택배 언제 와요?")
        assert first["intent"] == "track_order" and "주문번호" in first["reply"]
        assert "뒷자리" in talk(c, sid, SHIPPED)["reply"]
        answer = talk(c, sid, "4821")
        assert "배송 중" in answer["reply"] and "123456789012" in answer["reply"]
        assert "11월 23일(월) 14시~16시" in answer["reply"] and "대전HUB" in answer["reply"]
        hub.ingest.ingest(
            [
                event(
                    "s6",
                    "shipment.tracking",
                    SHIPPED,
                    "2026-11-23T09:30:00+09:00",
                    {"status": "out_for_delivery", "location": "강남대리점"},
                    shipment_id="P1",
                    source="carrier:cj",
                )
            ]
        )
        again = talk(c, sid, "지금은 어디쯤이에요?")
        assert "배송 출발" in again["reply"] and "강남대리점" in again["reply"]


def test_english_conversation(server: tuple[str, Any]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        assert "order number" in talk(c, sid, "Hi, where is my package?")["reply"]
        assert "last four digits" in talk(c, sid, SHIPPED)["reply"]
        assert "in transit" in talk(c, sid, "4821")["reply"]


def test_handoff_then_the_bot_is_silent(server: tuple[str, Any]) -> None:
    base, hub = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        talk(c, sid, f"{SHIPPED} 배송 문의요")
        out = talk(c, sid, "상담원 연결해주세요")
        assert out["escalated"] and out["ticket_id"] and "상담원" in out["reply"]
        before = c.get(f"/v1/chat/sessions/{sid}/messages").json()["messages"]
        for text in ("여보세요?", "주문 취소해주세요", "배송 어디쯤이에요?"):
            silent = talk(c, sid, text)
            assert silent["reply"] is None and silent["escalated"] and silent["ticket_id"] == out["ticket_id"]
        after = c.get(f"/v1/chat/sessions/{sid}/messages").json()["messages"]
        new = after[len(before) :]
        assert [m["role"] for m in new] == ["customer"] * 3
    with hub.db.read() as conn:
        ticket = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == out["ticket_id"])).one()
        n_msgs = conn.execute(
            sa.select(sa.func.count())
            .select_from(ct.ticket_messages)
            .where(ct.ticket_messages.c.ticket_id == ticket.id)
        ).scalar()
    assert ticket.channel == "chat" and ticket.order_id == SHIPPED and ticket.summary
    assert n_msgs >= 7  # greeting, the conversation and the three messages after the hand-off


def test_cancel_before_handover_cancels_and_notifies(server: tuple[str, Any]) -> None:
    base, hub = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        talk(c, sid, f"{PACKED} 주문 취소하고 싶어요")
        confirm = talk(c, sid, "4821")
        assert "취소해 드릴까요" in confirm["reply"]
        done = talk(c, sid, "네")
        assert done["intent"] == "cancel_order" and "취소되었어요" in done["reply"]
    with hub.db.read() as conn:
        order = conn.execute(sa.select(t.orders).where(t.orders.c.order_id == PACKED)).one()
        cancelled = conn.execute(
            sa.select(t.inbox).where(t.inbox.c.order_id == PACKED, t.inbox.c.type == "order.cancelled")
        ).one()
    assert order.stage == "cancelled" and cancelled.source == "chatbot"
    if "notifications" in hub.order_sections:
        deadline = time.monotonic() + 30
        notices: list[Any] = []
        while time.monotonic() < deadline:
            with hub.db.read() as conn:
                notices = hub.order_sections["notifications"](conn, PACKED, None)
            if any(n.get("stage") == "cancelled" or "cancel" in str(n.get("template")) for n in notices):
                break
            time.sleep(0.3)
        assert any(n.get("stage") == "cancelled" or "cancel" in str(n.get("template")) for n in notices), (
            notices
        )


def test_cancel_after_handover_explains_and_offers_a_return(server: tuple[str, Any]) -> None:
    base, hub = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        talk(c, sid, f"{SHIPPED} 취소해 주세요")
        out = talk(c, sid, "4821")
        assert "취소할 수 없어요" in out["reply"] and "반품" in out["reply"]
        why = talk(c, sid, "네")  # the return is quoted by its reason first
        assert why["intent"] == "return_request" and "사유" in why["reply"]
        quote = talk(c, sid, "단순 변심이에요")
        assert "6,000원" in quote["reply"] and "반품을 접수할까요" in quote["reply"]
        ok = talk(c, sid, "네")
        assert ok["intent"] == "return_request" and "반품 신청이 접수되었어요" in ok["reply"]
    with hub.db.read() as conn:
        order = conn.execute(sa.select(t.orders).where(t.orders.c.order_id == SHIPPED)).one()
        types = set(conn.execute(sa.select(t.inbox.c.type).where(t.inbox.c.order_id == SHIPPED)).scalars())
    assert order.stage != "cancelled" and "order.cancelled" not in types and "return.requested" in types


def test_bad_input_is_a_clear_4xx(server: tuple[str, Any]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = new_session(c)
        r = c.post(f"/v1/chat/sessions/{sid}/messages", json={"text": ""})
        assert r.status_code == 422 and r.json()["error"]["field"] == "text"
        r = c.post("/v1/chat/sessions/nope/messages", json={"text": "안녕하세요"})
        assert r.status_code == 404
        assert c.get("/v1/tickets").status_code == 401
