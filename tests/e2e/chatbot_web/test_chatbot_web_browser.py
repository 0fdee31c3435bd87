"""Headless Chromium: a customer conversation in /chat hands off, an agent logs in, sees it in /tickets
with the order context and replies, and the customer sees the reply in the widget.

The widget's polls are answered slower than its poll interval (as on a loaded box, where this test once
lost the reply): overlapping polls must not show a message twice, and a message typed while the previous
one is on its way must not be dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dh_testkit import launch_chromium, make_hub, order_created, serve_hub, tracking, waybill

OID = "ORD-2026-000901"
PASSWORD = "Deliver-Desk-2026!"
POLL_DELAY_S = 2.5  # longer than the widget's 2 s poll interval


class SlowPolls:
    """ASGI wrapper: the widget's message polls are answered late, like a server starved of CPU."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith("/v1/chat/sessions/")
            and scope["path"].endswith("/messages")
        ):
            await asyncio.sleep(POLL_DELAY_S)
        await self.app(scope, receive, send)


@pytest.fixture
def live(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any]]:
    hub = make_hub(tmp_path, master_key)
    hub.ingest.ingest(
        [
            order_created(
                "b1", OID, "2026-11-20T10:00:00+09:00", {"name": "이서연", "phone": "010-4444-1357"}
            ),
            waybill("b2", OID, "2026-11-21T09:00:00+09:00", "lotte", "309912345675"),
            tracking(
                "b3", OID, "2026-11-22T07:00:00+09:00", "lotte", status="in_transit", location="곤지암HUB"
            ),
        ]
    )
    from deliveryhub.security.users import create_user

    create_user(hub, "agent@shop.example", "cs_agent", PASSWORD)
    with serve_hub(hub, wrap=SlowPolls) as base:
        yield base, hub


@pytest.mark.browser
def test_chat_handoff_agent_reply_roundtrip(live: tuple[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, _hub = live
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            customer = browser.new_context().new_page()
            customer.goto(base + "/chat")
            expect(customer.locator("#log li").first).to_contain_text("무엇을 도와드릴까요", timeout=30_000)

            def say(text: str, expect_text: str) -> None:
                customer.fill("#text", text)
                customer.click("#send")
                expect(customer.locator("#log")).to_contain_text(expect_text, timeout=60_000)

            say(f"{OID} 배송 어디쯤이에요?", "뒷자리")
            say("1357", "곤지암HUB")
            say("상담원 연결해주세요", "상담원에게 연결해 드릴게요")

            agent = browser.new_context().new_page()
            agent.goto(base + "/tickets")
            assert "/login" in agent.url
            agent.fill("#email", "agent@shop.example")
            agent.fill("#password", PASSWORD)
            agent.click("button[type=submit]")
            agent.wait_for_url("**/tickets*", timeout=30_000)
            item = agent.locator("#queue li", has_text=OID)
            expect(item).to_have_count(1, timeout=30_000)
            item.click()
            view = agent.locator("#view")
            expect(view).to_contain_text("상담원 연결해주세요", timeout=30_000)
            expect(view).to_contain_text(OID)
            expect(view).to_contain_text("곤지암HUB")
            expect(view).to_contain_text("309912345675")
            # The customer verified in the chat, but that does not unmask their details for an agent.
            expect(view).to_contain_text("이*연")
            expect(view).not_to_contain_text("이서연")
            agent.click("#suggest")
            expect(agent.locator("#reply")).not_to_have_value("", timeout=30_000)
            agent.fill("#reply", "안녕하세요, 상담원 김하늘입니다. 내일 오전 중 도착 예정이에요.")
            agent.click("#send")
            expect(agent.locator("#status")).to_contain_text("전송했어요", timeout=30_000)

            expect(customer.locator("#log li.msg-agent")).to_contain_text(
                "상담원 김하늘입니다", timeout=30_000
            )
            # Several slow polls later, every message is still shown exactly once.
            customer.wait_for_timeout(3 * POLL_DELAY_S * 1000)
            expect(customer.locator("#log li.msg-agent")).to_have_count(1)
            expect(customer.locator("#log li.msg-customer")).to_have_count(3)
            texts = customer.locator("#log li").all_inner_texts()
            assert len(texts) == len(set(texts)), texts
        finally:
            browser.close()
