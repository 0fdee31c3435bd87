"""A shop's `/shop/checklist` page in headless Chromium, through the platform's front door with the shop
admin's session: Korean first, English with ?lang=en, every item shown, no raw key (commands in <code>
are commands, not words)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from deliveryhub.security.users import authenticate, create_session, create_user
from dh_testkit import launch_chromium, serving
from tenancy_kit import Tenants

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "Checklist-page-2026!strong"
# The page's visible text without its <code> commands (`deliveryhub keys create …` is meant to be typed).
VISIBLE = """() => { const b = document.body.cloneNode(true);
  b.querySelectorAll('code').forEach(c => c.remove()); return document.title + '\\n' + b.innerText; }"""


def _detector() -> ModuleType:
    """The raw-key detector of the page sweep (tests/e2e/web_pages), one definition for every page."""
    path = REPO / "tests" / "e2e" / "web_pages" / "test_web_raw_keys_browser.py"
    spec = importlib.util.spec_from_file_location("raw_keys_detector", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checklist_page_in_korean_and_english(tenants: Tenants) -> None:
    from playwright.sync_api import sync_playwright

    from deliveryhub.kernel.labels import label
    from deliveryhub.shops.checklist import ITEMS

    hub = tenants.hubs.hub("shop-a")
    assert hub is not None
    create_user(hub, "owner-a@example.com", "admin", PASSWORD)
    token = create_session(hub, authenticate(hub, "owner-a@example.com", PASSWORD)).token
    raw_keys = _detector().raw_keys
    problems: dict[str, list[str]] = {}
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    # lifespan off: the package's TestClient already runs the platform app's lifespan
    with serving(tenants.client.app, lifespan="off") as base, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport={"width": 1200, "height": 1000}, locale="ko-KR")
            ctx.add_cookies([{"name": "dh_session", "value": token, "url": base}])
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            for lang, query in (("ko", ""), ("en", "?lang=en")):
                res = page.goto(base + "/shop/checklist" + query)
                assert res is not None and res.status == 200, lang
                page.screenshot(path=str(ARTIFACTS / f"shop_checklist_{lang}.png"), full_page=True)
                assert page.inner_text("#shop-name") == "가나다 상점"
                assert label("shop_page", "title", lang) in page.title()
                for key in ITEMS:
                    assert page.locator(f"#item-{key}").count() == 1, (lang, key)
                    assert label("shop_page", key, lang) in page.inner_text(f"#item-{key}")
                assert page.get_attribute("#item-first_events", "data-done") == "1"
                assert page.get_attribute("#item-staff_users", "data-done") == "1"
                found = raw_keys(str(page.evaluate(VISIBLE)), lang)
                if found:
                    problems[lang] = found
                if lang == "ko":
                    assert "다음 할 일" in page.inner_text("#checklist")
        finally:
            browser.close()
    assert not errors, errors
    assert not problems, problems
