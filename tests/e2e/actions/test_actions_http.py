"""POST /v1/orders/{id}/actions/{action} over HTTP against a live server: orders:act only (403 for
other roles), bad input answered 4xx naming the field, the address confirm step, every call audited and
what it did visible in GET /v1/orders/{id}."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from actions_kit import seed_orders
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import make_hub, serve_hub

KST = ZoneInfo("Asia/Seoul")
PACKED = "ORD-2026-000901"
DELIVERED = "ORD-2026-000902"
CUSTOMER = {"name": "정하늘", "phone": "010-5555-0101"}


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Iterator[dict[str, Any]]:
    clock = ManualClock(datetime(2026, 11, 20, 10, 0, tzinfo=KST))  # DELIVERED was delivered on day 8
    hub = make_hub(tmp_path, master_key, clock=clock)
    item = {"sku": "SKU-MUG", "qty": 2, "price": 12000}
    seed_orders(hub, CUSTOMER, item, packed=PACKED, delivered=(DELIVERED, "600100200501"))
    keys = {role: create_api_key(hub.db, f"test-{role}", role) for role in ("cs_agent", "analyst", "admin")}
    keys["integration"] = create_api_key(hub.db, "test-integration", "integration")
    with serve_hub(hub) as base:
        yield {"base": base, "hub": hub, "keys": keys}


def _client(served: dict[str, Any], role: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {served['keys'][role]}"}
    return httpx.Client(base_url=served["base"], headers=headers, timeout=30)


def _audit(served: dict[str, Any], action: str) -> list[dict[str, Any]]:
    with _client(served, "admin") as c:
        r = c.get("/v1/audit", params={"action": action})
        assert r.status_code == 200, r.text
        return r.json()["entries"]  # type: ignore[no-any-return]


def _event_types(client: httpx.Client, order_id: str) -> list[str]:
    r = client.get(f"/v1/orders/{order_id}")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["events"]]


def test_roles_without_orders_act_get_403(served: dict[str, Any]) -> None:
    for role in ("analyst", "integration"):
        with _client(served, role) as c:
            r = c.post(f"/v1/orders/{PACKED}/actions/cancel", json={})
            assert r.status_code == 403, (role, r.text)
    with httpx.Client(base_url=served["base"], timeout=30) as anon:
        assert anon.post(f"/v1/orders/{PACKED}/actions/cancel", json={}).status_code == 401
    with _client(served, "cs_agent") as c:
        assert "order.cancelled" not in _event_types(c, PACKED)


def test_bad_input_is_a_4xx_naming_the_field(served: dict[str, Any]) -> None:
    with _client(served, "cs_agent") as c:
        unknown = c.post(f"/v1/orders/{PACKED}/actions/teleport", json={})
        assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "action"
        no_address = c.post(f"/v1/orders/{PACKED}/actions/change_address", json={"confirm": True})
        assert no_address.status_code == 422 and no_address.json()["error"]["field"] == "address"
        extra = c.post(f"/v1/orders/{PACKED}/actions/cancel", json={"reasn": "typo"})
        assert extra.status_code == 422 and extra.json()["error"]["field"] == "reasn"
        code = c.post(f"/v1/orders/{DELIVERED}/actions/return", json={"reason_code": "bored"})
        assert code.status_code == 422 and code.json()["error"]["field"] == "reason_code"
        bad_json = c.post(
            f"/v1/orders/{PACKED}/actions/cancel",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert 400 <= bad_json.status_code < 500
        missing = c.post("/v1/orders/ORD-2026-999999/actions/cancel", json={})
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_the_address_change_is_confirmed_then_applied_audited_and_in_the_timeline(
    served: dict[str, Any],
) -> None:
    url = f"/v1/orders/{PACKED}/actions/change_address"
    with _client(served, "cs_agent") as c:
        unreadable = c.post(url, json={"address": "회사로 보내 주세요 감사합니다"})
        assert unreadable.status_code == 422
        assert unreadable.json()["problems"] and unreadable.json()["error"]["field"] == "address"
        ask = c.post(url, json={"address": "06236 서울 강남구 테헤란로 152, 12층"})
        assert ask.status_code == 200, ask.text
        body = ask.json()
        assert body["code"] == "confirm_address" and body["needs_confirm"] is True
        assert (
            body["address"]["zip"] == "06236" and body["address"]["line1"] == "서울특별시 강남구 테헤란로 152"
        )
        assert "order.address_changed" not in _event_types(c, PACKED)
        parts = {k: body["address"][k] for k in ("zip", "line1", "line2")}
        done = c.post(url, json={"address": parts, "confirm": True})
        assert done.status_code == 200 and done.json()["code"] == "address_changed", done.text
        events = c.get(f"/v1/orders/{PACKED}").json()["events"]
        changed = [e for e in events if e["type"] == "order.address_changed"]
        assert len(changed) == 1 and changed[0]["manual"] is True and changed[0]["source"] == "cs"
    entries = _audit(served, "order.change_address")
    assert len(entries) == 3 and all(e["target"] == f"order:{PACKED}" for e in entries)


def test_cancel_is_audited_and_in_the_timeline_and_refused_after_handover(served: dict[str, Any]) -> None:
    with _client(served, "cs_agent") as c:
        r = c.post(f"/v1/orders/{PACKED}/actions/cancel", json={"reason": "고객 요청 (전화)"})
        assert r.status_code == 200 and r.json()["ok"] is True and r.json()["message_ko"]
        assert "order.cancelled" in _event_types(c, PACKED)
        late = c.post(f"/v1/orders/{DELIVERED}/actions/cancel", json={})
        assert late.status_code == 409 and late.json()["code"] == "already_shipped"
    entries = _audit(served, "order.cancel")
    assert {e["target"] for e in entries} == {f"order:{PACKED}", f"order:{DELIVERED}"}


def test_returns_follow_the_policy_and_show_in_the_timeline(served: dict[str, Any]) -> None:
    url = f"/v1/orders/{DELIVERED}/actions/return"
    with _client(served, "cs_agent") as c:
        late = c.post(url, json={"reason_code": "change_of_mind", "reason": "단순 변심"})
        assert late.status_code == 409 and late.json()["ok"] is False and "7일" in late.json()["message_ko"]
        ok = c.post(url, json={"reason": "상자 안에서 깨져서 왔어요", "items": ["SKU-MUG"]})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["fee_payer"] == "shop" and body["fee"] == 0 and body["return_id"]
        assert "return.requested" in _event_types(c, DELIVERED)
    entries = _audit(served, "order.return")
    assert [e["target"] for e in entries] == [f"order:{DELIVERED}"] * 2


def test_resend_notice_repeats_the_latest_notice(served: dict[str, Any]) -> None:
    with _client(served, "cs_agent") as c:
        r = c.post(f"/v1/orders/{PACKED}/actions/resend_notice", json={"reason": "고객이 못 받음"})
        assert r.status_code == 200, r.text
        assert r.json()["code"] == "notice_resent" and r.json()["job_id"]
        again = c.post(f"/v1/orders/{PACKED}/actions/resend_notice", json={})
        assert again.status_code == 200 and again.json()["job_id"] != r.json()["job_id"]
    entries = _audit(served, "order.resend_notice")
    assert len(entries) == 2 and all(e["target"] == f"order:{PACKED}" for e in entries)
