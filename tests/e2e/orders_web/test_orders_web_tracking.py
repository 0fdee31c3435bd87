"""Over HTTP: the customer's tracking page says the order is late against the promised date (and why),
shows each parcel's journey down to the last scan and its location with a link to the carrier, carries
the shop's name, logo and colour from the configuration, and still shows nothing personal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dh_testkit import free_port, serve_hub

sys.path.insert(0, str(Path(__file__).parent))
from orders_web_kit import shop_hub  # noqa: E402

LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<rect width="4" height="4" fill="#0a0"/></svg>'
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import base64
    import secrets

    tmp = tmp_path_factory.mktemp("tracking_web")
    logo = tmp / "logo.svg"
    logo.write_bytes(LOGO)
    mp = pytest.MonkeyPatch()
    mp.setenv("DELIVERYHUB_SHOP_NAME", "달빛상점")
    mp.setenv("DELIVERYHUB_SHOP_LOGO_FILE", str(logo))
    mp.setenv("DELIVERYHUB_SHOP_COLOR", "#7c3aed")
    port = free_port()
    hub = shop_hub(
        tmp, base64.b64encode(secrets.token_bytes(32)).decode(), public_url=f"http://127.0.0.1:{port}"
    )
    try:
        with serve_hub(hub, run_worker=False, port=port) as base:
            yield {
                "hub": hub,
                "base": base,
                "links": {o: hub.links.issue(o) for o in ("O-LATE", "O-OK", "O-DONE")},
            }
    finally:
        mp.undo()


def test_late_order_is_explained_against_the_promise(site: dict[str, Any]) -> None:
    html = httpx.get(site["links"]["O-LATE"]).text
    assert 'data-state="late"' in html
    assert "약속드린 도착일 11월 23일(월)보다 3일 늦어지고 있어요" in html
    assert "지금 예상 도착은 11월 27일(금)" in html and "지연 사유: 기상 악화" in html
    # Two parcels, two journeys; each down to its last scan and its location, with the carrier's page.
    cj = html.split('data-shipment="P1"')[1].split('data-shipment="P2"')[0]
    assert "상자 1" in cj and "CJ대한통운 553825406594" in cj
    assert (
        "trace.cjlogistics.com/next/tracking.html?wblNo=553825406594" in cj and "택배사에서 직접 조회" in cj
    )
    last = cj.split('class="last-scan"')[1].split("</p>")[0]
    assert "대전 HUB" in last and "배송 이상 · 배송 지연 (기상 악화)" in last
    assert cj.index("대전 HUB") < cj.index("곤지암 Hub")
    hanjin = html.split('data-shipment="P2"')[1]
    assert "상자 2" in hanjin and "옥천 HUB" in hanjin and "hanjin.com" in hanjin
    assert "옥천 HUB" in hanjin.split('class="last-scan"')[1].split("</p>")[0]  # not the later ETA revision
    # Nothing personal beyond the first character of the name.
    assert "김**" in html and "김민수" not in html and "2345" not in html and "테헤란로" not in html


def test_on_time_delivered_late_and_english(site: dict[str, Any]) -> None:
    ok = httpx.get(site["links"]["O-OK"]).text
    assert 'data-state="on_time"' in ok and "약속드린 도착일 11월 28일(토)까지 도착할 예정이에요" in ok
    done = httpx.get(site["links"]["O-DONE"]).text
    assert 'data-state="delivered_late"' in done and "3일 늦게 도착했어요" in done
    assert "로젠택배" in done and "ilogen.com" in done
    en = httpx.get(site["links"]["O-LATE"] + "?lang=en").text
    assert "3 day(s) past the promised date (Mon 23 Nov)" in en and "Reason: Bad weather" in en
    assert "Parcel 1" in en and "Track at the carrier" in en


def test_shop_name_logo_and_colour_from_config(site: dict[str, Any]) -> None:
    html = httpx.get(site["links"]["O-LATE"]).text
    assert '<header class="shop" id="shop">' in html and "달빛상점" in html
    assert '<img src="/static/shop/logo"' in html and "--brand:#7c3aed" in html
    logo = httpx.get(site["base"] + "/static/shop/logo")
    assert (
        logo.status_code == 200 and logo.content == LOGO and logo.headers["content-type"] == "image/svg+xml"
    )


def test_no_logo_and_a_bad_colour_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from deliveryhub.notifications.tracking import DEFAULT_COLOR, brand_settings, logo_file

    monkeypatch.setenv("DELIVERYHUB_SHOP_COLOR", "red;}</style><script>")
    monkeypatch.setenv("DELIVERYHUB_SHOP_LOGO_FILE", "/nonexistent/logo.png")
    brand = brand_settings()
    assert brand.shop_color == DEFAULT_COLOR and logo_file(brand) is None
