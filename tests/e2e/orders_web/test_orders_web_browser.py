"""In headless Chromium, as an operator and a customer would see it: the delay tile's drill-down shows
the late order still in transit first (and every late order one click away); its order page shows the
open exception with evidence, ETA vs promise, scans with location, notices, tickets and claims, and
copies the customer's tracking link; the header search finds an order by phone; the customer's tracking
page says the order is late, per parcel down to the last scan, in the shop's colours. No console error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dh_testkit import free_port, launch_chromium, serve_hub

sys.path.insert(0, str(Path(__file__).parent))
from orders_web_kit import PHONE, shop_hub  # noqa: E402

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "Orders-browser-2026!strong"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import base64
    import secrets

    from deliveryhub.security.users import authenticate, create_session, create_user

    mp = pytest.MonkeyPatch()
    mp.setenv("DELIVERYHUB_SHOP_NAME", "달빛상점")
    mp.setenv("DELIVERYHUB_SHOP_COLOR", "#7c3aed")
    port = free_port()
    hub = shop_hub(
        tmp_path_factory.mktemp("orders_browser"),
        base64.b64encode(secrets.token_bytes(32)).decode(),
        public_url=f"http://127.0.0.1:{port}",
    )
    create_user(hub, "ops@example.com", "ops", PASSWORD)
    token = create_session(hub, authenticate(hub, "ops@example.com", PASSWORD)).token
    try:
        with serve_hub(hub, run_worker=False, port=port) as base:
            yield {"hub": hub, "base": base, "token": token}
    finally:
        mp.undo()


def _watch(page: Any, errors: list[str]) -> None:
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: errors.append(f"http {r.status}: {r.url}") if r.status >= 400 else None)


def test_operator_and_customer_pages_in_chromium(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="ko-KR")
            page.context.add_cookies([{"name": "dh_session", "value": site["token"], "url": base}])
            _watch(page, errors)
            # The dashboard's delay drill-down: the order to act on first.
            page.goto(base + "/?from=2026-11-01&to=2026-11-30")
            page.wait_for_selector("body[data-loaded='1']", timeout=60_000)
            page.locator(".tile[data-kpi='delivery_delay_rate']").click()
            page.wait_for_selector("#drill[data-scope='actionable'] a.order-link", timeout=30_000)
            drill = page.locator("#drill")
            assert drill.locator("a.order-link").all_inner_texts() == ["O-LATE"]
            row = drill.locator("tr", has_text="O-LATE").inner_text()
            assert "배송 중" in row and "3" in row and "CJ대한통운" in row and "배송" in row
            assert "지금 처리할 주문" in drill.inner_text()
            page.screenshot(path=str(ARTIFACTS / "orders_drill_actionable.png"), full_page=True)
            page.locator("#drill-all").click()
            page.wait_for_selector("#drill[data-scope='all'] a.order-link", timeout=30_000)
            assert "O-DONE" in page.locator("#drill a.order-link").all_inner_texts()
            page.locator("#drill-actionable").click()
            page.wait_for_selector("#drill[data-scope='actionable'] a.order-link", timeout=30_000)
            # The order page, from the drill-down.
            page.locator("#drill a.order-link", has_text="O-LATE").click()
            page.wait_for_url("**/orders/O-LATE")
            assert "약속일보다 3일 늦음" in page.locator("#lateness").inner_text()
            assert "약속일을 넘겨 도착 예정" in page.locator("#eta").inner_text()
            exceptions = page.locator("#exceptions").inner_text()
            assert "배송 지연" in exceptions and "지연 일수" in exceptions
            parcels = page.locator("#parcels").inner_text()
            assert "대전 HUB" in parcels and "곤지암 Hub" in parcels and "옥천 HUB" in parcels
            assert "배송 지연 안내" in page.locator("#notices").inner_text()
            assert "클레임 접수: 배송 지연 (O-LATE)" in page.locator("#tickets").inner_text()
            assert "3,000" in page.locator("#claims").inner_text()
            page.screenshot(path=str(ARTIFACTS / "orders_order_page.png"), full_page=True)
            # Copy the customer's tracking link (audited on the server).
            page.locator("#copy-link").click()
            page.wait_for_selector("#tracking-link[data-copied='1']", timeout=30_000)
            link = page.locator("#link-url").input_value()
            assert "/track/" in link and "감사 기록" in page.locator("#link-msg").inner_text()
            # ... or send it again with the latest notice.
            page.locator("#resend-link").click()
            page.wait_for_selector("#tracking-link[data-resent='1']", timeout=30_000)
            assert "다시 보냈습니다" in page.locator("#link-msg").inner_text()
            # The header search: a phone number finds the order.
            page.fill("#order-search", PHONE)
            page.press("#order-search", "Enter")
            page.wait_for_url("**/orders/O-LATE")
            # English.
            page.goto(base + "/orders/O-LATE?lang=en")
            assert "3 day(s) past the promised date" in page.locator("#lateness").inner_text()
            # The customer's tracking page on a phone.
            customer = browser.new_context(viewport={"width": 400, "height": 900}, locale="ko-KR").new_page()
            _watch(customer, errors)
            customer.goto(link)
            status = customer.locator("#status")
            assert status.get_attribute("data-state") == "late"
            assert "약속드린 도착일 11월 23일(월)보다 3일 늦어지고 있어요" in status.inner_text()
            assert "기상 악화" in status.inner_text()
            cards = customer.locator(".parcel-card")
            assert cards.count() == 2
            assert "대전 HUB" in cards.nth(0).locator(".last-scan").inner_text()
            assert "택배사에서 직접 조회" in cards.nth(0).inner_text()
            assert "달빛상점" in customer.locator("#shop").inner_text()
            colour = customer.locator("#shop").evaluate("e => getComputedStyle(e).backgroundColor")
            assert colour == "rgb(124, 58, 237)"
            text = customer.locator("body").inner_text()
            assert "김민수" not in text and "2345" not in text
            customer.screenshot(path=str(ARTIFACTS / "orders_tracking_page.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [], errors
