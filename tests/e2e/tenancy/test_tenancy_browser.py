"""Two sellers in a browser: shop A's agent logs in at A's address and sees A only; a customer chatting on
shop B's page is answered from B's orders, and the same words on A's page find nothing of B."""

from __future__ import annotations

import pytest

from deliveryhub.security.users import create_user
from dh_testkit import launch_chromium, serving
from tenancy_kit import B_NAME, B_ONLY_ID, B_PHONE, SHARED_ID, Tenants

PASSWORD = "a long enough password"


@pytest.mark.browser
def test_shop_login_and_customer_chat_stay_in_their_shop(tenants: Tenants) -> None:
    from playwright.sync_api import expect, sync_playwright

    hub_a = tenants.hubs.hub("shop-a")
    assert hub_a is not None
    create_user(hub_a, "agent@shop-a.example", "ops", PASSWORD)
    digits = B_PHONE[-4:]
    with serving(tenants.client.app) as base, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            agent = browser.new_context().new_page()
            agent.goto(base + "/s/shop-a/orders/" + SHARED_ID)
            assert "/s/shop-a/login" in agent.url
            agent.fill("#email", "agent@shop-a.example")
            agent.fill("#password", PASSWORD)
            agent.click("button[type=submit]")
            agent.wait_for_url(f"**/orders/{SHARED_ID}*", timeout=30_000)
            expect(agent.locator("main")).to_contain_text("서울", timeout=30_000)
            assert "부산" not in agent.content()
            # Her session belongs to shop A: B's order is not found, however she asks.
            for url in (f"/orders/{B_ONLY_ID}", f"/s/shop-b/orders/{SHARED_ID}", f"/search?q={B_ONLY_ID}"):
                agent.goto(base + url)
                assert "부산" not in agent.content(), url

            def chat(page_url: str, text: str, wanted: str) -> str:
                page = browser.new_context().new_page()
                page.goto(page_url)
                expect(page.locator("#log li").first).to_contain_text("무엇을 도와드릴까요", timeout=30_000)
                page.fill("#text", text)
                page.click("#send")
                expect(page.locator("#log")).to_contain_text(wanted, timeout=60_000)
                return page.locator("#log").inner_text()

            on_b = chat(
                f"{base}/s/shop-b/chat",
                f"주문번호 {B_ONLY_ID} 이고 뒷자리 {digits}예요. 언제 와요?",
                "주문 접수",
            )
            assert "찾지 못" not in on_b
            question = f"주문번호 {B_ONLY_ID} 이고 뒷자리 {digits}예요. 언제 와요?"
            on_a = chat(f"{base}/s/shop-a/chat", question, "찾지 못")
            assert B_NAME not in on_a and "부산" not in on_a
        finally:
            browser.close()
