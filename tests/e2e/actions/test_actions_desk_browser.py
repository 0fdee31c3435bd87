"""Headless Chromium on /tickets: an agent changes the ticket's order's address from the desk (normalised,
then confirmed), sees it in the order's events and the customer's photo as a thumbnail; a role that may
read tickets but not act (auditor) gets the panel without the action controls."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deliveryhub.chatbot.uploads import UploadStore
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, event, handed_over, launch_chromium, make_hub, order_created, serve_hub, waybill

PASSWORD = "Deliver-Desk-2026!"
NOW = datetime.fromisoformat("2026-12-01T10:00:00+09:00")
OID = "ORD-2026-008801"
DELIVERED = "ORD-2026-008802"


def _png(width: int = 4, height: int = 4) -> bytes:
    """A small valid red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


@pytest.fixture
def live(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any, int, str]]:
    from deliveryhub.security.users import create_user

    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    try:
        create_user(hub, "agent@shop.example", "cs_agent", PASSWORD)
        create_user(hub, "auditor@shop.example", "auditor", PASSWORD)
        create_user(hub, "lead@shop.example", "ops", PASSWORD)
        hub.ingest.ingest(
            [
                order_created(
                    "o1", OID, "2026-12-01T08:00:00+09:00", {"name": "최유진", "phone": "010-8888-1212"}
                ),
                event("o2", "fulfillment.packed", OID, "2026-12-01T09:00:00+09:00", {}, source="wms"),
                order_created(
                    "d1", DELIVERED, "2026-11-27T08:00:00+09:00", {"name": "최유진", "phone": "010-8888-1212"}
                ),
                waybill("d2", DELIVERED, "2026-11-27T09:00:00+09:00", "cj", "600100200901"),
                handed_over("d3", DELIVERED, "2026-11-27T13:00:00+09:00", "cj"),
                event(
                    "d4",
                    "shipment.delivered",
                    DELIVERED,
                    "2026-11-29T15:00:00+09:00",
                    {"carrier": "cj"},
                    source="carrier:cj",
                    shipment_id="P1",
                ),
            ]
        )
        drain(hub)
        tid = hub.chat.desk.create_ticket(
            channel="email", subject="배송지 변경 요청", text="이사했어요", order_id=OID
        )
        session = SimpleNamespace(session_id="s-desk-photo", order_id=OID, customer_id=None)
        photo = UploadStore(hub).save(session, _png(), "image/png")
        hub.chat.desk.create_ticket(
            channel="email", subject="파손 반품", text="깨져서 왔어요", order_id=DELIVERED
        )
        with serve_hub(hub) as base:
            yield base, hub, tid, photo
    finally:
        hub.close()


@contextmanager
def _chromium() -> Iterator[Any]:
    """Headless Chromium, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()


def _page_errors(page: Any) -> list[str]:
    """The page's uncaught script errors, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


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
def test_an_agent_changes_the_address_from_the_desk_and_sees_the_photo(
    live: tuple[str, Any, int, str],
) -> None:
    from playwright.sync_api import expect

    base, hub, tid, photo = live
    with _chromium() as browser:
        page = _login(browser, base, "agent@shop.example", tid)
        errors = _page_errors(page)
        panel = page.locator("#desk-actions")
        expect(panel).to_be_visible(timeout=30_000)
        expect(panel).to_contain_text("주문 처리")
        page.fill("#act-address", "06236 서울 강남구 테헤란로 152, 12층")
        page.click("#act-address-check")
        expect(page.locator("#act-address-preview")).to_contain_text(
            "[06236] 서울특별시 강남구 테헤란로 152, 12층", timeout=30_000
        )
        expect(page.locator("#act-status")).to_contain_text("이 주소로 변경할까요")
        assert not [e for e in _events(hub) if e == "order.address_changed"]  # nothing before confirm
        page.click("#act-address-confirm")
        expect(page.locator("#act-status")).to_contain_text("배송지를 변경했어요", timeout=30_000)
        expect(page.locator("#act-events")).to_contain_text("배송지 변경", timeout=30_000)
        assert _events(hub).count("order.address_changed") == 1
        thumb = page.locator(f"#act-photos img[data-photo='{photo}']")
        expect(thumb).to_be_visible(timeout=30_000)
        page.wait_for_function(
            "id => { const i = document.querySelector(`img[data-photo='${id}']`); "
            "return i && i.complete && i.naturalWidth > 0; }",
            arg=photo,
            timeout=30_000,
        )
        assert errors == []

        auditor = _login(browser, base, "auditor@shop.example", tid)
        expect(auditor.locator("#desk-actions")).to_be_visible(timeout=30_000)
        expect(auditor.locator("#act-events")).to_contain_text("배송지 변경", timeout=30_000)
        assert auditor.locator("#act-cancel").count() == 0
        assert auditor.locator("#act-address").count() == 0
    from deliveryhub.security.tables import audit_log

    with hub.db.read() as conn:
        actions = [r.action for r in conn.execute(audit_log.select())]
    assert actions.count("order.change_address") == 2 and "chat.attachment.read" in actions


def _events(hub: Any, order_id: str = OID) -> list[str]:
    import sqlalchemy as sa

    from deliveryhub.adapters.persistence import tables as t

    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.inbox.c.type).where(t.inbox.c.order_id == order_id)).scalars())


def _wait_for_status(hub: Any, return_id: str, status: str) -> None:
    import time

    from deliveryhub.aftersales import store

    for _ in range(300):
        with hub.db.read() as conn:
            row = store.get(conn, return_id)
        if row is not None and row.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"{return_id} never reached {status}")


@pytest.mark.browser
def test_an_agent_opens_a_return_and_passes_its_inspection_from_the_desk(
    live: tuple[str, Any, int, str],
) -> None:
    from playwright.sync_api import expect

    base, hub, tid, photo = live
    with _chromium() as browser:
        page = _login(browser, base, "agent@shop.example", tid + 1)
        errors = _page_errors(page)
        expect(page.locator("#desk-actions")).to_contain_text(DELIVERED, timeout=30_000)
        page.select_option("#act-reason-code", "damaged")
        page.click("#act-return")
        expect(page.locator("#act-status")).to_contain_text("접수되었어요", timeout=30_000)
        row = page.locator("#act-returns .act-row").first
        expect(row).to_contain_text("반품", timeout=30_000)
        return_id = row.get_attribute("data-return")
        assert return_id and _events(hub, DELIVERED).count("return.requested") == 1
        hub.ingest.ingest(  # the carrier collected it (the return waybill's scan)
            [
                event(
                    "rp1",
                    "return.picked_up",
                    DELIVERED,
                    "2026-12-01T09:30:00+09:00",
                    {"return_id": return_id},
                )
            ]
        )
        _wait_for_status(hub, return_id, "picked_up")  # the served hub's worker applies it
        page.click(f"#queue li[data-id='{tid + 1}']")
        expect(page.locator(".act-inspect-pass")).to_be_visible(timeout=30_000)
        page.fill(".act-note", "상자 파손 확인")
        page.click(".act-inspect-pass")
        expect(page.locator("#act-status")).to_contain_text("합격", timeout=30_000)
        expect(page.locator("#act-events")).to_contain_text("반품 검수", timeout=30_000)
        assert "return.inspected" in _events(hub, DELIVERED)
        assert errors == []


@pytest.mark.browser
def test_a_lead_approves_the_orders_compensation_from_the_desk(live: tuple[str, Any, int, str]) -> None:
    from playwright.sync_api import expect

    from deliveryhub.monitors.tables import compensations

    base, hub, tid, _ = live
    with hub.db.write() as conn:  # a claim's compensation above the approval threshold, waiting
        conn.execute(
            compensations.insert().values(
                order_id=DELIVERED,
                rule="damage_coupon",
                kind="coupon",
                amount=5000.0,
                status="pending_approval",
                evidence={"trigger": "claim.opened"},
                event_id=f"comp:{DELIVERED}:damage_coupon",
                created_at=NOW,
            )
        )
    with _chromium() as browser:
        agent = _login(browser, base, "agent@shop.example", tid + 1)
        expect(agent.locator("#act-compensations")).to_contain_text("쿠폰", timeout=30_000)
        expect(agent.locator("#act-compensations")).to_contain_text("승인 대기")
        assert agent.locator(".act-approve").count() == 0  # a CS agent may not approve money

        lead = _login(browser, base, "lead@shop.example", tid + 1)
        lead.click(".act-approve", timeout=30_000)
        expect(lead.locator("#act-status")).to_contain_text("보상을 승인했어요", timeout=30_000)
        expect(lead.locator("#act-compensations")).to_contain_text("지급", timeout=30_000)
    with hub.db.read() as conn:
        row = conn.execute(compensations.select().where(compensations.c.order_id == DELIVERED)).one()
    assert row.status == "issued" and row.decided_by
    assert "compensation.issued" in _events(hub, DELIVERED)
