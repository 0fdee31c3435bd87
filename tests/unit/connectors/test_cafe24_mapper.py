"""Cafe24 mapper: every payload the vendor sends a client (webhooks, GET and write responses) by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.cafe24 import Cafe24Settings
from deliveryhub.adapters.connectors.cafe24 import mapper as m
from deliveryhub.adapters.connectors.cafe24.client import company_code
from deliveryhub.contracts.events import parse_event


def _load(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "korean_commerce_payloads" / f"cafe24__{name}.json").read_text("utf-8"))


def _replay(shared_data: Path, name: str) -> m.MappingResult:
    result = get_connector("cafe24").map_payload(_load(shared_data, name))
    for event in result.events:
        parse_event(event)  # every event is valid canonical JSON
        assert event["source"] == "cafe24"
    return result


def _facts(result: m.MappingResult) -> list[tuple[str, str | None]]:
    return [(e["type"], e["order_id"]) for e in result.events]


def test_90023_order_received(shared_data: Path) -> None:
    r = _replay(shared_data, "webhook_90023_on_order_received")
    assert _facts(r) == [("order.created", "20200717-0029236"), ("order.paid", "20200717-0029236")]
    created, paid = r.events
    assert created["event_id"] == "cafe24:cafe24bestshop:20200717-0029236:created"
    assert created["occurred_at"] == "2020-07-17T15:24:07+09:00"
    data = created["data"]
    assert data["customer"] == {
        "name": "Jessica Hong",
        "phone": "010-2424-2424",
        "email": "gdhong@cafe24corp.com",
        "external_id": "gdhong",
    }
    assert data["items"] == [{"sku": "P00000BO", "qty": 1}, {"sku": "P00000DQ", "qty": 1}]
    assert data["total"] == 24680.0 and data["currency"] == "KRW" and data["channel"] == "cafe24"
    assert data["marketplace"] == {
        "source": "cafe24",
        "mall_id": "cafe24bestshop",
        "order_item_codes": [],
        "shop_no": "1",
        "order_place_id": "NCHECKOUT",
    }
    assert paid["data"] == {"amount": 0.0, "method": "mileage", "currency": "KRW"}
    assert r.unmapped == []


def test_90025_payment_and_90031_added_product(shared_data: Path) -> None:
    paid = _replay(shared_data, "webhook_90025_on_order_payment_status_changed")
    assert _facts(paid) == [("order.paid", "20200717-0029236")]
    assert paid.events[0]["data"] == {"amount": 27580.0, "method": "cash", "currency": "KRW"}
    # paid == "M" (partly paid): the order, no payment yet.
    added = _replay(shared_data, "webhook_90031_on_product_added_to_order")
    assert _facts(added) == [("order.created", "20191009-0000126")]
    assert [i["sku"] for i in added.events[0]["data"]["items"]] == ["P0000BUC", "P0000BUB"]


def test_claim_webhooks(shared_data: Path) -> None:
    cancel = _replay(shared_data, "webhook_90026_on_order_cancellation_status_changed")
    assert _facts(cancel) == [("order.cancelled", "20200716-0000023")]
    assert cancel.events[0]["data"]["reason"] == "cafe24: cancel_order"
    exchange = _replay(shared_data, "webhook_90028_on_order_exchange_status_changed")
    assert _facts(exchange) == [("exchange.requested", "20200716-0000023")]
    assert exchange.events[0]["data"]["items"] == ["P00000HK"]
    refund = _replay(shared_data, "webhook_90029_on_order_refund_status_changed")
    assert _facts(refund) == [("return.refunded", "20200716-0000023")]
    done = _replay(shared_data, "webhook_90160_on_app_order_return_completed")
    assert _facts(done) == [("return.received", "20230316-0000287"), ("return.refunded", "20230316-0000287")]
    assert done.events[1]["data"] == {"amount": 35000.0, "claim_code": "C20230329-0001215"}
    assert done.events[0]["occurred_at"] == "2023-03-29T00:00:00+09:00"


def test_bulk_webhooks_one_event_per_order(shared_data: Path) -> None:
    delivery = _replay(shared_data, "webhook_90071_on_bulk_order_delivery_status_changed")
    assert [t for t, _ in _facts(delivery)] == ["shipment.handed_over"] * 5
    assert [o for _, o in _facts(delivery)][0] == "20200717-0001242"
    assert _facts(_replay(shared_data, "webhook_90072_on_bulk_order_cancellation_status_changed")) == [
        ("order.cancelled", "20200713-0000039"),
        ("order.cancelled", "20200708-0000080"),
    ]
    assert _facts(_replay(shared_data, "webhook_90073_on_bulk_order_refund_status_changed")) == [
        ("return.refunded", "20200529-0000015"),
        ("return.refunded", "20200527-0000078"),
    ]
    assert _facts(_replay(shared_data, "webhook_90074_on_bulk_order_return_status_changed")) == [
        ("return.requested", "20200528-0000019"),
        ("return.requested", "20200513-0000040"),
    ]


def test_90162_shipping_code_is_a_waybill(shared_data: Path) -> None:
    r = _replay(shared_data, "webhook_90162_on_order_shipping_code_changed")
    assert _facts(r) == [("shipment.waybill_created", "20200717-0029236")]
    event = r.events[0]
    assert event["shipment_id"] == "D-20220723-0000019-00"
    assert event["data"]["tracking_no"] == "123456789123"
    assert event["data"]["carrier"] == m.hub_carrier("0001")


def test_product_and_recipient_webhooks_map_to_nothing(shared_data: Path) -> None:
    for name in (
        "webhook_90001_on_product_created",
        "webhook_90075_on_product_inventory_changed",
        "webhook_90064_on_order_recipient_info_changed",
    ):
        r = _replay(shared_data, name)
        assert r.events == [] and r.unmapped == [], name


def test_unknown_event_no_and_garbage_are_reasons_never_raises() -> None:
    r = m.map_payload({"event_no": 99999, "resource": {"mall_id": "x", "order_id": "1"}})
    assert r.events == [] and "unknown event_no 99999" in r.unmapped[0]
    junk: Any
    for junk in (None, [], "x", {"event_no": "abc"}, {"event_no": 90023, "resource": "no"}, {"orders": [1]}):
        m.map_payload(junk)  # never raises


def test_orders_list_and_one_order(shared_data: Path) -> None:
    listing = _replay(shared_data, "orders__retrieve_a_list_of_orders__response")
    assert _facts(listing) == [
        ("order.created", "20170710-0000013"),
        ("order.paid", "20170710-0000013"),
        ("order.created", "20170711-0000014"),
        ("order.paid", "20170711-0000014"),
    ]
    created = listing.events[0]
    assert created["occurred_at"] == "2018-07-04T11:21:35+09:00"
    assert created["data"]["total"] == 30000.0
    assert created["data"]["customer"]["name"] == "Test"
    assert listing.events[1]["data"]["method"] == "card,cash"
    one = _replay(shared_data, "orders__retrieve_an_order__response")
    assert _facts(one) == [("order.created", "20170710-0000013"), ("order.paid", "20170710-0000013")]
    # The same order by webhook and by poll is one fact: same event id.
    assert one.events[0]["event_id"] == "cafe24:unknown:20170710-0000013:created"


def test_order_with_embedded_items_and_receivers() -> None:
    order = {
        "order_id": "20240101-0000001",
        "order_date": "2024-01-01T10:00:00+09:00",
        "payment_date": "2024-01-01T10:01:00+09:00",
        "paid": "T",
        "payment_amount": "30000.00",
        "payment_method": ["card"],
        "items": [
            {
                "order_item_code": "20240101-0000001-01",
                "variant_code": "P000000N000A",
                "quantity": 2,
                "product_price": "15000.00",
                "product_name": "티셔츠",
                "order_status": "N30",
                "tracking_no": "553825406594",
                "shipping_code": "D-20240101-0000001-00",
                "shipping_company_code": "0006",
                "shipped_date": "2024-01-02T09:00:00+09:00",
            }
        ],
        "receivers": [{"name": "김민수", "zipcode": "06258", "address1": "서울 강남구", "address2": "101호"}],
    }
    r = m.map_payload({"order": order}, mall="myshop")
    assert _facts(r) == [
        ("order.created", "20240101-0000001"),
        ("order.paid", "20240101-0000001"),
        ("shipment.waybill_created", "20240101-0000001"),
        ("shipment.handed_over", "20240101-0000001"),
    ]
    data = r.events[0]["data"]
    assert data["address"]["zip"] == "06258" and data["address"]["line2"] == "101호"
    assert data["items"] == [{"sku": "P000000N000A", "qty": 2, "price": 15000.0, "name": "티셔츠"}]
    assert data["marketplace"]["order_item_codes"] == ["20240101-0000001-01"]
    assert r.events[2]["data"] == {"carrier": "cj", "tracking_no": "553825406594"}
    assert r.events[2]["shipment_id"] == "D-20240101-0000001-00"


def test_items_shipments_and_claim_responses(shared_data: Path) -> None:
    items = _replay(shared_data, "orders_items__retrieve_a_list_of_order_items__response")
    assert [t for t, _ in _facts(items)] == [
        "shipment.waybill_created",
        "shipment.handed_over",
        "shipment.delivered",
    ]  # two items in one parcel (N40, tracking 12345678): one set of facts
    shipments = _replay(
        shared_data, "orders_shipments__retrieve_a_list_of_shipping_information_of_an_order__response"
    )
    assert [e["data"]["tracking_no"] for e in shipments.events] == ["101080903", "101080904"]
    assert [e["shipment_id"] for e in shipments.events] == ["D-20180627-0000017-00", "D-20180627-0000017-01"]
    refund = _replay(shared_data, "refunds__retrieve_a_refund__response")
    assert _facts(refund) == [("return.refunded", "20191118-0000018")]
    assert refund.events[0]["data"]["amount"] == 17610.0
    assert refund.events[0]["occurred_at"] == "2019-11-18T17:31:50+09:00"
    refunds = _replay(shared_data, "refunds__retrieve_a_list_of_refunds__response")
    assert refunds.events[0]["data"]["amount"] == 12610.0
    cancel = _replay(shared_data, "cancellation__retrieve_an_order_cancellation__response")
    assert _facts(cancel) == [("order.cancelled", "20190607-0000018")]
    assert cancel.events[0]["data"]["reason"] == "Damaged products"
    ret = _replay(shared_data, "return__retrieve_a_return__response")
    assert _facts(ret) == [("return.requested", "20190607-0000018")]
    exchange = _replay(shared_data, "exchange__retrieve_an_exchange__response")
    assert _facts(exchange) == [("exchange.requested", "20190607-0000018")]
    assert exchange.events[0]["data"]["items"] == ["20190607-0000018-01"]


def test_receivers_response_is_an_address_change(shared_data: Path) -> None:
    payload = _load(shared_data, "orders_receivers__retrieve_a_list_of_recipients_of_an_order__response")
    r = m.map_response(payload, mall="cafe24bestshop", order_id="20200928-0000011")
    assert _facts(r) == [("order.address_changed", "20200928-0000011")]
    assert r.events[0]["data"]["address"]["zip"] == "06258"
    again = m.map_response(payload, mall="cafe24bestshop", order_id="20200928-0000011")
    assert again.events[0]["event_id"] == r.events[0]["event_id"]  # unchanged address: a duplicate


def test_every_cafe24_file_maps_without_crashing(shared_data: Path) -> None:
    files = sorted((shared_data / "korean_commerce_payloads").glob("cafe24__*.json"))
    assert len(files) >= 60
    for path in files:
        result = get_connector("cafe24").map_payload(json.loads(path.read_text("utf-8")))
        assert not any("mapper error" in u for u in result.unmapped), (path.name, result.unmapped)
        for event in result.events:
            parse_event(event)


def test_carrier_codes_are_data_with_overrides() -> None:
    settings = Cafe24Settings(_env_prefix="DH_TEST_NONE_", carrier_codes={"cj": "0099"})  # type: ignore[call-arg]
    assert company_code(settings, "cj") == "0099"
    assert company_code(settings, "hanjin") == m.carrier_table()["hanjin"]
    assert m.hub_carrier("0777") == "cafe24-0777"
