"""Headless Chromium on /tickets with 2,000 open tickets: a chat escalation made while the agent watches
comes first in the queue, the phone search finds the customer's ticket, the pager walks the pages, and
the English page says the same in English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dh_testkit import launch_chromium, serve_hub

PASSWORD = "Deliver-Desk-2026!"


@pytest.fixture
def live(busy_hub: Any) -> Iterator[tuple[str, Any]]:
    from deliveryhub.security.users import create_user

    create_user(busy_hub, "agent@shop.example", "cs_agent", PASSWORD)
    with serve_hub(busy_hub) as base:
        yield base, busy_hub


@pytest.mark.browser
def test_desk_queue_page_with_thousands_of_tickets(
    live: tuple[str, Any], seed: Any, chat_escalation: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, hub = live
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context().new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/tickets")
            page.fill("#email", "agent@shop.example")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/tickets*", timeout=30_000)
            queue = page.locator("#queue li")
            expect(queue).to_have_count(50, timeout=30_000)
            expect(page.locator("#range")).to_contain_text("전체 2,000건")

            mail = hub.chat.desk.create_ticket(
                channel="email", subject="배송 문의", text="언제 오나요?", order_id=seed.oid
            )
            with httpx.Client(base_url=base, timeout=60) as customer:
                tid = chat_escalation(customer)
            expect(queue.first).to_contain_text(f"#{tid} ", timeout=30_000)
            expect(queue.first).to_contain_text("상담원 연결 대기")
            expect(page.locator("#waiting")).to_be_visible()

            page.click("#next")
            expect(page.locator("#range")).to_contain_text("51–100 / 전체 2,002건", timeout=30_000)
            page.click("#prev")
            expect(page.locator("#range")).to_contain_text("1–50 / 전체 2,002건", timeout=30_000)

            page.fill("#q", seed.phone)
            page.press("#q", "Enter")
            expect(queue).to_have_count(1, timeout=30_000)
            expect(queue.first).to_contain_text(f"#{mail} 배송 문의")
            expect(page.locator("#range")).to_contain_text("전체 1건")

            page.fill("#q", "")
            page.press("#q", "Enter")
            page.check("#f-breached")
            expect(page.locator("#range")).not_to_contain_text("2,002", timeout=30_000)
            page.select_option("#f-priority", "urgent")
            expect(queue.first.locator(".badge.urgent")).to_have_text("긴급", timeout=30_000)

            en = browser.new_context().new_page()
            en.context.add_cookies(page.context.cookies())
            en.goto(base + "/tickets?lang=en")
            expect(en.locator("#range")).to_contain_text("of 2,002", timeout=30_000)
            expect(en.locator("#queue li").first).to_contain_text("Chat waiting for an agent")
            assert not errors, errors
        finally:
            browser.close()
