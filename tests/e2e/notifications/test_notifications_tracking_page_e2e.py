"""The tracking page linked from notices renders in headless Chromium with the right stage; a
tampered token gets 404; nothing personal beyond the first character of the name is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, free_port, launch_chromium, make_hub, serve_hub
from notif_kit import lifecycle

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Any:
    port = free_port()
    hub = make_hub(tmp_path, master_key, clock=ManualClock(START), public_url=f"http://127.0.0.1:{port}")
    hub.ingest.ingest(lifecycle("O-TRACK", START, {"name": "홍길동", "phone": "010-1234-5678"})[:8])
    drain(hub)
    with serve_hub(hub, run_worker=False, port=port) as base:
        yield hub, base


@pytest.mark.browser
def test_tracking_page_in_chromium(served: Any) -> None:
    from playwright.sync_api import sync_playwright

    hub, base = served
    url = hub.links.issue("O-TRACK")
    assert url.startswith(base + "/track/")
    token = url.rsplit("/", 1)[1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        resp = page.goto(url)
        assert resp is not None and resp.status == 200
        assert page.locator("#stage").get_attribute("data-stage") == "out_for_delivery"
        assert page.locator("#stage").inner_text() == "배송 출발"
        assert page.locator("#timeline li").count() == 7
        assert "CJ대한통운 123456789012" in page.locator(".parcel").inner_text()
        assert "11월 22일(일) 15:00~17:00" in page.locator("#eta").inner_text()
        text = page.locator("body").inner_text()
        assert "홍**" in text and "홍길동" not in text and "길동" not in text
        assert "010-1234" not in text and "01012345678" not in text and "테헤란로" not in text
        resp = page.goto(url + "?lang=en")
        assert resp is not None and page.locator("#stage").inner_text() == "Out for delivery"
        for bad in (
            base + "/track/" + tampered,
            base + "/track/garbage",
            base + "/track/" + token.split(".")[0],
        ):
            resp = page.goto(bad)
            assert resp is not None and resp.status == 404
        browser.close()


@pytest.mark.browser
def test_link_over_shows_a_polite_410_page_in_chromium(served: Any) -> None:
    """Expired (pinned clock), then revoked by staff over real HTTP: a Korean-first page with the way
    to reach the shop, status 410, no order data; the reissued link works."""
    import httpx
    from playwright.sync_api import sync_playwright

    from deliveryhub.security.apikeys import create_api_key

    hub, base = served
    url = hub.links.issue("O-TRACK")
    ops = {"Authorization": f"Bearer {create_api_key(hub.db, 'ops-e2e', 'ops')}"}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        # Never delivered: the link lives for the hard cap (180 days by default) after it was sent.
        hub.clock.set(START + timedelta(days=181))
        resp = page.goto(url)
        assert resp is not None and resp.status == 410
        assert page.locator("h1").first.inner_text() == "배송 조회 링크의 유효기간이 지났어요"
        assert page.locator("#gone-en h1").inner_text() == "This tracking link has expired"
        text = page.locator("body").inner_text()
        assert "고객센터" in text and "customer service" in text
        for leaked in ("O-TRACK", "홍**", "배송 출발", "CJ대한통운", "123456789012"):
            assert leaked not in text
        resp = page.goto(url + "?lang=en")
        assert resp is not None and resp.status == 410
        assert page.locator("h1").first.inner_text() == "This tracking link has expired"

        hub.clock.set(START)
        assert page.goto(url).status == 200  # type: ignore[union-attr]
        revoked = httpx.post(f"{base}/v1/orders/O-TRACK/tracking-link/revoke", headers=ops, json={})
        assert revoked.status_code == 200
        resp = page.goto(url)
        assert resp is not None and resp.status == 410
        assert page.locator("h1").first.inner_text() == "이 배송 조회 링크는 더 이상 사용할 수 없어요"
        assert "O-TRACK" not in page.locator("body").inner_text()
        anonymous = httpx.post(f"{base}/v1/orders/O-TRACK/tracking-link/reissue")
        assert anonymous.status_code == 401
        fresh = httpx.post(f"{base}/v1/orders/O-TRACK/tracking-link/reissue", headers=ops).json()["url"]
        resp = page.goto(fresh)
        assert resp is not None and resp.status == 200
        assert page.locator("#stage").get_attribute("data-stage") == "out_for_delivery"
        browser.close()
