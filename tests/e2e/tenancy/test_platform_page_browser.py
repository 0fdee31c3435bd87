"""The platform operator's `/platform` page in headless Chromium: every seller in a row, the same numbers
as GET /v1/shops, each row linking to the seller's monthly report, and no raw key in Korean or English.

shop-a is three simulated days of a small shop (late orders, open exceptions, chats) and its warehouse
system has gone silent (an open silence episode); shop-b has sent nothing yet."""

from __future__ import annotations

import base64
import importlib.util
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.users import authenticate, create_session, create_user
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import drain, launch_chromium, make_hub, serving

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "Platform-page-2026!strong"
COLUMNS = ("late", "open-exceptions", "silent", "events", "notices", "chats")


def _detector() -> ModuleType:
    """The raw-key detector of the page sweep (tests/e2e/web_pages), one definition for every page."""
    path = REPO / "tests" / "e2e" / "web_pages" / "test_web_raw_keys_browser.py"
    spec = importlib.util.spec_from_file_location("raw_keys_detector", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _simulate(hub: Any, now: datetime) -> None:
    from deliveryhub.simulator.shop import ShopConfig, ShopSimulator

    config = ShopConfig(orders_per_day=20, sales_events=(), delay_rate=0.4, chat_rate=0.2)
    start = now - timedelta(days=3)
    emissions = ShopSimulator(config, seed=5).generate(start, 3.0)
    hub.ingest.ingest([e.payload for e in emissions if e.kind == "event" and e.at <= now])
    drain(hub)
    for job in hub.jobs:
        if job.name in ("timers", "monitors"):
            job.run(now)
    drain(hub)
    quiet = datetime.now(UTC)  # after the last event received: the warehouse system stopped sending
    with hub.db.write() as conn:
        conn.execute(
            ct.connector_silence.insert().values(source="wms", silent_since=quiet, detected_at=quiet)
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("platform_page")
    hub = make_hub(tmp, base64.b64encode(secrets.token_bytes(32)).decode())
    app = create_platform_app(hub, run_worker=False)
    hubs: ShopHubs = app.hubs
    now = datetime.now(UTC)
    hubs.directory.create("가나다 상점", "shop-a", hub.clock.now())
    hubs.directory.create("라마바 상점", "shop-b", hub.clock.now())
    shop_a = hubs.hub("shop-a")
    assert shop_a is not None and hubs.hub("shop-b") is not None
    _simulate(shop_a, now)
    create_user(hub, "operator@example.com", "platform", PASSWORD)
    token = create_session(hub, authenticate(hub, "operator@example.com", PASSWORD)).token
    with serving(app) as base:
        yield {"base": base, "token": token}
    hubs.close()
    hub.close()


def test_platform_page_equals_the_api_in_both_languages(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    api = httpx.get(base + "/v1/shops", headers={"Authorization": f"Bearer {site['token']}"}, timeout=120)
    assert api.status_code == 200, api.text
    expected = {
        s["slug"]: {
            "late": s["health"]["late_orders"],
            "open-exceptions": s["health"]["open_exceptions"],
            "silent": s["health"]["silent_count"],
            "events": s["usage"]["events"],
            "notices": s["usage"]["notices"],
            "chats": s["usage"]["chats"],
        }
        for s in api.json()["shops"]
    }
    a = expected["shop-a"]
    assert a["late"] > 0 and a["open-exceptions"] > 0 and a["silent"] == 1 and a["events"] > 0, a
    detector = _detector()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ko-KR")
            ctx.add_cookies([{"name": "dh_session", "value": site["token"], "url": base}])
            page = ctx.new_page()
            for lang, q in (("ko", ""), ("en", "?lang=en")):
                res = page.goto(base + "/platform" + q)
                assert res is not None and res.status == 200
                page.wait_for_selector("#sellers tbody tr")
                page.screenshot(path=str(ARTIFACTS / f"platform_{lang}.png"), full_page=True)
                shown = {
                    row.get_attribute("data-slug"): {
                        col: int(row.locator(f"td.{col}").get_attribute("data-n") or "-1") for col in COLUMNS
                    }
                    for row in page.locator("#sellers tbody tr").all()
                }
                assert shown == expected, lang
                silent_cell = page.locator("tr[data-slug='shop-a'] td.silent").inner_text()
                assert ("창고 시스템" if lang == "ko" else "Warehouse") in silent_cell
                found = detector.raw_keys(str(page.title()) + "\n" + page.inner_text("body"), lang)
                if found:
                    problems[lang] = found
                # Each row links to that seller's monthly report.
                href = page.locator("tr[data-slug='shop-a'] a.seller-report").get_attribute("href")
                assert href and href.startswith("/platform/shop-a/report?month=")
            # The header never pushes the name or 로그아웃 off a laptop-sized screen (it wraps instead).
            for width in (1300, 1024, 800):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(base + "/platform")
                logout = page.locator("header.top form.inline button").bounding_box()
                assert logout is not None and logout["x"] + logout["width"] <= width, (width, logout)
            report = page.goto(base + href)
            assert report is not None and report.status == 200
            assert "가나다" in page.inner_text("body") or page.locator("table").count() > 0
        finally:
            browser.close()
    assert not problems, problems


def test_platform_page_needs_the_platform_role(site: dict[str, Any]) -> None:
    base = site["base"]
    anonymous = httpx.get(base + "/platform", follow_redirects=False, timeout=60)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    unknown = httpx.get(base + "/platform/shop-zz/report", cookies={"dh_session": site["token"]}, timeout=60)
    assert unknown.status_code == 404
