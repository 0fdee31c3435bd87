"""Staff cannot pose as a customer, and a notification link only shows: a cs_agent never sees the last
four phone digits (the chatbot's check) on the order or ticket, even after the customer verified; a chat
request carrying a staff cookie or bearer token cannot pass the check or open a link session; a session
opened from a tracking link cannot cancel without the customer's digits."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.notifications.tracking import make_token, tracking_key
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.audit import audit_log_of
from dh_testkit import drain, event

OID = "ORD-2026-000931"  # packed: cancellable
PHONE = "010-6543-2187"
LAST4 = "2187"


def seed(hub: Any) -> None:
    hub.ingest.ingest(
        [
            event(
                "k1",
                "order.created",
                OID,
                "2026-11-28T10:00:00+09:00",
                {
                    "customer": {"name": "한지민", "phone": PHONE, "email": "jimin@example.com"},
                    "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 152"},
                    "items": [{"sku": "SKU-ST-1", "qty": 1, "price": 21000}],
                    "total": 21000,
                },
            ),
            event("k2", "fulfillment.packed", OID, "2026-11-28T11:00:00+09:00", {}, source="wms"),
        ]
    )
    drain(hub)


def talk(client: Any, sid: str, text: str, **kw: Any) -> dict[str, Any]:
    r = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text}, **kw)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def new_sid(client: Any, **body: Any) -> str:
    r = client.post("/v1/chat/sessions", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["session_id"])


def stage(hub: Any) -> str:
    with hub.db.read() as conn:
        return str(conn.execute(sa.select(t.orders.c.stage).where(t.orders.c.order_id == OID)).scalar())


def test_cs_agent_never_sees_the_verification_digits_even_after_the_customer_verified(
    hub: Any, client: Any
) -> None:
    seed(hub)
    agent = {"Authorization": f"Bearer {create_api_key(hub.db, 'agent', 'cs_agent')}"}
    # The real customer verifies and asks for a person: an open ticket with customer_verified = true.
    sid = new_sid(client)
    talk(client, sid, f"{OID} 배송 어디쯤이에요?")
    assert "포장" in (talk(client, sid, LAST4)["reply"] or "")
    handoff = talk(client, sid, "상담원 연결해주세요")
    assert handoff["escalated"] and handoff["ticket_id"]
    order = client.get(f"/v1/orders/{OID}", headers=agent)
    ticket = client.get(f"/v1/tickets/{handoff['ticket_id']}", headers=agent)
    assert order.status_code == 200 and ticket.status_code == 200
    assert ticket.json()["customer_verified"] is True
    for body in (order.json(), ticket.json()):
        assert body["customer"]["phone"] == "010-****-****"
        text = json.dumps(body, ensure_ascii=False)
        assert LAST4 not in text and "6543" not in text and "jimin@" not in text and "한지민" not in text


def test_chat_requests_with_staff_credentials_cannot_verify(hub: Any, client: Any) -> None:
    seed(hub)
    sid = new_sid(client)
    talk(client, sid, f"{OID} 주문 취소해주세요")
    # A console session cookie (any value: the customer widget never has one) is refused, right digits or not.
    client.cookies.set("dh_session", "s_staff-session-of-an-agent")
    refused = talk(client, sid, LAST4)
    client.cookies.clear()
    assert "직원 계정" in (refused["reply"] or "") and "취소해 드릴까요" not in (refused["reply"] or "")
    # So is a bearer key.
    talk(client, sid, f"{OID} 주문 취소해주세요")
    key = create_api_key(hub.db, "agent2", "cs_agent")
    by_key = talk(client, sid, LAST4, headers={"Authorization": f"Bearer {key}"})
    assert "직원 계정" in (by_key["reply"] or "")
    with hub.db.read() as conn:
        row = conn.execute(sa.select(ct.chat_sessions).where(ct.chat_sessions.c.session_id == sid)).one()
    assert not row.verified
    assert [e for e in audit_log_of(hub).entries(limit=20) if e["action"] == "chat.verify_refused_staff"]
    # A link session cannot be opened with staff credentials either.
    token = make_token(tracking_key(hub.keyring), OID)
    r = client.post("/v1/chat/sessions", json={"token": token}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "staff_not_customer"
    # Without staff credentials the customer passes at once (staff refusals are not counted as guesses).
    talk(client, sid, f"{OID} 주문 취소해주세요")
    assert "취소해 드릴까요" in (talk(client, sid, LAST4)["reply"] or "")
    assert stage(hub) != "cancelled"


def test_a_link_session_shows_the_order_but_cannot_cancel_without_the_digits(hub: Any, client: Any) -> None:
    seed(hub)
    sid = new_sid(client, token=make_token(tracking_key(hub.keyring), OID))
    assert "포장" in (talk(client, sid, "배송 어디쯤이에요?")["reply"] or "")  # viewing works
    ask = talk(client, sid, "주문 취소해주세요")
    assert "뒷자리" in (ask["reply"] or "") and "취소해 드릴까요" not in (ask["reply"] or "")
    assert "취소되었어요" not in (talk(client, sid, "네")["reply"] or "")
    for intent_text in ("배송지 변경하고 싶어요", "반품하고 싶어요", "상품이 파손됐어요"):
        assert "뒷자리" in (talk(client, sid, intent_text)["reply"] or ""), intent_text
    assert stage(hub) != "cancelled"
    # Wrong digits on a link session count like any other guess; the right ones allow acting.
    talk(client, sid, "주문 취소해주세요")
    assert "일치" in (talk(client, sid, "0000")["reply"] or "")
    talk(client, sid, "주문 취소해주세요")
    assert "취소해 드릴까요" in (talk(client, sid, LAST4)["reply"] or "")
    assert "취소되었어요" in (talk(client, sid, "네")["reply"] or "")
    assert stage(hub) == "cancelled"


def test_failures_in_one_session_never_open_a_ticket_and_a_person_comes_only_on_request(
    hub: Any, client: Any
) -> None:
    seed(hub)
    sid = new_sid(client)
    talk(client, sid, f"{OID} 배송 어디예요?")
    replies = [talk(client, sid, guess) for guess in ("1111", "2222", "3333", "4444")]
    assert not any(r["escalated"] or r.get("ticket_id") for r in replies)
    assert "상담원 연결" in (replies[2]["reply"] or "") and "링크" in (replies[2]["reply"] or "")
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ct.tickets)).scalar() == 0
    # The session is out of checks: even the right digits are not tried any more (no oracle).
    talk(client, sid, f"{OID} 배송 어디예요?")
    assert "포장" not in (talk(client, sid, LAST4)["reply"] or "")
    # Asking for a person hands off once, unverified.
    out = talk(client, sid, "상담원 연결해주세요")
    assert out["escalated"] and out["ticket_id"]
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(ct.tickets)).all()
    assert len(rows) == 1 and not rows[0].customer_verified
