"""The desk queue over HTTP with 2,000 open tickets: a new chat escalation comes first, search by phone
(blind index), tracking and order number, paging returns every ticket exactly once, filters narrow the
counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key

N = 2000
OID = "ORD-2026-007701"
PHONE = "010-7777-3141"
TRACKING = "410099887766"


@pytest.fixture
def desk(busy_hub: Any, seed: Any) -> Iterator[tuple[Any, TestClient, dict[str, str]]]:
    assert (seed.n, seed.oid, seed.phone, seed.tracking) == (N, OID, PHONE, TRACKING)
    key = create_api_key(busy_hub.db, "agent", "cs_agent")
    with TestClient(create_app(busy_hub, run_worker=False)) as c:
        yield busy_hub, c, {"Authorization": f"Bearer {key}"}


def get(c: TestClient, h: dict[str, str], **params: Any) -> dict[str, Any]:
    r = c.get("/v1/tickets", params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_new_chat_escalation_comes_first_among_thousands(desk: Any, chat_escalation: Any) -> None:
    hub, c, h = desk
    first = get(c, h, limit=5)
    assert first["total"] == N and first["counts"]["waiting_chat"] == 0
    # The bulk tickets are by SLA due time: the first is the one whose clock ran out earliest.
    dues = [t["first_due"] for t in get(c, h, limit=50)["tickets"]]
    assert dues == sorted(dues)
    tid = chat_escalation(c)
    page = get(c, h, limit=5)
    assert page["tickets"][0]["id"] == tid and page["total"] == N + 1
    assert page["counts"]["waiting_chat"] == 1
    # Once an agent answers, the chat takes its place by due time again.
    hub.chat.desk.reply(tid, "agent", "안녕하세요, 상담원입니다.", by="agent")
    assert get(c, h, limit=5)["tickets"][0]["id"] != tid
    # A chat given back to the bot is no longer waiting for a person either.
    again = chat_escalation(c)
    assert get(c, h, limit=5)["tickets"][0]["id"] == again
    hub.chat.desk.handback(again, "agent")
    page = get(c, h, limit=5)
    assert page["tickets"][0]["id"] != again and page["counts"]["waiting_chat"] == 0


def test_search_finds_a_customers_ticket_by_phone_email_tracking_and_order_number(desk: Any) -> None:
    hub, c, h = desk
    tid = hub.chat.desk.create_ticket(channel="email", subject="배송 문의", text="언제 오나요?", order_id=OID)
    for q in (PHONE, PHONE.replace("-", ""), " Minsu.Oh@example.com", TRACKING, OID, f"#{tid}"):
        found = get(c, h, q=q)
        assert [t["id"] for t in found["tickets"]] == [tid], q
        assert found["total"] == 1
    assert get(c, h, q="010-0000-0000")["total"] == 0
    # Nothing personal in the queue rows.
    body = c.get("/v1/tickets", params={"q": PHONE}, headers=h).text
    assert "7777" not in body and "3141" not in body and "오민수" not in body and "minsu" not in body


def test_paging_returns_every_ticket_exactly_once(desk: Any) -> None:
    _hub, c, h = desk
    seen: list[int] = []
    offset = 0
    while True:
        page = get(c, h, limit=500, offset=offset)
        assert page["total"] == N
        if not page["tickets"]:
            break
        seen.extend(t["id"] for t in page["tickets"])
        offset += len(page["tickets"])
    assert len(seen) == N and len(set(seen)) == N


def test_filters_narrow_the_counts(desk: Any, seed: Any) -> None:
    _hub, c, h = desk
    every = get(c, h, limit=1)
    assert every["counts"]["open"] == N and every["counts"]["pending"] == N // 5
    urgent = get(c, h, priority="urgent", limit=1)
    assert urgent["total"] == N // 4 and urgent["counts"]["open"] == N // 4
    email = get(c, h, channel="email", limit=1)
    assert 0 < email["total"] < N
    mine = get(c, h, assignee="kim@shop.example", limit=1)
    assert mine["total"] == len(range(0, N, 7))
    late = get(c, h, breached="true", limit=500)
    assert 0 < late["total"] < N and late["total"] == every["counts"]["breached"]
    assert all(datetime.fromisoformat(t["first_due"]) < seed.now for t in late["tickets"])
    pending = get(c, h, status="pending", priority="urgent", limit=1)
    assert pending["total"] == len([i for i in range(N) if i % 5 == 0 and i % 4 == 0])
    assert c.get("/v1/tickets", params={"status": "nope"}, headers=h).status_code == 400
