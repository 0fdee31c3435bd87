"""The ops work screens in headless Chromium: an operator resolves (and bulk-acknowledges) exceptions,
approves a compensation, fixes and replays a quarantined event and resends a dead-lettered notice, each
checked afterwards through the JSON API; Korean by default, English with ?lang=en, no raw key on any ops
page; a read-only role sees no action button and gets 403 when it posts anyway.

The data comes in through the public doors: events through ingest and POST /v1/events, exceptions from
the monitors' run, a claim above the approval threshold for the compensation, a notice dead-lettered
against a local NHN-style provider that answers 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dh_testkit import carrier_event, drain, event, handed_over, launch_chromium, make_hub, serve_hub, waybill

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)  # Tuesday, business hours
NOW = START + timedelta(days=4, hours=5)
PASSWORD = "Ops-work-2026!strong"
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
RULES = """compensation:
  approval_threshold: 30000
  rules:
    - {name: delay_2d_coupon, trigger: delivery_delay, min_days_late: 2, kind: coupon, amount: 3000}
    - {name: damage_large_refund, trigger: claim, claim_kind: damage, min_claim_amount: 30000, kind: refund,
       amount: claim}
"""
QUARANTINED = event("OPS-Q-c", "order.created", "OPS-Q", "2026-11-28T10:00:00", {"items": [{"sku": "Q-1"}]})
PAGES = ("/ops/exceptions", "/ops/compensations", "/ops/returns", "/ops/quarantine", "/ops/dead-letters")

# The raw-key detector of tests/e2e/web_pages (a snake_case or dotted code; on a Korean page, any
# lower-case English word).
CODE = re.compile(r"(?<![\w/.@-])[a-z][a-z0-9]+(?:[_.][a-z0-9]{2,})+(?![\w/@-])")
WORD = re.compile(r"(?<![\w/.@-])[a-z]{2,}(?![\w/@-])")
URLS = re.compile(r"(?:https?://|/)[\w./?=&%#:~+-]*|[\w.+-]+@[\w.-]+")


def raw_keys(text: str, lang: str) -> list[str]:
    """Raw keys in a page's visible text, with a little context."""
    from deliveryhub.kernel.labels import pairs

    text = URLS.sub(" ", text)
    found = list(CODE.finditer(text))
    if lang == "ko":
        found += list(WORD.finditer(text))
    else:
        keys = {k for k in set(pairs("carrier")) | set(pairs("channel")) if k not in ("own", "web", "app")}
        found += [m for m in WORD.finditer(text) if m.group(0) in keys]
    return [f"{m.group(0)!r} in …{text[max(0, m.start() - 30) : m.end() + 30]}…" for m in found]


def _ingest(hub: Any, events: list[dict[str, Any]]) -> None:
    results = hub.ingest.ingest(events)
    assert all(r.status != "rejected" for r in results), [r.as_dict() for r in results]
    drain(hub)


def _order(oid: str, at: datetime, **data: Any) -> dict[str, Any]:
    body = {
        "items": [{"sku": "A-1", "qty": 1}],
        "total": 32000,
        "promised_delivery_date": (at + timedelta(days=2)).date().isoformat(),
        **data,
    }
    return event(f"{oid}-c", "order.created", oid, at.isoformat(), body)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import base64
    import secrets

    from deliveryhub.kernel.clock import ManualClock
    from deliveryhub.monitors.service import run_all_monitors
    from deliveryhub.security.users import authenticate, create_session, create_user
    from notif_kit import Provider, configure_providers, send_all

    tmp = tmp_path_factory.mktemp("opsweb")
    rules = tmp / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    provider = Provider().start()
    mp = pytest.MonkeyPatch()
    configure_providers(mp, provider, DELIVERYHUB_RETRY_BUDGET="2")
    clock = ManualClock(START)
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    hub = make_hub(tmp, master_key, clock=clock, config_file=rules)
    try:
        # A notice the provider never takes (알림톡 and SMS both answer 500): dead after its retries.
        provider.fail_always = True
        customer = {"name": "홍길동", "phone": "010-1234-5678"}
        _ingest(hub, [_order("OPS-DL", START, customer=customer)])
        for _ in range(12):
            clock.advance(timedelta(minutes=10))
            send_all(hub)
        # Parcels that go quiet and late (exceptions), one late delivery, one large damage claim.
        for i in range(1, 5):
            oid = f"OPS-{i}"
            _ingest(
                hub,
                [
                    _order(oid, START),
                    waybill(
                        f"{oid}-w", oid, START.isoformat(), "cj", f"55500000000{i}", shipment_id=f"S-{oid}"
                    ),
                ],
            )
        # Two delivered orders that will be returned (one return, one exchange).
        for oid in ("OPS-R1", "OPS-R2"):
            ship = f"S-{oid}"
            _ingest(
                hub,
                [
                    _order(oid, START),
                    waybill(
                        f"{oid}-w", oid, START.isoformat(), "cj", f"5550000001{oid[-1]}", shipment_id=ship
                    ),
                    handed_over(f"{oid}-h", oid, (START + timedelta(hours=2)).isoformat(), "cj", ship),
                    carrier_event(
                        f"{oid}-d",
                        "shipment.delivered",
                        oid,
                        (START + timedelta(days=1)).isoformat(),
                        "cj",
                        {},
                        ship,
                    ),
                ],
            )
        claim = event(
            "OPS-9-cl", "claim.opened", "OPS-9", START.isoformat(), {"kind": "damage", "amount": 45000}
        )
        _ingest(hub, [_order("OPS-9", START), {**claim, "source": "cs"}])
        clock.set(NOW)
        run_all_monitors(hub.monitors)
        hub.monitors.fire_due()
        drain(hub)
        provider.fail_always = False  # the provider is back: a resend goes through
        users = {}
        for email, role in (("ops@example.com", "ops"), ("auditor@example.com", "auditor")):
            create_user(hub, email, role, PASSWORD)
            users[role] = create_session(hub, authenticate(hub, email, PASSWORD)).token
        with serve_hub(hub, run_worker=False) as base:
            # Returns asked through the API: one two days ago (its pickup booking is overdue), one now.
            with httpx.Client(
                base_url=base, cookies={"dh_session": users["ops"]}, headers={"Origin": base}
            ) as api:
                clock.set(START + timedelta(days=1, hours=3))
                asked = api.post("/v1/orders/OPS-R1/returns", json={"reason_code": "change_of_mind"})
                assert asked.status_code == 200, asked.text
                clock.set(NOW)
                asked = api.post(
                    "/v1/orders/OPS-R2/returns", json={"kind": "exchange", "reason_code": "damaged"}
                )
                assert asked.status_code == 200, asked.text
                # An event the hub rejects (a timestamp without its offset): quarantined, to be fixed.
                rejected = api.post("/v1/events", json=QUARANTINED).json()["results"][0]
                assert rejected["status"] == "rejected" and rejected["error"]["code"] == "naive_timestamp"
            yield {"base": base, "hub": hub, "users": users, "send_all": send_all, "provider": provider}
    finally:
        mp.undo()
        provider.stop()


def _off_loop(fn: Any, *args: Any) -> Any:
    """Run `fn` in a plain thread (Playwright's sync API keeps an event loop on this one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def _api(site: dict[str, Any], role: str = "ops") -> httpx.Client:
    return httpx.Client(
        base_url=site["base"],
        cookies={"dh_session": site["users"][role]},
        headers={"Origin": site["base"]},  # a same-origin request, as the browser's (CSRF)
        timeout=60,
    )


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    """Chromium, started after the site is built (Playwright's sync API holds an event loop)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


def _page(browser: Any, site: dict[str, Any], role: str = "ops") -> Any:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    ctx.add_cookies([{"name": "dh_session", "value": site["users"][role], "url": site["base"]}])
    page = ctx.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))  # type: ignore[attr-defined]
    return page


def _act(page: Any, target: Any) -> str:
    """Click an action button; the page reloads and says what happened (that message)."""
    page.evaluate("() => { const f = document.getElementById('flash'); f.removeAttribute('data-kind'); }")
    target.click()
    page.wait_for_selector("#flash[data-kind]", timeout=60_000)
    return str(page.inner_text("#flash"))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_ops_page_speaks_the_language_without_raw_keys(
    site: dict[str, Any], browser: Any, lang: str
) -> None:
    q = "?lang=en" if lang == "en" else ""
    page = _page(browser, site)
    problems: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(exist_ok=True)
    urls = [p + q for p in PAGES] + [
        "/ops/exceptions" + (q + "&" if q else "?") + "status=resolved",
        "/ops/quarantine" + (q + "&" if q else "?") + "status=replayed",
        "/" + q,
    ]
    for url in urls:
        page.goto(site["base"] + url)
        page.wait_for_selector("body[data-loaded='1']", timeout=60_000)
        if url.startswith("/?") or url == "/":
            page.wait_for_selector("#exceptions table", timeout=60_000)
        name = (
            url.strip("/").replace("/", "_").replace("?", "_").replace("&", "_").replace("=", "-")
            or "dashboard"
        )
        page.screenshot(path=str(ARTIFACTS / f"ops_{name}_{lang}.png"), full_page=True)
        text = str(page.title()) + "\n" + str(page.inner_text("body"))
        found = raw_keys(text, lang)
        if found:
            problems[url] = found
    page.goto(site["base"] + "/ops/exceptions" + q)
    heading = page.inner_text("h2")
    assert heading.startswith("Exception inbox" if lang == "en" else "예외 처리함"), heading
    nav = page.inner_text("#ops-tabs")
    assert ("Approvals" if lang == "en" else "보상 승인") in nav
    assert page.errors == []  # type: ignore[attr-defined]
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_operator_resolves_assigns_and_bulk_acknowledges_exceptions(
    browser: Any, site: dict[str, Any]
) -> None:
    with _api(site) as api:
        active = api.get("/v1/exceptions").json()
    assert active["total"] >= 3, active["counts"]
    page = _page(browser, site)
    page.goto(site["base"] + "/ops/exceptions")
    assert page.inner_text("h2").startswith("예외 처리함")
    cards = page.locator(".exc-card[data-status='open']")
    assert cards.count() == active["total"]
    first = cards.first
    first_id = int(first.get_attribute("data-id"))
    # Each exception in words: its type's name, the next action, the evidence rows named.
    assert first.locator(".next").inner_text().startswith("다음 할 일")
    assert first.locator("table.evidence th").count() >= 1
    first.locator(".note-input").fill("택배사 확인 완료")
    assert "처리했어요" in _act(page, first.locator("button.act-resolve"))
    with _api(site) as api:
        resolved = api.get("/v1/exceptions", params={"status": "resolved"}).json()["items"]
    mine = next(e for e in resolved if e["id"] == first_id)
    assert mine["resolution"] == "manual" and mine["evidence"]["notes"][-1]["note"] == "택배사 확인 완료"
    # Take one, then acknowledge two at once from the bulk bar.
    second = page.locator(".exc-card[data-status='open']").first
    second_id = int(second.get_attribute("data-id"))
    _act(page, second.locator("button.act-assign-me"))
    card = page.locator(f".exc-card[data-id='{second_id}']")
    assert "운영 담당 ops@example.com" in card.locator(".assignee-name").inner_text()
    picks = page.locator("input.pick")
    ids = [int(picks.nth(i).get_attribute("value")) for i in range(2)]
    for i in range(2):
        picks.nth(i).check()
    assert "2건 처리했어요" in _act(page, page.locator("button[data-bulk='acknowledge']"))
    with _api(site) as api:
        listed = {
            e["id"]: e for e in api.get("/v1/exceptions", params={"status": "acknowledged"}).json()["items"]
        }
        assert set(ids) <= set(listed)
        assert listed[second_id]["assignee"] == "ops:ops@example.com"
        # The bulk API on its own: an unknown id does not stop the others; assign needs the assignee.
        out = api.post(
            "/v1/exceptions/bulk", json={"ids": [ids[0], 999999], "action": "assign", "assignee": "김담당"}
        )
        assert out.status_code == 200, out.text
        assert [r["ok"] for r in out.json()["results"]] == [True, False]
        bad = api.post("/v1/exceptions/bulk", json={"ids": [ids[0]], "action": "assign"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "assignee"
    # The filter by type narrows the list.
    type_ = listed[ids[0]]["type"]
    page.goto(site["base"] + f"/ops/exceptions?type={type_}&status=acknowledged")
    assert {c.get_attribute("data-type") for c in page.locator(".exc-card").all()} == {type_}
    assert page.errors == []  # type: ignore[attr-defined]


def test_operator_approves_a_compensation(site: dict[str, Any], browser: Any) -> None:
    with _api(site) as api:
        pending = api.get("/v1/compensations", params={"status": "pending_approval"}).json()["items"]
    assert [(c["order_id"], c["amount"]) for c in pending] == [("OPS-9", 45000.0)]
    page = _page(browser, site)
    page.goto(site["base"] + "/ops/compensations")
    row = page.locator(f"#pending tr[data-id='{pending[0]['id']}']")
    assert "45,000원" in row.inner_text() and "클레임: 파손" in row.inner_text()
    assert "승인했어요" in _act(page, row.locator("button.act-approve"))
    with _api(site) as api:
        after = api.get("/v1/compensations", params={"order_id": "OPS-9"}).json()["items"]
    approved = next(c for c in after if c["id"] == pending[0]["id"])
    assert approved["status"] == "issued" and approved["decided_by"] == "ops:ops@example.com", after
    assert page.locator("#recent tr[data-status='issued']").count() >= 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_operator_fixes_and_replays_a_quarantined_event(site: dict[str, Any], browser: Any) -> None:
    with _api(site) as api:
        item = next(q for q in api.get("/v1/quarantine").json()["items"] if q["event_id"] == "OPS-Q-c")
    page = _page(browser, site)
    page.goto(site["base"] + "/ops/quarantine")
    card = page.locator(f".q-card[data-id='{item['id']}']")
    assert "시각에 시간대 없음" in card.inner_text() and "발생 시각" in card.locator("td.field").inner_text()
    card.locator("details.inspect summary").click()
    box = card.locator("textarea.payload")
    payload = json.loads(box.input_value())
    assert payload["occurred_at"] == "2026-11-28T10:00:00"
    payload["occurred_at"] = "2026-11-28T10:00:00+09:00"
    box.fill(json.dumps(payload, ensure_ascii=False))
    assert "다시 넣었어요" in _act(page, card.locator("button.act-replay-fixed"))
    with _api(site) as api:
        replayed = api.get("/v1/quarantine", params={"status": "replayed"}).json()["items"]
        assert item["id"] in [q["id"] for q in replayed]
        assert api.get("/v1/orders/OPS-Q").status_code == 200
    with _api(site, "auditor") as api:  # opening the payloads unmasked is audited, as is the replay
        actions = [e["action"] for e in api.get("/v1/audit", params={"limit": 500}).json()["entries"]]
        assert "quarantine.viewed" in actions and "quarantine.replayed" in actions
    assert page.errors == []  # type: ignore[attr-defined]


def test_operator_resends_a_dead_lettered_notice(site: dict[str, Any], browser: Any) -> None:
    with _api(site) as api:
        dead = api.get("/v1/notifications/dead-letters").json()["dead_letters"]
    assert [d["order_id"] for d in dead] == ["OPS-DL"], dead
    page = _page(browser, site)
    page.goto(site["base"] + "/ops/dead-letters")
    row = page.locator(f"#dead-letters tr[data-id='{dead[0]['id']}']")
    assert "주문 접수 안내" in row.inner_text() and "발송 실패" in row.inner_text()
    assert "다시 보내도록" in _act(page, row.locator("button.act-resend"))
    _off_loop(site["send_all"], site["hub"])  # the send job, outside Playwright's event loop
    with _api(site) as api:
        assert api.get("/v1/notifications/dead-letters").json()["dead_letters"] == []
        jobs = api.get("/v1/notifications", params={"order_id": "OPS-DL"}).json()["notifications"]
    job = next(j for j in jobs if j["id"] == dead[0]["id"])
    assert job["status"] == "sent" and job["manual"] is True
    assert page.locator("#empty").count() == 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_returns_in_progress_show_stage_and_sla(site: dict[str, Any], browser: Any) -> None:
    with _api(site) as api:
        listed = {r["order_id"]: r for r in api.get("/v1/returns").json()["returns"]}
    assert listed["OPS-R1"]["overdue"] is True and listed["OPS-R2"]["overdue"] is False
    page = _page(browser, site)
    page.goto(site["base"] + "/ops/returns")
    page.wait_for_selector("#returns-table", timeout=60_000)
    late = page.locator(f"#returns-table tr[data-id='{listed['OPS-R1']['return_id']}']")
    assert "overdue" in (late.get_attribute("class") or "")
    assert (
        "기한 초과" in late.inner_text()
        and "단순 변심" in late.inner_text()
        and "신청 접수" in late.inner_text()
    )
    other = page.locator(f"#returns-table tr[data-id='{listed['OPS-R2']['return_id']}']").inner_text()
    assert "교환" in other and "파손" in other and "판매자 부담" in other and "기한 내" in other
    page.goto(site["base"] + "/ops/returns?lang=en")
    page.wait_for_selector("#returns-table", timeout=60_000)
    assert "Overdue" in page.inner_text("#returns-table") and "Change of mind" in page.inner_text(
        "#returns-table"
    )
    assert page.errors == []  # type: ignore[attr-defined]


def test_read_only_role_sees_no_action_and_gets_403(site: dict[str, Any], browser: Any) -> None:
    page = _page(browser, site, "auditor")
    for path in ("/ops/exceptions", "/ops/compensations", "/ops/dead-letters"):
        page.goto(site["base"] + path)
        assert page.locator("#read-only").count() == 1, path
        assert page.locator("button[data-post], button[data-bulk]").count() == 0, path
    tabs = page.inner_text("#ops-tabs")
    assert "격리 입력" not in tabs  # quarantine is not for this role
    assert page.goto(site["base"] + "/ops/quarantine").status == 403
    page.goto(site["base"] + "/ops/exceptions?status=active")
    with _api(site) as api:
        any_id = api.get("/v1/exceptions").json()["items"][0]["id"]
        dead_id = 1
    posts = {
        f"/v1/exceptions/{any_id}/resolve": None,
        "/v1/exceptions/bulk": {"ids": [any_id], "action": "resolve"},
        "/v1/compensations/1/approve": None,
        f"/v1/notifications/dead-letters/{dead_id}/replay": None,
        "/v1/quarantine/1/replay": None,
    }
    for url, body in posts.items():
        status = page.evaluate(
            """([url, body]) => fetch(url, {method: "POST", credentials: "same-origin",
                 headers: {"Content-Type": "application/json"},
                 body: body ? JSON.stringify(body) : undefined})
                 .then(r => r.json().then(j => [r.status, j.error && j.error.code]))""",
            [url, body],
        )
        assert status == [403, "forbidden"], (url, status)
    with _api(site) as api:
        assert any_id in [e["id"] for e in api.get("/v1/exceptions").json()["items"]]  # still active


def test_other_features_exceptions_read_in_words() -> None:
    """An outside action that failed and a stalled return (opened by the effects and after-sales features)
    read in words: the action, the system, the return's status, step and reason named, the key kept aside."""
    from deliveryhub.entrypoints.web.ops import exception_row

    base = {"order_id": "OPS-X", "carrier": None, "status": "open", "opened_at": NOW.isoformat()}
    failed = exception_row(
        {
            **base,
            "id": 1,
            "type": "action_failed",
            "evidence": {
                "outside_system": "payments",
                "action": "refund",
                "key": "refund:return:R-1",
                "message": "잔액이 부족해요",
                "order_id": "OPS-X",
                "attempts": 3,
            },
        },
        "ko",
        KST,
    )
    stalled = exception_row(
        {
            **base,
            "id": 2,
            "type": "return_stalled",
            "evidence": {
                "return_id": "R-1",
                "kind": "return",
                "status": "pickup_booked",
                "waiting_for": "picked_up",
                "due_at": NOW.isoformat(),
                "reason_code": "damaged",
            },
        },
        "ko",
        KST,
    )
    for row in (failed, stalled):
        text = " ".join(
            [row["label"], row["next_action"], *(f"{r['name']} {r['value']}" for r in row["evidence"])]
        )
        assert raw_keys(text, "ko") == [], text
    assert failed["technical"] == "refund:return:R-1"
    assert {r["name"]: r["value"] for r in stalled["evidence"]}["기다리는 단계"] == "회수 완료"


def test_quarantined_payload_is_masked_for_a_role_without_personal_data(site: dict[str, Any]) -> None:
    from deliveryhub.entrypoints.web.ops import quarantine_rows

    bad = event(
        "OPS-QP-c",
        "order.created",
        "OPS-QP",
        "2026-11-28T11:00:00",
        {"customer": {"name": "홍길동", "phone": "010-9876-5432"}, "items": [{"sku": "Q-2"}]},
    )
    with _api(site) as api:
        assert api.post("/v1/events", json=bad).json()["results"][0]["status"] == "rejected"
    full = next(r for r in quarantine_rows(site["hub"], "open", True, "ko") if r["event_id"] == "OPS-QP-c")
    masked = next(r for r in quarantine_rows(site["hub"], "open", False, "ko") if r["event_id"] == "OPS-QP-c")
    assert "010-9876-5432" in full["payload"] and "홍길동" in full["payload"]
    assert "010-9876-5432" not in masked["payload"] and "홍길동" not in masked["payload"]
    assert "5432" in masked["payload"] or "***" in masked["payload"]
