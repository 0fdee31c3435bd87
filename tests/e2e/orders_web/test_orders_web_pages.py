"""Over HTTP: the order page tells the whole story of a late order (open exception with evidence, ETA
vs promised date, per-parcel scans with location, notices per channel, tickets, claims); the header's
order search finds an order by number, marketplace no., tracking no. and phone; staff copy a tracking
link and the copy is audited."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dh_testkit import serve_hub

sys.path.insert(0, str(Path(__file__).parent))
from orders_web_kit import MARKET_NO, PHONE, shop_hub  # noqa: E402

PASSWORD = "Order-page-2026!strong"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import base64
    import secrets

    from deliveryhub.security.users import authenticate, create_session, create_user

    hub = shop_hub(tmp_path_factory.mktemp("orders_web"), base64.b64encode(secrets.token_bytes(32)).decode())
    sessions = {}
    for role in ("ops", "analyst"):
        create_user(hub, f"{role}@example.com", role, PASSWORD)
        sessions[role] = create_session(hub, authenticate(hub, f"{role}@example.com", PASSWORD)).token
    with serve_hub(hub, run_worker=False) as base:
        yield {"hub": hub, "base": base, "sessions": sessions}


def _client(site: dict[str, Any], role: str = "ops") -> httpx.Client:
    return httpx.Client(
        base_url=site["base"], cookies={"dh_session": site["sessions"][role]}, follow_redirects=False
    )


def test_order_page_tells_the_late_order_story(site: dict[str, Any]) -> None:
    with _client(site) as c:
        html = c.get("/orders/O-LATE").text
    # Against the promised date: Mon 23 Nov, and it is Thu 26 Nov.
    assert 'data-state="late"' in html and "약속일보다 3일 늦음" in html
    assert '<dd id="promised">2026년 11월 23일 (월)</dd>' in html
    # The ETA window (Fri 27 Nov) ends after the promise.
    assert "11월 27일(금)" in html and 'data-versus="after"' in html and "약속일을 넘겨 도착 예정" in html
    # Open exceptions with their evidence, in words.
    assert 'data-type="delivery_delay"' in html and "배송 지연" in html
    assert "지연 일수</th><td>3</td>" in html and "약속 배송일</th><td>2026년 11월 23일 (월)</td>" in html
    assert 'data-type="delivery_failed"' in html and "기상 악화" in html
    # Per-parcel scans, newest first, with their location; carrier names and links.
    assert "CJ대한통운" in html and "한진택배" in html
    assert "trace.cjlogistics.com/next/tracking.html?wblNo=553825406594" in html
    cj = html.split('data-shipment="P1"')[1].split('data-shipment="P2"')[0]
    assert cj.index("대전 HUB") < cj.index("곤지암 Hub")
    assert "배송 이상 · 배송 지연 (기상 악화)" in cj and "이동 중 · 간선상차" in cj
    assert "옥천 HUB" in html.split('data-shipment="P2"')[1]
    # Notices per channel with their delivery status; tickets; the delay claim.
    notices = html.split('id="notices"')[1].split('id="tickets"')[0]
    assert "배송 지연 안내" in notices and "도착 예정일 변경 안내" in notices
    assert 'data-status="failed"' in notices and "실패" in notices
    assert "[운영]" not in notices  # ops alerts are not customer notices
    tickets = html.split('id="tickets"')[1].split('id="claims"')[0]
    assert "클레임 접수: 배송 지연 (O-LATE)" in tickets and "진행 중" in tickets
    claims = html.split('id="claims"')[1]
    assert "클레임 접수" in claims and "배송 지연" in claims and "3,000" in claims
    # The compensation the rules granted for the delay (2+ days late: a 3,000 coupon), not issued yet.
    compensations = claims.split('id="compensations"')[1]
    assert 'data-status="pending_issue"' in compensations and "쿠폰" in compensations
    assert "3,000" in compensations and "지급 예정" in compensations
    # Stages and sources in words, no personal data.
    assert "배송 중" in html and "주문 시스템(OMS)" in html
    for raw in (
        "in_transit",
        "delivery_delay<",
        "shipment.tracking",
        "carrier:cj",
        "김민수",
        "2345-6789",
        "010-2345",
    ):
        assert raw not in html.replace('data-type="delivery_delay"', "").replace('"in_transit"', "")


def test_order_api_says_how_late(site: dict[str, Any]) -> None:
    with _client(site) as c:
        late = c.get("/v1/orders/O-LATE").json()
        done = c.get("/v1/orders/O-DONE").json()
        ok = c.get("/v1/orders/O-OK").json()
    assert late["lateness"] == {"state": "late", "days_late": 3}
    assert done["lateness"] == {"state": "delivered_late", "days_late": 3}
    assert ok["lateness"] == {"state": "on_track", "days_late": 0}
    assert [c["type"] for c in late["claims"]] == ["claim.opened"]


def test_order_page_in_english_and_unknown_order(site: dict[str, Any]) -> None:
    with _client(site) as c:
        html = c.get("/orders/O-LATE?lang=en").text
        assert "3 day(s) past the promised date" in html and "Expected after the promised date" in html
        assert "Delivery delay" in html and "Carrier scans" in html
        assert "Days late</th><td>3</td>" in html and "CJ Logistics" in html
        missing = c.get("/orders/NOPE")
        assert missing.status_code == 404 and 'id="not-found"' in missing.text
    with _client(site) as c:
        done = c.get("/orders/O-DONE").text
    assert 'data-state="delivered_late"' in done and "약속일보다 3일 늦게 배송 완료" in done


def test_order_search_by_number_marketplace_tracking_and_phone(site: dict[str, Any]) -> None:
    with _client(site) as c:
        for q, oid, how in (
            ("O-LATE", "O-LATE", "order_id"),
            ("o-ok", "O-OK", "order_id"),
            (MARKET_NO, "O-OK", "external_id"),
            ("4123 5678 9012", "O-LATE", "tracking_no"),
            ("412356789012", "O-LATE", "tracking_no"),
            (PHONE, "O-LATE", "phone"),
            ("01023456789", "O-LATE", "phone"),
        ):
            api = c.get("/v1/orders/search", params={"q": q}).json()["orders"]
            assert [(o["order_id"], o["matched"]) for o in api] == [(oid, how)], q
            page = c.get("/search", params={"q": q})
            assert page.status_code == 303 and page.headers["location"] == f"/orders/{oid}", q
        nothing = c.get("/search", params={"q": "없는주문"})
        assert nothing.status_code == 200 and 'id="search-none"' in nothing.text
        assert c.get("/v1/orders/search", params={"q": "010-0000-0000"}).json()["orders"] == []
        # The header of every ops page carries the search box.
        assert 'id="order-search"' in c.get("/orders/O-OK").text


def test_copy_tracking_link_is_audited_and_needs_orders_act(site: dict[str, Any]) -> None:
    hub = site["hub"]
    with _client(site) as c:
        html = c.get("/orders/O-LATE").text
        assert 'id="copy-link"' in html
        r = c.post("/v1/orders/O-LATE/tracking-link/copy", headers={"origin": site["base"]})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        url = r.json()["url"]
        assert "/track/" in url and hub.links.order_for_token(url.split("/track/")[1]) == "O-LATE"
        assert (
            c.post("/v1/orders/NOPE/tracking-link/copy", headers={"origin": site["base"]}).status_code == 404
        )
    from deliveryhub.security.tables import audit_log

    with hub.db.read() as conn:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.action == "tracking_link.copied")).all()
    assert [r.target for r in rows] == ["order:O-LATE"]
    with _client(site, "analyst") as c:
        assert 'id="copy-link"' not in c.get("/orders/O-LATE").text
        assert (
            c.post("/v1/orders/O-LATE/tracking-link/copy", headers={"origin": site["base"]}).status_code
            == 403
        )


def test_resend_tracking_link_repeats_the_latest_notice_and_is_audited(site: dict[str, Any]) -> None:
    from deliveryhub.notifications.tables import notification_jobs as jobs
    from deliveryhub.security.tables import audit_log

    hub = site["hub"]
    origin = {"origin": site["base"]}
    with _client(site) as c:
        assert 'id="resend-link"' in c.get("/orders/O-LATE").text
        r = c.post("/v1/orders/O-LATE/tracking-link/resend", headers=origin)
        assert r.status_code == 200 and r.json()["queued"] is True
        job_id = r.json()["job_id"]
        reason = {"reason": "고객이 링크를 못 찾음"}
        again = c.post("/v1/orders/O-LATE/tracking-link/resend", headers=origin, json=reason)
        assert again.status_code == 200 and again.json()["job_id"] != job_id  # each resend is its own notice
        assert c.post("/v1/orders/NOPE/tracking-link/resend", headers=origin).status_code == 404
    with hub.db.read() as conn:
        job = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()
        latest = conn.execute(
            sa.select(jobs)
            .where(jobs.c.order_id == "O-LATE", jobs.c.audience == "customer", jobs.c.id < job_id)
            .order_by(jobs.c.id.desc())
        ).first()
        audited = conn.execute(
            sa.select(audit_log.c.target, audit_log.c.details).where(
                audit_log.c.action == "tracking_link.resent"
            )
        ).all()
    assert latest is not None and job.template == latest.template and job.stage == latest.stage
    assert (
        job.manual and job.rule_id == "resend_link" and job.audience == "customer" and job.status == "pending"
    )
    assert [a.target for a in audited] == ["order:O-LATE", "order:O-LATE"]
    assert "고객이 링크를 못 찾음" in audited[1].details
    with _client(site, "analyst") as c:
        assert c.post("/v1/orders/O-LATE/tracking-link/resend", headers=origin).status_code == 403
