"""Cafe24 end to end: webhook auth and replay over HTTP, catch-up poll and shipment write-back against a
local Admin API (Bearer + refresh, offset paging, a 429, a 500 whose shipment was in fact created)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.cafe24 import client as cafe24_client
from deliveryhub.adapters.connectors.cafe24.client import forget_tokens
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.marketplace_jobs import Cafe24Catchup
from deliveryhub.connectors.writeback import WritebackJob
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, make_hub, serving
from integration.connectors_cafe24.fake_cafe24 import CLIENT_ID, CLIENT_SECRET, State, cafe24_app

SECRET = "cafe24-shared-secret-1"


def _count(hub: Any, table: sa.Table) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cafe24: dict[str, Any]) -> None:
    path = tmp_path / "connectors.json"
    path.write_text(json.dumps({"cafe24": cafe24}))
    monkeypatch.setenv("DELIVERYHUB_CONNECTORS_CONFIG", str(path))
    forget_tokens()


@pytest.fixture
def web(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, TestClient, str]]:
    _config(tmp_path, monkeypatch, {"malls": {"cafe24bestshop": {"webhook_secret": SECRET}}})
    hub = make_hub(tmp_path, master_key)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            yield hub, client, create_api_key(hub.db, "t-admin", "admin")
    finally:
        hub.close()


def _body(shared_data: Path, name: str) -> bytes:
    return (shared_data / "korean_commerce_payloads" / f"cafe24__{name}.json").read_bytes()


def test_webhook_needs_the_malls_secret_and_a_replay_has_one_effect(
    web: tuple[Any, TestClient, str], shared_data: Path
) -> None:
    hub, client, key = web
    body = _body(shared_data, "webhook_90023_on_order_received")
    url = "/v1/webhooks/cafe24"
    for headers in ({}, {"X-Cafe24-Webhook-Secret": "wrong"}, {"x-api-key": SECRET[:-1]}):
        refused = client.post(url, content=body, headers={"content-type": "application/json", **headers})
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["field"] == "X-Cafe24-Webhook-Secret"
    assert _count(hub, t.inbox) == 0 and _count(hub, t.quarantine) == 0

    ok = client.post(url, content=body, headers={"X-Cafe24-Webhook-Secret": SECRET})
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] == 2  # order.created + order.paid
    again = client.post(url, content=body, headers={"x-api-key": SECRET})  # Cafe24's own header form
    assert again.status_code == 200 and again.json()["accepted"] == 0 and again.json()["duplicate"] == 2
    assert _count(hub, t.inbox) == 2
    drain(hub)
    order = client.get("/v1/orders/20200717-0029236", headers={"authorization": f"Bearer {key}"})
    assert order.status_code == 200, order.text
    assert order.json()["order_id"] == "20200717-0029236"

    # A secret of one mall cannot post another mall's body.
    other = json.loads(body)
    other["resource"]["mall_id"] = "someoneelse"
    cross = client.post(url, content=json.dumps(other), headers={"X-Cafe24-Webhook-Secret": SECRET})
    assert cross.status_code == 401
    # An event number nobody knows is quarantined with its reason, never a crash.
    unknown = client.post(
        url,
        json={"event_no": 99999, "resource": {"mall_id": "cafe24bestshop"}},
        headers={"x-api-key": SECRET},
    )
    assert unknown.status_code == 200 and unknown.json()["rejected"] == 1
    with hub.db.read() as conn:
        reasons = [r.reason for r in conn.execute(sa.select(t.quarantine.c.reason))]
    assert any("99999" in r for r in reasons), reasons
    # Product webhooks: acknowledged, nothing stored.
    product = client.post(
        url, content=_body(shared_data, "webhook_90001_on_product_created"), headers={"x-api-key": SECRET}
    )
    assert product.status_code == 200 and product.json()["accepted"] == 0


def test_no_secret_configured_refuses(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, monkeypatch, {})
    hub = make_hub(tmp_path, master_key)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            response = client.post(
                "/v1/webhooks/cafe24", json={"event_no": 90023}, headers={"x-api-key": "x"}
            )
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_configured"
        assert _count(hub, t.inbox) == 0
    finally:
        hub.close()


def _order(n: int, day: str) -> dict[str, Any]:
    order_id = f"{day.replace('-', '')}-{n:07d}"
    return {
        "shop_no": 1,
        "order_id": order_id,
        "order_date": f"{day}T10:00:00+09:00",
        "payment_date": f"{day}T10:05:00+09:00",
        "paid": "T",
        "canceled": "F",
        "payment_amount": "30000.00",
        "payment_method": ["card"],
        "currency": "KRW",
        "billing_name": "김민수",
        "member_id": f"m{n}",
        "items": [
            {
                "order_item_code": f"{order_id}-01",
                "variant_code": "P000000N000A",
                "quantity": 1,
                "product_price": "30000.00",
                "order_status": "N20",
            }
        ],
        "receivers": [{"name": "김민수", "zipcode": "06236", "address1": "서울 강남구 테헤란로 152"}],
    }


def test_poll_then_write_back_exactly_once(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = State()
    now = datetime.now(UTC)
    day = now.astimezone(UTC).date().isoformat()
    state.orders = [_order(n, day) for n in range(1, 6)]  # 5 orders, pages of 2: offsets 0, 2, 4
    state.rate_limit_once = True
    with serving(cafe24_app(state)) as base:
        _config(
            tmp_path,
            monkeypatch,
            {
                "mall_id": "myshop",
                "base_url": base,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "access_token": "expired-token",
                "refresh_token": "refresh-1",
                "page_limit": 2,
                "carrier_codes": {"cj": "0006"},
            },
        )
        hub = make_hub(tmp_path, master_key)
        try:
            poll = Cafe24Catchup(hub)
            assert poll.run(now) == 0  # 429: backed off, cursor not moved
            with hub.db.read() as conn:
                mine = ct.connector_cursors.c.source == "cafe24:myshop"
                row = conn.execute(sa.select(ct.connector_cursors).where(mine)).one()
            assert row.cursor is None
            assert poll.run(now + timedelta(seconds=1)) == 0  # held (interval and Retry-After)
            assert poll.run(now + timedelta(minutes=11)) == 10  # 5 orders x (created + paid)
            assert state.refreshes == 1  # the expired token was refreshed once, with Basic auth
            offsets = [
                q.get("offset") for m, p, q in state.seen if p == "/api/v2/admin/orders" and "offset" in q
            ]
            assert offsets[-3:] == ["0", "2", "4"]
            with hub.db.read() as conn:
                assert (
                    conn.execute(sa.select(ct.connector_cursors.c.cursor).where(mine)).scalar_one()
                    == (now + timedelta(minutes=11)).astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
                )
            assert poll.run(now + timedelta(minutes=22)) == 0  # overlap: all duplicates
            drain(hub)
            with TestClient(create_app(hub, run_worker=False)) as client:
                key = create_api_key(hub.db, "t-admin", "admin")
                order_id = state.orders[0]["order_id"]
                seen = client.get(f"/v1/orders/{order_id}", headers={"authorization": f"Bearer {key}"})
                assert seen.status_code == 200, seen.text

            # A restart forgets the tokens in memory; the refreshed pair is sealed in the database (the
            # configured refresh token is spent: using it again would fail).
            cafe24_client._tokens.clear()
            with hub.db.read() as conn:
                sealed = conn.execute(
                    sa.select(ct.connector_cursors.c.cursor).where(
                        ct.connector_cursors.c.source == "cafe24:myshop:token"
                    )
                ).scalar_one()
            assert "token-1" not in sealed and "refresh-2" not in sealed

            # A waybill created in the hub, reported twice: one write-back row.
            for n in (1, 2):
                waybill = event(
                    f"tms-wb-{n}",
                    "shipment.waybill_created",
                    order_id,
                    (now + timedelta(hours=1)).isoformat(),
                    {"carrier": "cj", "tracking_no": "553825406594"},
                    source="tms",
                    shipment_id="S1",
                )
                hub.ingest.ingest([waybill], source_hint="tms")
            drain(hub)
            assert _count(hub, ct.connector_writebacks) == 1
            state.fail_next_shipment_post = True  # created, but the answer is a 500
            job = WritebackJob(hub)
            assert job.run(now + timedelta(hours=1)) == 0
            assert job.run(now + timedelta(hours=3)) == 1  # the retry finds the waybill: no second POST
            assert job.run(now + timedelta(hours=5)) == 0
            assert state.shipment_posts == 1 and state.refreshes == 1
            (shipment,) = state.shipments[order_id]
            assert shipment["tracking_no"] == "553825406594" and shipment["shipping_company_code"] == "0006"
            assert shipment["order_item_code"] == [f"{order_id}-01"] and shipment["status"] == "shipping"
        finally:
            hub.close()


def test_webhooks_read_what_they_leave_out_from_the_admin_api(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """90023 carries no items or address: with API access the hub reads the order; 90064 reads receivers."""
    state = State()
    order = _order(7, "2026-12-01")
    state.orders = [order]
    with serving(cafe24_app(state)) as base:
        _config(
            tmp_path,
            monkeypatch,
            {
                "mall_id": "myshop",
                "base_url": base,
                "access_token": "fresh-token",
                "malls": {"myshop": {"webhook_secret": SECRET}},
            },
        )
        hub = make_hub(tmp_path, master_key)
        try:
            with TestClient(create_app(hub, run_worker=False)) as client:
                received = {
                    "event_no": 90023,
                    "resource": {
                        "mall_id": "myshop",
                        "event_shop_no": "1",
                        "event_code": "create_order",
                        "order_id": order["order_id"],
                        "order_date": "2026-12-01T10:00:00+09:00",
                        "paid": "T",
                        "payment_date": "2026-12-01T10:05:00+09:00",
                        "ordering_product_code": "P000000N",
                    },
                }
                ok = client.post("/v1/webhooks/cafe24", json=received, headers={"x-api-key": SECRET})
                assert ok.status_code == 200 and ok.json()["accepted"] == 2, ok.text
                with hub.db.read() as conn:
                    data = conn.execute(
                        sa.select(t.inbox.c.data).where(t.inbox.c.type == "order.created")
                    ).scalar_one()
                assert data["marketplace"]["order_item_codes"] == [f"{order['order_id']}-01"]
                assert data["items"][0]["sku"] == "P000000N000A"

                order["receivers"] = [
                    {"name": "김민수", "zipcode": "04524", "address1": "서울 중구 세종대로 110"}
                ]
                changed = {
                    "event_no": 90064,
                    "resource": {
                        "mall_id": "myshop",
                        "order_id": order["order_id"],
                        "order_place_id": "self",
                    },
                }
                first = client.post("/v1/webhooks/cafe24", json=changed, headers={"x-api-key": SECRET})
                assert first.status_code == 200 and first.json()["accepted"] == 1, first.text
                again = client.post("/v1/webhooks/cafe24", json=changed, headers={"x-api-key": SECRET})
                assert again.json()["accepted"] == 0 and again.json()["duplicate"] == 1
                with hub.db.read() as conn:
                    types = [r.type for r in conn.execute(sa.select(t.inbox.c.type))]
                assert sorted(types) == ["order.address_changed", "order.created", "order.paid"]
        finally:
            hub.close()
