"""Webhook routes on a real hub (SQLite file, real app): signatures, idempotency, pushes, unknown statuses.

Attacks on the inbound channels (issue 13) are in test_connectors_web_inbound_attacks.py."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.adapters.connectors.tracking import KOREAN_CARRIERS
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, make_hub
from e2e.connectors_web.connectors_kit import waybill_order

SECRET = "shpss_test_secret_123"
SHOP_SAMPLE = "carrier_shop_api_payloads/shopify/sample_webhook_orders_create.json"


class Web:
    """A hub, its app client and an admin key."""

    def __init__(self, hub: Any, client: TestClient, key: str) -> None:
        self.hub, self.client, self.key = hub, client, key

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}

    def count(self, table: sa.Table) -> int:
        with self.hub.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/orders/{order_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def _web(tmp_path: Path, master_key: str, **overrides: Any) -> Iterator[Web]:
    hub = make_hub(tmp_path, master_key, **overrides)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            yield Web(hub, client, create_api_key(hub.db, "t-admin", "admin"))
    finally:
        hub.close()


@pytest.fixture
def web(tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    """Hub with a global Shopify webhook secret and a shared secret per Korean carrier."""
    for code in KOREAN_CARRIERS:
        monkeypatch.setenv(f"DELIVERYHUB_{code.upper()}_WEBHOOK_SECRET", carrier_secret(code))
    yield from _web(tmp_path, master_key, shopify_webhook_secret=SECRET)


def carrier_secret(code: str) -> str:
    return f"{code}-shared-secret"


def push(web: Web, carrier: str, payload: Any, *, ts: int | None = None) -> Any:
    """A carrier push signed the way the hub documents (timestamp + body), at the hub's clock."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    when = int(web.hub.clock.now().timestamp()) if ts is None else ts
    headers = sign_push(carrier_secret(carrier), body, when)
    return web.client.post(f"/v1/webhooks/carriers/{carrier}", content=body, headers=headers)


def shopify_sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post_shopify(
    web: Web,
    topic: str,
    payload: Any,
    webhook_id: str,
    *,
    secret: str | None = SECRET,
    signature: str | None = None,
    shop: str | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-webhook-id": webhook_id,
        "content-type": "application/json",
    }
    if signature is not None:
        headers["x-shopify-hmac-sha256"] = signature
    elif secret is not None:
        headers["x-shopify-hmac-sha256"] = shopify_sign(body, secret)
    if shop:
        headers["x-shopify-shop-domain"] = shop
    return web.client.post("/v1/webhooks/shopify", content=body, headers=headers)


@pytest.fixture
def order_sample(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / SHOP_SAMPLE).read_text())  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------ Shopify


def test_shopify_wrong_or_missing_signature_is_401_and_stores_nothing(
    web: Web, order_sample: dict[str, Any]
) -> None:
    body = json.dumps(order_sample).encode()
    wrong = shopify_sign(body, "not-the-secret")
    for kwargs in ({"signature": wrong}, {"secret": None}, {"signature": ""}, {"signature": "AAAA"}):
        response = post_shopify(web, "orders/create", order_sample, "wh-bad", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_signature"
    # A valid signature over a DIFFERENT body (tampered payload) is refused too.
    tampered = dict(order_sample, total_price="0.01")
    response = post_shopify(web, "orders/create", tampered, "wh-bad", signature=shopify_sign(body))
    assert response.status_code == 401
    assert web.count(t.inbox) == 0
    assert web.count(t.quarantine) == 0
    assert web.count(t.orders) == 0


def test_shopify_without_any_secret_configured_refuses(
    tmp_path: Path, master_key: str, order_sample: dict[str, Any]
) -> None:
    for web in _web(tmp_path, master_key):
        response = post_shopify(web, "orders/create", order_sample, "wh-1", secret="anything")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "webhook_not_configured"
        assert "DELIVERYHUB_SHOPIFY_WEBHOOK_SECRET" in response.json()["error"]["message"]
        assert web.count(t.inbox) == 0


def test_shopify_same_webhook_twice_has_one_effect(web: Web, order_sample: dict[str, Any]) -> None:
    first = post_shopify(web, "orders/create", order_sample, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 1 and first.json()["results"][0]["status"] == "accepted"
    again = post_shopify(web, "orders/create", order_sample, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["accepted"] == 0
    assert web.count(t.inbox) == 1
    assert web.count(t.orders) == 1
    with web.hub.db.read() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.topic == "order.created")
            ).scalar_one()
            == 1
        )
    detail = web.order(str(order_sample["id"]))
    assert detail["channel"] == "shopify"
    assert detail["total"] == pytest.approx(float(order_sample["total_price"]))
    # Personal data from the webhook stays in the encrypted customer row: not in the inbox or the outbox.
    with web.hub.db.read() as conn:
        stored = [r.data for r in conn.execute(sa.select(t.inbox.c.data))]
        stored += [r.payload for r in conn.execute(sa.select(t.outbox.c.payload))]
    assert stored and "jon@doe.ca" not in json.dumps(stored) and "Steve Shipper" not in json.dumps(stored)


def test_shopify_lifecycle_paid_fulfilled_address_cancelled(web: Web, order_sample: dict[str, Any]) -> None:
    oid = str(order_sample["id"])
    assert post_shopify(web, "orders/create", order_sample, "wh-c").json()["accepted"] == 1
    paid = dict(
        order_sample, processed_at="2019-06-04T14:00:00-04:00", gateway="bogus", financial_status="paid"
    )
    assert post_shopify(web, "orders/paid", paid, "wh-p").json()["accepted"] == 1
    # orders/updated with the unchanged address: no address change recorded.
    same = post_shopify(
        web, "orders/updated", dict(order_sample, updated_at="2019-06-04T15:00:00-04:00"), "wh-u1"
    )
    assert same.status_code == 200 and same.json()["results"] == []
    moved = copy.deepcopy(order_sample)
    moved["updated_at"] = "2019-06-04T15:30:00-04:00"
    moved["shipping_address"]["address1"] = "500 Other Street"
    changed = post_shopify(web, "orders/updated", moved, "wh-u2").json()
    assert [r["status"] for r in changed["results"]] == ["accepted"]
    fulfillment = {
        "id": 255858046,
        "order_id": order_sample["id"],
        "status": "success",
        "created_at": "2019-06-05T09:00:00-04:00",
        "updated_at": "2019-06-05T09:00:00-04:00",
        "tracking_company": "CJ대한통운",
        "tracking_number": "553825406594",
        "shipment_status": "in_transit",
    }
    answer = post_shopify(web, "fulfillments/create", fulfillment, "wh-f").json()
    assert answer["accepted"] == 2, answer
    detail = web.order(oid)
    assert detail["paid_at"] is not None
    parcel = detail["parcels"][0]
    assert (parcel["carrier"], parcel["tracking_no"], parcel["status"]) == (
        "cj",
        "553825406594",
        "in_transit",
    )
    types = [e["type"] for e in detail["events"]]
    assert types.count("order.address_changed") == 1
    cancelled = dict(order_sample, cancelled_at="2019-06-06T10:00:00-04:00", cancel_reason="customer")
    assert post_shopify(web, "orders/cancelled", cancelled, "wh-x").json()["accepted"] == 1
    assert web.order(oid)["side_state"] is not None


def test_shopify_bad_json_and_missing_topic_are_4xx_naming_the_field(web: Web) -> None:
    body = b"{not json"
    response = web.client.post(
        "/v1/webhooks/shopify",
        content=body,
        headers={
            "x-shopify-topic": "orders/create",
            "x-shopify-webhook-id": "wh-json",
            "x-shopify-hmac-sha256": shopify_sign(body),
        },
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"
    no_id = web.client.post(
        "/v1/webhooks/shopify",
        content=b"{}",
        headers={"x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": shopify_sign(b"{}")},
    )
    assert no_id.status_code == 400 and no_id.json()["error"]["field"] == "X-Shopify-Webhook-Id"
    body = b"{}"
    response = web.client.post(
        "/v1/webhooks/shopify", content=body, headers={"x-shopify-hmac-sha256": shopify_sign(body)}
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "X-Shopify-Topic"
    unmapped = post_shopify(web, "products/create", {"id": 1}, "wh-prod")
    assert unmapped.status_code == 200 and unmapped.json()["unmapped"]
    assert web.count(t.inbox) == 0


def test_shopify_per_shop_secret_from_config_file(
    tmp_path: Path, master_key: str, order_sample: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "deliveryhub.yaml"
    config.write_text("shopify:\n  shops:\n    seoul-shop.myshopify.com: {webhook_secret: shop-secret-1}\n")
    monkeypatch.setenv("DELIVERYHUB_CONNECTORS_CONFIG", str(config))
    for web in _web(tmp_path, master_key, shopify_webhook_secret=SECRET):
        # That shop signs with its own secret; the global one is not accepted for it.
        assert (
            post_shopify(
                web, "orders/create", order_sample, "w1", secret=SECRET, shop="seoul-shop.myshopify.com"
            ).status_code
            == 401
        )
        ok = post_shopify(
            web, "orders/create", order_sample, "w1", secret="shop-secret-1", shop="seoul-shop.myshopify.com"
        )
        assert ok.status_code == 200 and ok.json()["accepted"] == 1
        # Other shops still use the global secret.
        other = post_shopify(
            web, "orders/create", dict(order_sample, id=42), "w2", shop="other.myshopify.com"
        )
        assert other.status_code == 200 and other.json()["accepted"] == 1


# ------------------------------------------------------------------------------------------ carriers


def seed_order(web: Web, order_id: str, carrier: str, tracking_no: str) -> None:
    """An order with a waybill, through the public events API."""
    events = waybill_order(order_id, carrier, tracking_no)
    response = web.client.post("/v1/events", json={"events": events}, headers=web.auth)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]


def test_unknown_carrier_is_404_with_error_json(web: Web) -> None:
    response = web.client.post("/v1/webhooks/carriers/dhl-moon", json={"tracking_no": "1", "events": []})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_carrier" and error["field"] == "carrier" and "lotte" in error["message"]


def test_lotte_tracking_without_status_raw_code_41_ends_delivered(web: Web) -> None:
    seed_order(web, "ORD-L1", "lotte", "309912345673")
    item = event(
        "lotte-41",
        "shipment.tracking",
        "ORD-L1",
        "2026-11-21T15:10:00+09:00",
        {"raw_code": "41", "raw_status": "", "carrier": "lotte", "tracking_no": "309912345673"},
        source="carrier:lotte",
        shipment_id="309912345673",
    )
    response = web.client.post("/v1/events", json=item, headers=web.auth)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "accepted"
    detail = web.order("ORD-L1")
    assert detail["parcels"][0]["status"] == "delivered"
    assert detail["stage"] == "delivered"


def test_lotte_push_without_status_derives_delivered(web: Web) -> None:
    seed_order(web, "ORD-L2", "lotte", "309912345684")
    scans = {
        "tracking_no": "309912345684",
        "events": [
            {"time": "2026-11-21 09:12", "code": "10", "location": "평택허브"},
            {
                "time": "2026-11-21 13:40",
                "code": "40",
                "location": "강남대리점",
                "message": "배송기사 홍길동 010-9876-5432",
            },
            {"time": "2026-11-21 16:05", "code": "41", "location": "강남대리점"},
        ],
    }
    answer = push(web, "lotte", scans)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == 0 and answer.json()["unmapped"] == []
    detail = web.order("ORD-L2")
    parcel = detail["parcels"][0]
    assert parcel["status"] == "delivered"
    messages = [s["message"] for s in parcel["tracking"] if s.get("message")]
    assert messages and "홍길동" not in messages[0] and "9876" not in messages[0]
    # The carrier re-sends the same scans in a newly signed push: the events dedupe.
    again = push(web, "lotte", scans, ts=int(web.hub.clock.now().timestamp()) + 1).json()
    assert again["accepted"] == 0 and again["duplicate"] == len(again["results"])


def test_unknown_raw_status_is_kept_counted_and_listed(web: Web) -> None:
    seed_order(web, "ORD-U1", "hanjin", "512345678901")
    scans = {
        "tracking_no": "512345678901",
        "order_id": "ORD-U1",
        "events": [
            {"time": "2026-11-21 10:00", "status": "집하완료", "location": "대전"},
            {"time": "2026-11-21 11:00", "status": "우주정거장 경유중", "code": "Z9", "location": "궤도"},
        ],
    }
    answer = push(web, "hanjin", scans)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] >= 2 and answer.json()["rejected"] == 0
    assert any("unknown status" in u for u in answer.json()["unmapped"])
    with web.hub.db.read() as conn:
        kept = [
            r.data
            for r in conn.execute(sa.select(t.inbox.c.data).where(t.inbox.c.type == "shipment.tracking"))
            if r.data.get("raw_code") == "Z9"
        ]
    assert (
        len(kept) == 1
        and kept[0].get("status") is None
        and kept[0]["status_unknown"]
        and kept[0]["raw_status"] == "우주정거장 경유중"
    )
    metrics = web.client.get("/metrics", headers=web.auth).text
    assert 'deliveryhub_unknown_raw_status_total{carrier="hanjin"} 1.0' in metrics
    drain(web.hub)
    listed = web.client.get("/v1/integrations", headers=web.auth)
    assert listed.status_code == 200, listed.text
    unknown = listed.json()["unknown_statuses"]
    assert [(u["carrier"], u["raw_code"], u["raw_status"], u["count"]) for u in unknown] == [
        ("hanjin", "Z9", "우주정거장 경유중", 1)
    ]
    # The known scan still moved the parcel.
    assert web.order("ORD-U1")["parcels"][0]["status"] == "in_transit"


def test_aftership_signature_required_and_checked(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_order(web, "ORD-A", "cj", "AS1")
    payload = {
        "event": "tracking_update",
        "event_id": "e1",
        "msg": {
            "tracking_number": "AS1",
            "slug": "cj-logistics",
            "tag": "InTransit",
            "order_id": "ORD-A",
            "checkpoints": [
                {
                    "checkpoint_time": "2026-11-21T10:00:00+09:00",
                    "tag": "InTransit",
                    "subtag": "InTransit_001",
                    "message": "간선상차",
                }
            ],
        },
        "ts": 1,
    }
    body = json.dumps(payload).encode()
    no_secret = web.client.post("/v1/webhooks/carriers/aftership", content=body)
    assert no_secret.status_code == 403 and "DELIVERYHUB_AFTERSHIP_WEBHOOK_SECRET" in no_secret.text
    monkeypatch.setenv("DELIVERYHUB_AFTERSHIP_WEBHOOK_SECRET", "as-secret")
    good = base64.b64encode(hmac.new(b"as-secret", body, hashlib.sha256).digest()).decode()
    bad = base64.b64encode(hmac.new(b"nope", body, hashlib.sha256).digest()).decode()
    assert (
        web.client.post(
            "/v1/webhooks/carriers/aftership", content=body, headers={"aftership-hmac-sha256": bad}
        ).status_code
        == 401
    )
    assert web.client.post("/v1/webhooks/carriers/aftership", content=body).status_code == 401
    inbox_before = web.count(t.inbox)
    ok = web.client.post(
        "/v1/webhooks/carriers/aftership", content=body, headers={"aftership-hmac-sha256": good}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] >= 1
    assert "carrier:aftership" in {e["source"] for e in web.order("ORD-A")["events"]}
    # AfterShip re-sends the same signed body when it got no 2xx: acknowledged, nothing done twice.
    again = web.client.post(
        "/v1/webhooks/carriers/aftership", content=body, headers={"aftership-hmac-sha256": good}
    )
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert web.count(t.inbox) == inbox_before + ok.json()["accepted"]


def test_easypost_signature(web: Web, monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    monkeypatch.setenv("DELIVERYHUB_EASYPOST_WEBHOOK_SECRET", "ep-secret")
    seed_order(web, "ORD-E", "FedEx", "1")
    body = (
        shared_data / "carrier_shop_api_payloads/easypost/official_examples/"
        "webhook_event_body_tracker_updated.json"
    ).read_bytes()
    good = "hmac-sha256-hex=" + hmac.new(b"ep-secret", body, hashlib.sha256).hexdigest()
    assert (
        web.client.post(
            "/v1/webhooks/carriers/easypost", content=body, headers={"x-hmac-signature": "hmac-sha256-hex=00"}
        ).status_code
        == 401
    )
    ok = web.client.post("/v1/webhooks/carriers/easypost", content=body, headers={"x-hmac-signature": good})
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] == 8
    assert web.order("ORD-E")["parcels"][0]["tracking_no"] == "1"


def test_korean_carrier_push_signed_with_timestamp(web: Web) -> None:
    seed_order(web, "ORD-K", "cj", "553825406594")
    scans = {
        "tracking_no": "553825406594",
        "order_id": "ORD-SOMEONE-ELSE",  # ignored: the hub knows whose parcel this number is
        "events": [{"time": "2026-11-21 09:00", "code": "11", "status": "집화처리", "location": "곤지암"}],
    }
    body = json.dumps(scans, ensure_ascii=False).encode()
    assert web.client.post("/v1/webhooks/carriers/cj", content=body).status_code == 401
    now = int(web.hub.clock.now().timestamp())
    zero = {"x-deliveryhub-timestamp": str(now), "x-deliveryhub-signature": "sha256=" + "0" * 64}
    assert web.client.post("/v1/webhooks/carriers/cj", content=body, headers=zero).status_code == 401
    # The old body-only signature (no timestamp) is no longer enough.
    old = {
        "x-deliveryhub-signature": "sha256=" + hmac.new(b"cj-shared-secret", body, hashlib.sha256).hexdigest()
    }
    assert web.client.post("/v1/webhooks/carriers/cj", content=body, headers=old).status_code == 401
    assert web.count(t.inbox) == 2  # the two seeded events only
    ok = push(web, "cj", body)
    assert ok.status_code == 200 and ok.json()["accepted"] == 2, ok.text  # the scan + handed_over
    assert web.order("ORD-K")["parcels"][0]["status"] == "in_transit"


def test_carrier_push_bad_json_is_400(web: Web) -> None:
    response = push(web, "logen", b"[1,")
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"
