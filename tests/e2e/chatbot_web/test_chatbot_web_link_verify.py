"""A customer who opens the chat from a notification's signed tracking link is verified for that order:
the first question gets the live answer without order number or phone digits. Bad links verify nothing
and reveal nothing (422 invalid_token), and the tracking page links to the chat with its token."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.labels import label
from deliveryhub.notifications.tracking import make_token, tracking_key
from dh_testkit import drain, event, handed_over, order_created, tracking, waybill

MINE = "ORD-2026-000701"  # shipped, customer A
MINE_PACKED = "ORD-2026-000702"  # packed, customer A
THEIRS = "ORD-2026-000703"  # shipped, customer B
MY_TRACKING = "558812340001"
THEIR_TRACKING = "558812349999"
ADDRESS = {"zip": "06236", "line1": "서울 강남구 테헤란로 152"}


def _shipped(prefix: str, oid: str, cust: dict[str, str], tracking_no: str, hub_name: str) -> list[Any]:
    return [
        order_created(
            f"{prefix}1",
            oid,
            "2026-11-20T10:00:00+09:00",
            cust,
            ADDRESS,
            [{"sku": "SKU-LINK-1", "qty": 1, "price": 30000}],
        ),
        waybill(f"{prefix}2", oid, "2026-11-21T09:00:00+09:00", "cj", tracking_no),
        handed_over(f"{prefix}3", oid, "2026-11-21T13:00:00+09:00", "cj"),
        tracking(
            f"{prefix}4",
            oid,
            "2026-11-22T06:10:00+09:00",
            "cj",
            status="in_transit",
            location=hub_name,
            raw_status="간선하차",
        ),
    ]


def seed(hub: Any) -> None:
    me = {"name": "최민수", "phone": "010-2222-7788"}
    other = {"name": "정하나", "phone": "010-9999-1234"}
    hub.ingest.ingest(
        [
            *_shipped("a", MINE, me, MY_TRACKING, "대전HUB"),
            order_created(
                "m1",
                MINE_PACKED,
                "2026-11-22T08:00:00+09:00",
                me,
                ADDRESS,
                [{"sku": "SKU-LINK-2", "qty": 1, "price": 12000}],
            ),
            event("m2", "fulfillment.packed", MINE_PACKED, "2026-11-22T11:00:00+09:00", {}, source="wms"),
            *_shipped("b", THEIRS, other, THEIR_TRACKING, "옥천HUB"),
        ]
    )
    drain(hub)


def token_for(hub: Any, oid: str) -> str:
    return make_token(tracking_key(hub.keyring), oid)


def open_session(client: Any, **body: Any) -> Any:
    return client.post("/v1/chat/sessions", json=body)


def talk(client: Any, sid: str, text: str) -> dict[str, Any]:
    r = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def session_row(hub: Any, sid: str) -> Any:
    with hub.db.read() as conn:
        return conn.execute(sa.select(ct.chat_sessions).where(ct.chat_sessions.c.session_id == sid)).one()


def order_customer(hub: Any, oid: str) -> str:
    from deliveryhub.adapters.persistence import tables as t

    with hub.db.read() as conn:
        return str(conn.execute(sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == oid)).scalar())


def test_valid_link_opens_a_verified_session_that_answers_at_once(hub: Any, client: Any) -> None:
    seed(hub)
    r = open_session(client, token=token_for(hub, MINE))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified"] is True and body["order_id"] == MINE
    assert body["greeting"].startswith("알림 링크로 들어오셨네요") and MINE in body["greeting"]
    row = session_row(hub, body["session_id"])
    assert row.verified and row.order_id == MINE and row.verified_at is not None
    assert row.customer_id == order_customer(hub, MINE)
    first = talk(client, body["session_id"], "배송 어디쯤이에요?")
    reply = first["reply"] or ""
    assert first["intent"] == "track_order" and not first["escalated"]
    assert MY_TRACKING in reply and "배송 중" in reply and "대전HUB" in reply
    assert "뒷자리" not in reply and "주문번호를" not in reply
    # The widget shows the link greeting from the conversation itself.
    msgs = client.get(f"/v1/chat/sessions/{body['session_id']}/messages").json()["messages"]
    assert msgs[0]["role"] == "bot" and msgs[0]["text"] == body["greeting"]


def test_valid_link_in_english(hub: Any, client: Any) -> None:
    seed(hub)
    body = open_session(client, token=token_for(hub, MINE), lang="en").json()
    assert body["verified"] is True and "notification" in body["greeting"] and MINE in body["greeting"]
    reply = talk(client, body["session_id"], "Where is my package?")["reply"] or ""
    assert MY_TRACKING in reply and "in transit" in reply and "last four digits" not in reply


def test_link_session_cancels_only_after_the_phone_digits(hub: Any, client: Any) -> None:
    seed(hub)
    sid = open_session(client, token=token_for(hub, MINE_PACKED)).json()["session_id"]
    # A link is view-only: acting needs the customer's digits too (issue 13).
    ask = talk(client, sid, "주문 취소해주세요")["reply"] or ""
    assert "뒷자리" in ask and "취소해 드릴까요" not in ask
    assert "취소해 드릴까요" in (talk(client, sid, "7788")["reply"] or "")
    done = talk(client, sid, "네")
    assert done["intent"] == "cancel_order" and "취소되었어요" in (done["reply"] or "")
    from deliveryhub.adapters.persistence import tables as t

    with hub.db.read() as conn:
        stage = conn.execute(sa.select(t.orders.c.stage).where(t.orders.c.order_id == MINE_PACKED)).scalar()
    assert stage == "cancelled"


def test_bad_links_verify_nothing_and_reveal_nothing(hub: Any, client: Any) -> None:
    seed(hub)
    good = token_for(hub, MINE)
    head, gen, at, mac = good.split(".")  # order . generation . issued . signature (links.py)
    flip = {"A": "B"}.get(mac[5], "A")
    bad_tokens = [
        f"{head}.{gen}.{at}.{mac[:5]}{flip}{mac[6:]}",  # one character of the signature changed
        token_for(hub, THEIRS).split(".")[0] + f".{gen}.{at}.{mac}",  # another order's id with my signature
        good[:-1],  # truncated
        token_for(hub, "ORD-2026-999999"),  # correctly signed, but no such order
        make_token(b"k" * 32, MINE),  # signed with another key
        "garbage",
        f"{head}.{gen}.{at}.한글서명",  # a real order id with a non-ASCII signature
        "...",
        "",
        good + "A" * 400,  # over-long
    ]
    with hub.db.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(ct.chat_sessions)).scalar()
    messages = set()
    for bad in bad_tokens:
        r = open_session(client, token=bad)
        assert r.status_code == 422, (bad, r.status_code, r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid_token" and err["field"] == "token"
        assert MINE not in r.text and THEIRS not in r.text and MY_TRACKING not in r.text
        messages.add(err["message"])
    assert len(messages) == 1  # every bad link gets the same answer
    with hub.db.read() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(ct.chat_sessions)).scalar()
    assert after == before  # nothing was opened
    # The fallback the widget uses: a normal session, which asks for the order number first.
    plain = open_session(client, lang="ko")
    assert plain.status_code == 200 and plain.json()["verified"] is False and "order_id" not in plain.json()
    sid = plain.json()["session_id"]
    ask = talk(client, sid, "배송 어디쯤이에요?")["reply"] or ""
    assert "주문번호" in ask and MY_TRACKING not in ask
    ask = talk(client, sid, MINE)["reply"] or ""
    assert "뒷자리" in ask and MY_TRACKING not in ask and "대전HUB" not in ask


def test_links_not_available_without_the_notifications_service(hub: Any, client: Any) -> None:
    seed(hub)

    class NoLinks:  # a hub whose tracking links are not wired: no token proves anything
        def issue(self, order_id: str) -> None:
            return None

        def order_for_token(self, token: str) -> None:
            return None

        def close_customer_links(self, conn: Any, customer_id: str, reason: str = "erased") -> int:
            return 0

    hub.links = NoLinks()
    r = open_session(client, token=token_for(hub, MINE))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_token"


def test_link_session_does_not_open_another_customers_order(hub: Any, client: Any) -> None:
    seed(hub)
    sid = open_session(client, token=token_for(hub, MINE)).json()["session_id"]
    # Another order of the same customer: still verified (the existing rule of _bind_order).
    same = talk(client, sid, f"{MINE_PACKED} 배송 어디쯤이에요?")["reply"] or ""
    assert "뒷자리" not in same and label("stage", "picked_packed") in same and MINE_PACKED in same, same
    # Someone else's order number: verification does not carry over, nothing is revealed.
    other = talk(client, sid, f"{THEIRS} 배송 어디쯤이에요?")["reply"] or ""
    assert "뒷자리" in other
    assert THEIR_TRACKING not in other and "옥천HUB" not in other and "정하나" not in other
    again = talk(client, sid, "송장번호만 알려주세요")["reply"] or ""
    assert THEIR_TRACKING not in again and "옥천HUB" not in again
    row = session_row(hub, sid)
    assert row.order_id == THEIRS and not row.verified and row.customer_id is None


def test_link_session_handoff_reaches_the_desk_verified(hub: Any, client: Any, admin_key: str) -> None:
    seed(hub)
    sid = open_session(client, token=token_for(hub, MINE)).json()["session_id"]
    out = talk(client, sid, "상담원 연결해주세요")
    assert out["escalated"] and out["ticket_id"]
    view = client.get(f"/v1/tickets/{out['ticket_id']}", headers={"Authorization": f"Bearer {admin_key}"})
    assert view.status_code == 200, view.text
    ticket = view.json()
    assert ticket["customer_verified"] is True and ticket["order_id"] == MINE
    assert ticket["chat"][0]["text"].startswith("알림 링크로 들어오셨네요")  # how the customer was verified


def test_tracking_page_links_to_the_chat_with_its_token(hub: Any, client: Any) -> None:
    seed(hub)
    token = token_for(hub, MINE)
    page = client.get(f"/track/{token}")
    assert page.status_code == 200
    assert f'href="/chat?t={token}"' in page.text and "챗봇 상담하기" in page.text
    en = client.get(f"/track/{token}?lang=en")
    assert f'href="/chat?t={token}&amp;lang=en"' in en.text and "Chat with us" in en.text
    # A non-ASCII signature is a bad link (404), not a server error.
    head = token.split(".")[0]
    assert client.get(f"/track/{head}.%ED%95%9C%EA%B8%80").status_code == 404
    # The chat page keeps the token when switching language and does not leak it through Referer.
    chat = client.get(f"/chat?t={token}")
    assert chat.status_code == 200 and chat.headers["referrer-policy"] == "no-referrer"
    assert f'href="/chat?lang=en&amp;t={token}"' in chat.text
    assert client.get("/chat").headers["referrer-policy"] == "same-origin"
