"""Headless Chromium: a customer conversation in /chat hands off, an agent logs in, sees it in /tickets
with the order context and replies, and the customer sees the reply in the widget."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from deliveryhub.entrypoints.api.app import create_app
from dh_testkit import event, free_port, make_hub

OID = "ORD-2026-000901"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "Deliver-Desk-2026!"


@pytest.fixture
def live(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any]]:
    hub = make_hub(tmp_path, master_key)
    hub.ingest.ingest(
        [
            event(
                "b1",
                "order.created",
                OID,
                "2026-11-20T10:00:00+09:00",
                {
                    "customer": {"name": "이서연", "phone": "010-4444-1357"},
                    "address": {"zip": "04524", "line1": "서울 중구 세종대로 110"},
                    "items": [{"sku": "MUG-01", "qty": 2, "price": 9000}],
                    "total": 18000,
                },
            ),
            event(
                "b2",
                "shipment.waybill_created",
                OID,
                "2026-11-21T09:00:00+09:00",
                {"carrier": "lotte", "tracking_no": "309912345675"},
                shipment_id="P1",
                source="tms",
            ),
            event(
                "b3",
                "shipment.tracking",
                OID,
                "2026-11-22T07:00:00+09:00",
                {"status": "in_transit", "location": "곤지암HUB"},
                shipment_id="P1",
                source="carrier:lotte",
            ),
        ]
    )
    from deliveryhub.security.users import create_user

    create_user(hub, "agent@shop.example", "cs_agent", PASSWORD)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield base, hub
    finally:
        srv.should_exit = True
        thread.join(timeout=20)
        hub.close()


@pytest.mark.browser
def test_chat_handoff_agent_reply_roundtrip(live: tuple[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, _hub = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
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
            # Verified in the conversation, so the agent sees the customer's details.
            expect(view).to_contain_text("이서연")
            agent.click("#suggest")
            expect(agent.locator("#reply")).not_to_have_value("", timeout=30_000)
            agent.fill("#reply", "안녕하세요, 상담원 김하늘입니다. 내일 오전 중 도착 예정이에요.")
            agent.click("#send")
            expect(agent.locator("#status")).to_contain_text("전송했어요", timeout=30_000)

            expect(customer.locator("#log li.msg-agent")).to_contain_text(
                "상담원 김하늘입니다", timeout=30_000
            )
        finally:
            browser.close()
