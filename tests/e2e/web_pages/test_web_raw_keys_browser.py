"""Every operator and customer page, in Korean and in English, in headless Chromium, and the monthly PDF
report through pdftotext: no raw key.

A raw key is a code the hub stores instead of the name people read: `in_transit`, `shipment.eta_updated`,
`order_paid`, `logen`, or an English word such as `previous` on a Korean page. The hub is fed three
simulated days of a small shop (delays, exceptions, tickets, notices) on a pinned clock, so every page
has something to show: the dashboard (plain and split by carrier, with the drill-down), the page of an
order with an open exception, the CS desk with a ticket open, the customer tracking page and the chat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dh_testkit import drain, launch_chromium, make_hub, serve_hub

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "Raw-keys-2026!strong"

# A snake_case or dotted code (`in_transit`, `shipment.eta_updated`, `order_paid`).
CODE = re.compile(r"(?<![\w/.@-])[a-z][a-z0-9]+(?:[_.][a-z0-9]{2,})+(?![\w/@-])")
# On a Korean page, any lower-case English word is a key or untranslated text.
WORD = re.compile(r"(?<![\w/.@-])[a-z]{2,}(?![\w/@-])")
URLS = re.compile(r"(?:https?://|/)[\w./?=&%#:~+-]*|[\w.+-]+@[\w.-]+")
KO_ALLOWED: frozenset[str] = frozenset()


def _english_keys() -> frozenset[str]:
    """Carrier and sales-channel codes that read as a name only when the table names them."""
    from deliveryhub.kernel.labels import pairs

    keys = set(pairs("carrier")) | set(pairs("channel"))
    return frozenset(k for k in keys if k not in ("own", "web", "app"))


def raw_keys(text: str, lang: str) -> list[str]:
    """The raw keys in a page's visible text, each with a little context."""
    text = URLS.sub(" ", text)
    found = [m for m in CODE.finditer(text)]
    if lang == "ko":
        found += [m for m in WORD.finditer(text) if m.group(0) not in KO_ALLOWED]
    else:
        en_keys = _english_keys()
        found += [m for m in WORD.finditer(text) if m.group(0) in en_keys]
    out = []
    for m in sorted(found, key=lambda m: m.start()):
        context = text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ⏎ ")
        out.append(f"{m.group(0)!r} in …{context}…")
    return out


def test_detector_finds_codes_and_english_words() -> None:
    assert raw_keys("현재 단계: in_transit", "ko") and raw_keys("유형 shipment.eta_updated", "en")
    assert raw_keys("목표 -40% vs previous", "ko") and raw_keys("Carrier logen", "en")
    assert raw_keys("배송 중 · 로젠택배 · 11.58% · 목표 3% 미만 https://x.test/a_b", "ko") == []
    assert raw_keys("In transit · Logen · admin@demo.deliveryhub.local (e.g. ORD-1)", "en") == []


START_DAY = datetime(2026, 11, 2, 0, 0)  # Monday; three days of orders, clock pinned at Thursday 10:00


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import base64
    import secrets

    from deliveryhub.adapters.persistence import tables as t
    from deliveryhub.kernel.clock import ManualClock
    from deliveryhub.security.users import authenticate, create_session, create_user
    from deliveryhub.simulator.shop import KST, ShopConfig, ShopSimulator

    tmp = tmp_path_factory.mktemp("rawkeys")
    start = START_DAY.replace(tzinfo=KST)
    now = start + timedelta(days=3, hours=10)
    hub = make_hub(tmp, base64.b64encode(secrets.token_bytes(32)).decode(), clock=ManualClock(now))
    config = ShopConfig(
        orders_per_day=25, sales_events=(), delay_rate=0.3, chat_rate=0.3, split_parcel_rate=0.3
    )
    emissions = ShopSimulator(config, seed=11).generate(start, 3.5)
    hub.ingest.ingest([e.payload for e in emissions if e.kind == "event" and e.at <= now])
    drain(hub)
    for job in hub.jobs:
        if job.name in ("timers", "monitors"):
            job.run(now)
    drain(hub)
    for job in hub.jobs:
        if job.name == "notifications.send":
            job.run(now)
    drain(hub)
    ex = t.metadata.tables["monitor_exceptions"]
    with hub.db.read() as conn:
        order_id = conn.execute(
            sa.select(ex.c.order_id)
            .where(ex.c.status == "open", ex.c.order_id.is_not(None))
            .order_by(ex.c.type.desc(), ex.c.id)
            .limit(1)
        ).scalar()
        if order_id is None:
            order_id = conn.execute(
                sa.select(t.orders.c.order_id).where(t.orders.c.stage == "in_transit").limit(1)
            ).scalar()
    assert order_id, "the simulated days left no order in transit"
    track_url = hub.links.issue(order_id)
    assert track_url
    create_user(hub, "ops@example.com", "admin", PASSWORD)
    token = create_session(hub, authenticate(hub, "ops@example.com", PASSWORD)).token
    with serve_hub(hub, run_worker=False) as base:
        yield {
            "base": base,
            "token": token,
            "order_id": order_id,
            "track": "/track/" + track_url.split("/track/")[1],
            "hub": hub,
        }


def _visible(page: Any) -> str:
    return str(page.title()) + "\n" + str(page.inner_text("body"))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_raw_key_on_any_page(site: dict[str, Any], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    q = "?lang=en" if lang == "en" else ""
    amp = "&lang=en" if lang == "en" else ""
    problems: dict[str, list[str]] = {}
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)

    def check(name: str, page: Any) -> None:
        page.screenshot(path=str(ARTIFACTS / f"rawkeys_{name}_{lang}.png"), full_page=True)
        found = raw_keys(_visible(page), lang)
        if found:
            problems[name] = found

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="ko-KR")
            ctx.add_cookies([{"name": "dh_session", "value": site["token"], "url": base}])
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on(
                "response", lambda r: errors.append(f"http {r.status}: {r.url}") if r.status >= 400 else None
            )
            for name, url in (
                ("dashboard", "/?from=2026-11-01&to=2026-11-30" + amp),
                ("dashboard_by_carrier", "/?from=2026-11-01&to=2026-11-30&by=carrier" + amp),
            ):
                page.goto(base + url)
                page.wait_for_selector("body[data-loaded='1']", timeout=120_000)
                page.wait_for_selector("#exceptions table", timeout=60_000)
                page.wait_for_selector("#drill table, #drill p:not(:has-text('…'))", timeout=60_000)
                page.wait_for_selector("#split-chart .main-svg, #split-chart p", timeout=60_000)
                check(name, page)
            # Every tile's drill-down (some KPIs are not made of orders: they say so in the page's language).
            drills = []
            for tile in page.locator("#tiles .tile").all():
                tile.click()
                page.wait_for_selector("#drill table, #drill p.muted:not(:has-text('…'))", timeout=60_000)
                drills.append(page.inner_text("#drill-title") + "\n" + page.inner_text("#drill"))
            found = raw_keys("\n".join(drills), lang)
            if found:
                problems["drill-downs"] = found
            page.goto(base + "/login")  # no session needed; the cookie only adds a redirect
            check("login", page)
            page.goto(base + "/orders/" + site["order_id"] + q)
            check("order", page)
            page.goto(base + "/search?q=" + site["order_id"] + amp)  # the header's order search
            check("search", page)
            page.goto(base + "/tickets" + q)
            page.wait_for_selector("#queue li", timeout=60_000)
            if not page.locator("#queue li[data-id]").count():  # the simulated past is answered: solved ones
                page.click("#filters button[data-status='solved']")
            page.wait_for_selector("#queue li[data-id]", timeout=60_000)
            page.locator("#queue li[data-id]").first.click()
            page.wait_for_selector("#view h2", timeout=60_000)
            check("desk", page)
            page.goto(base + "/tickets/faq" + q)
            page.wait_for_load_state("networkidle")
            check("faq", page)
            customer = browser.new_context(viewport={"width": 420, "height": 900}, locale="ko-KR").new_page()
            customer.goto(base + site["track"] + q)
            check("track", customer)
            customer.goto(base + "/chat" + q)
            customer.fill("#text", "배송 언제 와요?" if lang == "ko" else "where is my order?")
            customer.click("#send")
            customer.wait_for_selector("#log li:nth-child(2)", timeout=60_000)
            check("chat", customer)
            # A customer asks for a person: the agent reads the bot's hand-off summary on the desk.
            customer.fill("#text", "상담원 연결해 주세요" if lang == "ko" else "I want to talk to a person")
            customer.click("#send")
            customer.wait_for_selector("#log li:nth-child(4)", timeout=60_000)
            with site["hub"].db.read() as conn:
                newest = conn.execute(sa.text("SELECT max(id) FROM tickets")).scalar()
            page.goto(base + "/tickets" + q + f"#ticket={newest}")
            page.wait_for_selector("#view h2", timeout=60_000)
            check("desk_handoff", page)
        finally:
            browser.close()
    report = "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in problems.items())
    (ARTIFACTS / f"rawkeys_{lang}.txt").write_text(report or "none\n", encoding="utf-8")
    assert errors == [], errors
    assert problems == {}, report


def test_monthly_report_pdf_names_everything_and_lists_the_months_delays(
    site: dict[str, Any], tmp_path: Path
) -> None:
    import subprocess

    from deliveryhub.kpi.engine import KpiEngine
    from deliveryhub.kpi.report import write_report

    hub = site["hub"]
    out = write_report(KpiEngine(hub.db, now=hub.clock.now), "2026-11", tmp_path / "report.pdf", "Asia/Seoul")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "rawkeys_report.txt").write_text(text, encoding="utf-8")
    # The report is bilingual (Korean with English beside it): codes and carrier keys are what must not show.
    assert raw_keys(text, "en") == []
    assert "2026년 11월" in text and "2026년 11월 1일 (일)" in text
    # The monitors' exceptions of the month by type, with counts and example orders.
    assert "약속일보다 늦은 배송" in text and "이번 달 새로 열린 예외가 없습니다" not in text
    assert re.search(r"배송 지연 Delivery delay\s+\d+건\s+\d+건\s+ORD-", text), text
    assert "3% 미만" in text  # the delay rate's target in the value's unit
    assert "1개월" in text  # the trend spans the months with data (only November here), not "6 months"
