"""Shopify: HMAC verification, real sample payloads and every mapped topic."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from deliveryhub.adapters.connectors.shopify import mapper
from deliveryhub.adapters.connectors.signatures import verify_base64_hmac

SECRET = "hush"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# ---------------------------------------------------------------------------------------------- HMAC


def test_hmac_valid() -> None:
    body = b'{"id": 1}'
    assert verify_base64_hmac(body, sign(body), SECRET) is True


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (b'{"id": 1}', sign(b'{"id": 2}'), SECRET),  # body tampered
        (b'{"id": 1}', sign(b'{"id": 1}', "other"), SECRET),  # wrong secret
        (b'{"id": 1}', None, SECRET),  # header missing
        (b'{"id": 1}', "", SECRET),
        (b'{"id": 1}', "not base64 at all", SECRET),
        (b'{"id": 1}', sign(b'{"id": 1}'), ""),  # no secret configured: fail closed
    ],
)
def test_hmac_rejects(body: bytes, header: str | None, secret: str) -> None:
    assert verify_base64_hmac(body, header, secret) is False


def test_hmac_uses_raw_bytes_not_reserialized_json() -> None:
    raw = b'{"id":1,  "name":"\xc3\xa9"}'
    assert verify_base64_hmac(raw, sign(raw), SECRET)
    assert not verify_base64_hmac(json.dumps(json.loads(raw)).encode(), sign(raw), SECRET)


# ------------------------------------------------------------------------------------ real payloads


def test_sample_orders_create_webhook(payload) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_webhook(
        "orders/create",
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        payload("shopify/sample_webhook_orders_create.json"),
    )
    assert result.unmapped == []
    [event] = result.events
    assert event == {
        "event_id": "shopify:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "source": "oms",
        "type": "order.created",
        "occurred_at": "2019-06-04T13:53:06-04:00",
        "order_id": "820982911946154508",
        "shipment_id": None,
        "data": {
            "customer": {"name": "John Smith", "phone": "555-555-SHIP", "email": "jon@doe.ca"},
            "address": {
                "zip": "40003",
                "line1": "123 Shipping Street",
                "line2": None,
                "city": "Shippington",
                "province": "Kentucky",
                "country_code": "US",
            },
            "items": [
                {"sku": "IPOD2008PINK", "qty": 1, "price": 199.0},
                {"sku": "IPOD2008PINK", "qty": 1, "price": 199.0},
            ],
            "total": 403.0,
            "currency": "USD",
            "channel": "shopify",
            "order_name": "#9999",
            "order_number": "1234",
        },
    }


def test_sample_as_other_topics(payload) -> None:  # type: ignore[no-untyped-def]
    body = payload("shopify/sample_webhook_orders_create.json")
    cancelled = mapper.map_webhook("orders/cancelled", "w2", body).events
    assert [(e["type"], e["data"]) for e in cancelled] == [("order.cancelled", {"reason": "customer"})]
    paid = mapper.map_webhook("orders/paid", "w3", body).events
    assert [(e["type"], e["data"]["amount"], e["data"]["method"]) for e in paid] == [
        ("order.paid", 403.0, "visa,bogus")
    ]


def test_rest_order_fixture(payload) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(payload("shopify/shopify_python_api_fixtures/order.json"))
    assert [e["type"] for e in result.events] == ["order.created", "shipment.waybill_created"]
    created, waybill = result.events
    assert created["order_id"] == "450789469"
    assert [i["sku"] for i in created["data"]["items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert created["data"]["total"] == 409.94
    assert created["data"]["customer"]["name"] == "Bob Norman"
    assert waybill["event_id"] == "shopify:waybill:255858046:1Z2345"
    assert (waybill["shipment_id"], waybill["data"]["tracking_no"], waybill["data"]["carrier"]) == (
        "1Z2345",
        "1Z2345",
        "unknown",  # tracking_company null and 1Z2345 matches no Korean carrier rule
    )


def test_rest_orders_list_fixture(payload) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(payload("shopify/shopify_python_api_fixtures/orders.json"))
    assert [(e["type"], e["order_id"]) for e in result.events] == [("order.created", "450789469")]


def test_rest_fulfillment_fixture(payload) -> None:  # type: ignore[no-untyped-def]
    body = payload("shopify/shopify_python_api_fixtures/fulfillment.json")
    result = mapper.map_webhook("fulfillments/create", "w4", body)
    assert [(e["type"], e["order_id"], e["shipment_id"], e["data"]["carrier"]) for e in result.events] == [
        ("shipment.waybill_created", "450789469", "1Z2345", "null-company")
    ]
    assert result.events[0]["data"]["tracking_url"] == "http://www.google.com/search?q=1Z2345"
    again = mapper.map_webhook("fulfillments/update", "w5", body)
    assert again.events[0]["event_id"] == result.events[0]["event_id"]  # same waybill, two webhooks: one fact


def test_rest_fulfillment_event_fixture(payload) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(
        payload("shopify/shopify_python_api_fixtures/fulfillment_event.json"), webhook_id="w6"
    )
    [event] = result.events
    assert (event["type"], event["data"]["status"], event["data"]["raw_status"], event["order_id"]) == (
        "shipment.tracking",
        "info_received",
        "label_printed",
        "2776493818019",
    )
    assert event["occurred_at"] == "2021-01-25T16:32:23-05:00"


def test_rest_refund_fixture(payload) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(payload("shopify/shopify_python_api_fixtures/refund.json"), webhook_id="w7")
    assert [(e["type"], e["order_id"], e["data"]["amount"]) for e in result.events] == [
        ("return.refunded", "450789469", 209.0)
    ]


@pytest.mark.parametrize("name", ["transaction.json", "transactions.json"])
def test_rest_authorization_transaction_is_not_a_payment(payload, name: str) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(payload(f"shopify/shopify_python_api_fixtures/{name}"))
    assert result.events == []
    assert any("kind='authorization'" in u for u in result.unmapped)


@pytest.mark.parametrize("name", ["customer.json", "checkouts.json", "events.json"])
def test_non_order_resources_are_reported(payload, name: str) -> None:  # type: ignore[no-untyped-def]
    result = mapper.map_payload(payload(f"shopify/shopify_python_api_fixtures/{name}"))
    assert result.events == []
    assert result.unmapped


# --------------------------------------------------------------------------------------- synthetic


def order(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 42,
        "created_at": "2024-05-01T09:00:00+09:00",
        "updated_at": "2024-05-02T09:00:00+09:00",
        "total_price": "30000",
        "gateway": "kakaopay",
        "shipping_address": {"zip": "06236", "address1": "서울 강남구 테헤란로 1", "address2": "101호"},
    }
    base.update(overrides)
    return base


def test_orders_updated_address_change() -> None:
    previous = {"zip": "06236", "line1": "서울 강남구 테헤란로 1", "line2": "101호"}
    unchanged = mapper.map_webhook("orders/updated", "u1", order(), previous_address=previous)
    assert unchanged.events == []
    moved = order(shipping_address={"zip": "48058", "address1": "부산 해운대구 1", "address2": None})
    changed = mapper.map_webhook("orders/updated", "u2", moved, previous_address=previous)
    assert [(e["type"], e["data"]["address"]["zip"]) for e in changed.events] == [
        ("order.address_changed", "48058")
    ]
    # without the previous address the event is emitted with an id keyed on the address: repeats dedupe
    again = mapper.map_webhook("orders/updated", "u3", moved)
    assert again.events[0]["event_id"] == changed.events[0]["event_id"]


def test_fulfillment_with_shipment_status_delivered_and_korean_carrier() -> None:
    body = {
        "id": 9,
        "order_id": 42,
        "created_at": "2024-05-02T10:00:00+09:00",
        "updated_at": "2024-05-03T15:00:00+09:00",
        "tracking_company": "CJ대한통운",
        "tracking_numbers": ["553825406594"],
        "tracking_urls": ["https://trace.cjlogistics.com/553825406594"],
        "shipment_status": "delivered",
    }
    result = mapper.map_webhook("fulfillments/update", "f1", body)
    assert [(e["type"], e["data"].get("status"), e["data"]["carrier"]) for e in result.events] == [
        ("shipment.waybill_created", None, "cj"),
        ("shipment.tracking", "delivered", "cj"),
        ("shipment.delivered", None, "cj"),
    ]
    assert {e["order_id"] for e in result.events} == {"42"}


def test_unknown_topic_and_missing_webhook_id() -> None:
    assert mapper.map_webhook("products/create", "p1", {"id": 1}).unmapped == [
        "shopify topic 'products/create' is not mapped"
    ]
    result = mapper.map_webhook("orders/create", None, order())
    assert result.events[0]["event_id"].startswith("shopify:body:")
    assert any("no X-Shopify-Webhook-Id" in u for u in result.unmapped)


def test_naive_timestamp_is_rejected() -> None:
    result = mapper.map_webhook("orders/create", "n1", order(created_at="2024-05-01T09:00:00"))
    assert result.events == []
    assert any("no timestamp with offset" in u for u in result.unmapped)
