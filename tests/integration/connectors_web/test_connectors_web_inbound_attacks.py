"""Attacks on the inbound webhooks (issue 13, vulnerabilities 1 and 5), as an outsider would try them.

Real app (TestClient), real SQLite file. Every refusal is checked to have stored nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import make_hub
from e2e.connectors_web.connectors_kit import CJ_DELIVERED, CJ_NUMBER, waybill_order

SHOP_SECRET = "shpss_attack_secret"
CJ_SECRET = "cj-attack-secret"
SHOP_SAMPLE = "carrier_shop_api_payloads/shopify/sample_webhook_orders_create.json"
VICTIM, NUMBER, DELIVERED = "ORD-VICTIM-1", CJ_NUMBER, CJ_DELIVERED


class Web:
    def __init__(self, hub: Any, client: TestClient, key: str) -> None:
        self.hub, self.client = hub, client
        self.auth = {"authorization": f"Bearer {key}"}

    def count(self, table: sa.Table, *where: Any) -> int:
        with self.hub.db.read() as conn:
            query = sa.select(sa.func.count()).select_from(table)
            return int(conn.execute(query.where(*where) if where else query).scalar_one())

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/orders/{order_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def now(self) -> int:
        return int(self.hub.clock.now().timestamp())

    def push(self, body: bytes, headers: dict[str, str], query: str = "") -> Any:
        return self.client.post(f"/v1/webhooks/carriers/cj{query}", content=body, headers=headers)


@pytest.fixture
def web(tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", CJ_SECRET)
    hub = make_hub(tmp_path, master_key, shopify_webhook_secret=SHOP_SECRET)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            w = Web(hub, client, create_api_key(hub.db, "attack-admin", "admin"))
            seeded = client.post(
                "/v1/events",
                headers=w.auth,
                json={"events": waybill_order(VICTIM, "cj", NUMBER, total=19900)},
            )
            assert seeded.status_code == 200, seeded.text
            yield w
    finally:
        hub.close()


def _body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _nothing_from_cj(web: Web) -> None:
    assert web.count(t.inbox, t.inbox.c.source == "carrier:cj") == 0
    assert web.count(t.quarantine) == 0
    assert web.order(VICTIM)["stage"] != "delivered"


# ------------------------------------------------------------------------------------ carrier pushes


def test_forged_signature_is_refused(web: Web) -> None:
    body = _body(DELIVERED)
    ts = str(web.now())
    forged = [
        {},  # anonymous
        {"x-deliveryhub-timestamp": ts},
        {"x-deliveryhub-timestamp": ts, "x-deliveryhub-signature": "sha256=" + "0" * 64},
        # signed with a guessed secret
        sign_push("cj-secret", body, web.now()),
        # the right secret over the body alone (the old scheme): the timestamp is part of the message
        {
            "x-deliveryhub-timestamp": ts,
            "x-deliveryhub-signature": hmac.new(CJ_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        },
        # a valid signature of another body
        sign_push(CJ_SECRET, b"{}", web.now()),
        {"x-deliveryhub-timestamp": "not-a-time", "x-deliveryhub-signature": "sha256=00"},
        {"x-deliveryhub-signature": "t=,v1="},
        {"x-deliveryhub-signature": f"t={ts},v1={'0' * 64}"},
        {"x-deliveryhub-signature": f"t={ts}"},
        {"x-deliveryhub-signature": "t=1,t=2,v1=,,,=="},
        {"x-deliveryhub-signature": b"t=\xb2\xb3,v1=00"},  # type: ignore[dict-item]  # latin-1 digits
        {"x-deliveryhub-timestamp": b"\xb9", "x-deliveryhub-signature": "sha256=00"},  # type: ignore[dict-item]
    ]
    for headers in forged:
        response = web.push(body, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "invalid_signature"
    _nothing_from_cj(web)


def test_stale_and_future_timestamps_are_refused(web: Web) -> None:
    body = _body(DELIVERED)
    for skew in (-301, -86_400, 301, 10**9):
        response = web.push(body, sign_push(CJ_SECRET, body, web.now() + skew))
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "stale_timestamp" and error["field"] == "X-Deliveryhub-Timestamp"
    _nothing_from_cj(web)
    inside = web.push(body, sign_push(CJ_SECRET, body, web.now() - 250))
    assert inside.status_code == 200, inside.text
    # The two-header form (timestamp header + sha256=) signs the same message and is accepted too.
    ts = str(web.now())
    digest = hmac.new(CJ_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    two = web.push(body, {"x-deliveryhub-timestamp": ts, "x-deliveryhub-signature": f"sha256={digest}"})
    assert two.status_code == 200, two.text
    stale = str(web.now() - 3600)
    old = hmac.new(CJ_SECRET.encode(), stale.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert web.push(body, {"x-deliveryhub-signature": f"t={stale},v1={old}"}).status_code == 401


def test_replayed_signature_is_refused_and_has_one_effect(web: Web) -> None:
    body = _body(DELIVERED)
    headers = sign_push(CJ_SECRET, body, web.now())
    first = web.push(body, headers)
    assert first.status_code == 200 and first.json()["accepted"] >= 2, first.text
    stored = web.count(t.inbox)
    for _ in range(3):
        again = web.push(body, headers)
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "replayed_delivery"
    assert web.count(t.inbox) == stored


def test_order_id_query_parameter_cannot_choose_the_order(web: Web) -> None:
    other = {"tracking_no": "999999999999", "events": DELIVERED["events"]}
    body = _body(other)
    for query in (f"?order_id={VICTIM}", "?order_id=", f"?x=1&order_id={VICTIM}"):
        response = web.push(body, sign_push(CJ_SECRET, body, web.now()), query)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["field"] == "order_id"
    _nothing_from_cj(web)


def test_order_id_in_the_body_is_ignored_and_unknown_numbers_are_quarantined(web: Web) -> None:
    """A signed push naming the victim in its body, for a number the hub does not know: no phantom order,
    the victim untouched, the events kept in quarantine with the reason."""
    payload = {"tracking_no": "999999999999", "order_id": VICTIM, "events": DELIVERED["events"]}
    body = _body(payload)
    response = web.push(body, sign_push(CJ_SECRET, body, web.now()))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 0 and answer["quarantined"] >= 2
    assert any("999999999999" in u and "tracking" in u for u in answer["unmapped"])
    assert web.order(VICTIM)["stage"] != "delivered"
    listed = web.client.get("/v1/orders", headers=web.auth).json()["orders"]
    assert [o["order_id"] for o in listed] == [VICTIM]
    with web.hub.db.read() as conn:
        reasons = {r.reason_code for r in conn.execute(sa.select(t.quarantine.c.reason_code))}
    assert reasons == {"unknown_tracking_no"}
    assert web.count(ct.connector_pushed_orders) == 0


def test_a_number_of_another_carrier_does_not_match(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERYHUB_LOTTE_WEBHOOK_SECRET", "lotte-secret")
    body = _body(DELIVERED)  # the victim's CJ number, pushed as Lotte
    response = web.client.post(
        "/v1/webhooks/carriers/lotte", content=body, headers=sign_push("lotte-secret", body, web.now())
    )
    assert response.status_code == 200 and response.json()["accepted"] == 0, response.text
    assert web.order(VICTIM)["stage"] != "delivered"


def test_a_signed_push_reaches_the_known_order_and_is_remembered_as_pushed(web: Web) -> None:
    body = _body(DELIVERED)
    response = web.push(body, sign_push(CJ_SECRET, body, web.now()))
    assert response.status_code == 200 and response.json()["auth"] == "signature", response.text
    assert web.order(VICTIM)["stage"] == "delivered"
    with web.hub.db.read() as conn:
        rows = conn.execute(sa.select(ct.connector_pushed_orders)).all()
    assert [(r.order_id, r.source) for r in rows] == [(VICTIM, "webhook:cj")]


def test_a_broken_allowlist_is_a_clear_403_not_a_500(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS", "10.0.0.0/8, not-an-ip")
    body = _body(DELIVERED)
    response = web.push(body, sign_push(CJ_SECRET, body, web.now()))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "webhook_misconfigured" and "not-an-ip" in response.text
    _nothing_from_cj(web)


# ------------------------------------------------------------------------------------------- Shopify


def _shopify(web: Web, topic: str, body: bytes, webhook_id: str, shop: str = "seoul.myshopify.com") -> Any:
    signature = base64.b64encode(hmac.new(SHOP_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-webhook-id": webhook_id,
        "x-shopify-hmac-sha256": signature,
        "x-shopify-shop-domain": shop,
        "content-type": "application/json",
    }
    return web.client.post("/v1/webhooks/shopify", content=body, headers=headers)


@pytest.fixture
def created(web: Web, shared_data: Path) -> tuple[bytes, str]:
    """Shopify's sample orders/create, delivered once, validly signed."""
    body = (shared_data / SHOP_SAMPLE).read_bytes()
    response = _shopify(web, "orders/create", body, "wh-create-1")
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text
    return body, str(json.loads(body)["id"])


def test_create_body_resent_as_cancelled_with_a_new_webhook_id_is_refused(
    web: Web, created: tuple[bytes, str]
) -> None:
    """Vulnerability 5: Shopify's sample even carries cancelled_at, so only the body binding stops it."""
    body, order_id = created
    inbox = web.count(t.inbox)
    for i, topic in enumerate(("orders/cancelled", "orders/cancelled", "fulfillments/create")):
        response = _shopify(web, topic, body, f"wh-forged-{i}")
        assert response.status_code in (409, 422), response.text
        assert response.json()["error"]["code"] == "topic_body_mismatch"
    assert web.count(t.inbox) == inbox
    detail = web.order(order_id)
    assert detail["side_state"] is None
    assert "order.cancelled" not in [e["type"] for e in detail["events"]]
    # The genuine delivery is remembered as a pushed fact: money it triggers will need an approver.
    with web.hub.db.read() as conn:
        pushed = conn.execute(
            sa.select(ct.connector_pushed_orders.c.order_id, ct.connector_pushed_orders.c.source)
        )
        assert [tuple(r) for r in pushed] == [(order_id, "webhook:shopify")]


def test_cancelled_topic_without_cancelled_at_is_refused(web: Web, shared_data: Path) -> None:
    order = json.loads((shared_data / SHOP_SAMPLE).read_text())
    order["cancelled_at"] = None
    body = json.dumps(order).encode()
    response = _shopify(web, "orders/cancelled", body, "wh-x1")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "topic_body_mismatch" and error["field"] == "cancelled_at"
    assert "cancelled_at" in error["message"]
    assert web.count(t.inbox, t.inbox.c.event_id.like("shopify:%")) == 0
    # Other shapes that do not fit their topic.
    for topic, payload in (
        ("orders/paid", order),  # financial_status is not paid
        ("fulfillments/create", {"id": 1, "order_id": order["id"]}),  # no status
        ("refunds/create", order),
        ("orders/create", {"id": 5, "order_id": 7, "status": "success"}),  # a fulfilment, not an order
        ("orders/create", [order]),
    ):
        bad = _shopify(web, topic, json.dumps(payload).encode(), f"wh-{topic}")
        assert bad.status_code == 422, (topic, bad.text)
    assert web.count(t.inbox, t.inbox.c.event_id.like("shopify:%")) == 0
    assert web.count(ct.connector_webhook_receipts) == 0


def test_webhook_id_reused_with_another_topic_or_body_is_refused(
    web: Web, created: tuple[bytes, str], shared_data: Path
) -> None:
    body, order_id = created
    order = json.loads(body)
    cancelled = json.dumps(dict(order, cancelled_at="2019-06-06T10:00:00-04:00")).encode()
    reused = _shopify(web, "orders/cancelled", cancelled, "wh-create-1")
    assert reused.status_code == 409, reused.text
    assert reused.json()["error"]["code"] == "webhook_id_reused"
    assert web.order(order_id)["side_state"] is None
    # The same id twice with the same topic and body: acknowledged, one effect.
    inbox = web.count(t.inbox)
    for _ in range(3):
        again = _shopify(web, "orders/create", body, "wh-create-1")
        assert again.status_code == 200 and again.json()["replayed"] is True
    assert web.count(t.inbox) == inbox
    # Ids are per shop: another shop may use the same id for its own webhook.
    other = dict(order, id=4242)
    other_shop = _shopify(
        web, "orders/create", json.dumps(other).encode(), "wh-create-1", "busan.myshopify.com"
    )
    assert other_shop.status_code == 200 and other_shop.json()["accepted"] == 1
    # A genuine cancellation (new body, new id) still works.
    genuine = _shopify(web, "orders/cancelled", cancelled, "wh-cancel-1")
    assert genuine.status_code == 200 and genuine.json()["accepted"] == 1
    assert web.order(order_id)["side_state"] is not None


def test_oversized_or_missing_webhook_id_is_400(web: Web, shared_data: Path) -> None:
    body = (shared_data / SHOP_SAMPLE).read_bytes()
    for webhook_id in ("", "x" * 129):
        response = _shopify(web, "orders/create", body, webhook_id)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["field"] == "X-Shopify-Webhook-Id"
    assert web.count(t.inbox, t.inbox.c.event_id.like("shopify:%")) == 0


def test_integrations_view_shows_how_each_push_route_authenticates(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_LOTTE_WEBHOOK_ALLOW_IPS", "203.0.113.0/24")
    monkeypatch.setenv("DELIVERYHUB_AFTERSHIP_WEBHOOK_ALLOW_IPS", "203.0.113.0/24")  # not enough alone
    response = web.client.get("/v1/integrations", headers=web.auth)
    assert response.status_code == 200, response.text
    assert response.json()["webhooks"] == {
        "cj": "signature",
        "lotte": "allowlist",
        "hanjin": "refused",
        "epost": "refused",
        "logen": "refused",
        "aftership": "refused",
        "easypost": "refused",
        "shopify": "signature",
    }
    assert CJ_SECRET not in response.text


def test_secret_rotation_accepts_the_previous_secret_only_while_configured(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _body(DELIVERED)
    assert web.push(body, sign_push("cj-old-secret", body, web.now())).status_code == 401
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET_PREVIOUS", "cj-old-secret")
    assert web.push(body, sign_push("cj-older-secret", body, web.now())).status_code == 401
    rotated = web.push(body, sign_push("cj-old-secret", body, web.now()))
    assert rotated.status_code == 200 and rotated.json()["accepted"] >= 2, rotated.text
    # The previous secret alone (current one removed) opens nothing.
    monkeypatch.delenv("DELIVERYHUB_CJ_WEBHOOK_SECRET")
    alone = web.push(body, sign_push("cj-old-secret", body, web.now() + 1))
    assert alone.status_code == 403 and alone.json()["error"]["code"] == "webhook_not_configured"


def test_another_shop_header_does_not_make_an_old_body_new(web: Web, created: tuple[bytes, str]) -> None:
    """The shop domain header is unsigned too (with the global secret): it cannot launder a replay."""
    body, order_id = created
    inbox = web.count(t.inbox)
    for shop in ("busan.myshopify.com", "x.example", ""):
        as_cancel = _shopify(web, "orders/cancelled", body, f"wh-launder-{shop}", shop=shop)
        assert as_cancel.status_code == 409, as_cancel.text
        copy = _shopify(web, "orders/create", body, f"wh-copy-{shop}", shop=shop)
        assert copy.status_code == 200 and copy.json()["replayed"] is True, copy.text
    assert web.count(t.inbox) == inbox
    assert web.order(order_id)["side_state"] is None
    for shop in ("evil shop", "a" * 256, "-x.myshopify.com", "x.myshopify.com/../admin"):
        bad = _shopify(web, "orders/create", body, "wh-bad-shop", shop=shop)
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "X-Shopify-Shop-Domain", bad.text
