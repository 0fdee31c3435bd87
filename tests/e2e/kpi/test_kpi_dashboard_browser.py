"""Ops dashboard in headless Chromium: tiles, drill-down to the order page, ?lang=en, no console errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dh_testkit import launch_chromium, make_hub, serve_hub

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
sys.path.insert(0, str(REPO / "tests" / "integration" / "kpi"))  # the hand-built October event set


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Iterator[tuple[str, str, Any]]:
    from test_kpi_catalog_values import NOW, events

    from deliveryhub.kernel.clock import ManualClock
    from deliveryhub.security.users import authenticate, create_session, create_user

    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    hub.ingest.ingest(events())
    password = "Kpi-dashboard-2026!strong"
    create_user(hub, "ops@example.com", "ops", password)
    token = create_session(hub, authenticate(hub, "ops@example.com", password)).token
    with serve_hub(hub, run_worker=False) as base:
        yield base, token, hub


@pytest.mark.browser
def test_dashboard_drilldown_and_language(served: tuple[str, str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base, token, _hub = served
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
            page = ctx.new_page()
            page.on(
                "console",
                lambda m: errors.append(f"console: {m.text} @ {m.location}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on(
                "response", lambda r: errors.append(f"http {r.status}: {r.url}") if r.status >= 400 else None
            )
            # Without a session the dashboard sends the browser to the login page.
            page.goto(base + "/")
            assert "/login" in page.url and "next=%2F" in page.url
            ctx.add_cookies([{"name": "dh_session", "value": token, "url": base}])
            page.goto(base + "/?from=2026-10-01&to=2026-10-31&grain=week")
            page.wait_for_selector("body[data-loaded='1']", timeout=30_000)
            tile = page.locator(".tile[data-kpi='delivery_delay_rate']")
            shown = tile.inner_text()  # the value and its target in the same unit
            assert "배송 지연율" in shown and "66.7%" in shown and "목표 3% 미만" in shown
            assert "breach" in (tile.get_attribute("class") or "")
            assert page.locator(".tile[data-kpi='on_time_delivery_rate'] .badge").inner_text() == "목표 미달"
            page.wait_for_selector("#trend-chart .main-svg", timeout=20_000)
            # Drill-down: first the orders still to act on (views/drill.py); one click shows every order
            # behind the number: the late orders of October are B and C, each linking to its page.
            tile.click()
            page.wait_for_selector("#drill[data-scope='actionable'] #drill-all", timeout=20_000)
            page.locator("#drill-all").click()
            page.wait_for_selector("#drill[data-scope='all'] a.order-link", timeout=20_000)
            links = sorted(page.locator("#drill a.order-link").all_inner_texts())
            assert links == ["B", "C"]
            page.screenshot(path=str(ARTIFACTS / "kpi_dashboard.png"), full_page=True)
            page.locator("#drill a.order-link", has_text="C").click()
            page.wait_for_url("**/orders/C")
            assert page.locator("#order-id").inner_text() == "C"
            timeline = page.locator("#timeline").inner_text()
            assert "택배사 인계" in timeline and "수동" in timeline  # C's handover was entered by hand
            # English.
            page.goto(base + "/?from=2026-10-01&to=2026-10-31&grain=week&lang=en")
            page.wait_for_selector("body[data-loaded='1']", timeout=30_000)
            assert "Delivery delay rate" in page.locator(".tile[data-kpi='delivery_delay_rate']").inner_text()
            assert page.locator("h2").first.inner_text() == "KPIs against targets"
            assert page.locator("#lang-switch").inner_text() == "한국어"
            page.screenshot(path=str(ARTIFACTS / "kpi_dashboard_en.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [], errors
    assert (ARTIFACTS / "kpi_dashboard.png").stat().st_size > 10_000
