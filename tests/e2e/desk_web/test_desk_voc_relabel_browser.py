"""Headless Chromium on /tickets: a CS lead (ops) changes a ticket's VOC category with the select and the
button on the ticket screen, in Korean names from the label table; a plain agent does not get the control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import launch_chromium, make_hub, serve_hub

PASSWORD = "Deliver-Desk-2026!"
NOW = datetime.fromisoformat("2026-12-01T10:00:00+09:00")


@pytest.fixture
def live(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any, int]]:
    from deliveryhub.security.users import create_user

    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    try:
        create_user(hub, "lead@shop.example", "ops", PASSWORD)
        create_user(hub, "agent@shop.example", "cs_agent", PASSWORD)
        tid = hub.chat.desk.create_ticket(channel="email", subject="배송 문의", text="일주일째 안 와요")
        with serve_hub(hub) as base:
            yield base, hub, tid
    finally:
        hub.close()


def _login(browser: Any, base: str, email: str, tid: int) -> Any:
    page = browser.new_context().new_page()
    page.goto(base + "/tickets")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/tickets*", timeout=30_000)
    page.click(f"#queue li[data-id='{tid}']", timeout=30_000)
    return page


@pytest.mark.browser
def test_a_lead_relabels_a_ticket_on_the_desk_page(live: tuple[str, Any, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, hub, tid = live
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = _login(browser, base, "lead@shop.example", tid)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            select = page.locator("#voc-category")
            expect(select).to_be_visible(timeout=30_000)
            expect(page.locator(".voc-relabel")).to_contain_text("VOC 분류")
            expect(select.locator("option[value=status_notice]")).to_have_text("배송상태 안내 미흡")
            select.select_option("status_notice")
            page.click("#voc-save")
            expect(page.locator("#voc-last")).to_contain_text("→ 배송상태 안내 미흡", timeout=30_000)
            expect(page.locator("#view")).to_contain_text("VOC")
            expect(page.locator("#voc-category")).to_have_value("status_notice")
            with hub.db.read() as conn:
                row = conn.execute(ct.tickets.select().where(ct.tickets.c.id == tid)).first()
            assert row is not None and row.voc_category == "status_notice"
            assert "status_notice" not in page.locator("#view").inner_text()  # names, never raw keys
            assert errors == []

            agent = _login(browser, base, "agent@shop.example", tid)
            expect(agent.locator("#view h2")).to_contain_text(f"#{tid}", timeout=30_000)
            assert agent.locator("#voc-category").count() == 0
        finally:
            browser.close()
