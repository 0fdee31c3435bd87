"""Coupang Wing mapper over every published answer in ../shared/data (expected events written by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.coupang.mapper import map_payload
from deliveryhub.contracts.events import parse_event

PREFIX = "coupang_wing__"


def _load(shared_data: Path, name: str) -> Any:
    text = (shared_data / "korean_commerce_payloads" / f"{PREFIX}{name}").read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return text  # the .js-literal.txt file (trailing comma) goes in as text


def _facts(result: Any) -> list[tuple[Any, ...]]:
    return [(e["type"], e["order_id"], e["shipment_id"], e["occurred_at"]) for e in result.events]


def test_ordersheets_per_minute(shared_data: Path) -> None:
    result = map_payload(_load(shared_data, "ordersheets_list_per_minute__response.json"))
    assert result.unmapped == []
    assert _facts(result) == [
        ("order.created", "22000009546234", None, "2017-10-10T10:20:16+09:00"),
        ("order.paid", "22000009546234", None, "2017-10-10T10:20:16+09:00"),
        ("shipment.waybill_created", "22000009546234", "448531493", "2017-10-16T22:08:04+09:00"),
        ("shipment.handed_over", "22000009546234", "448531493", "2017-10-16T22:08:04+09:00"),
        ("shipment.tracking", "22000009546234", "448531493", "2017-10-16T22:08:04+09:00"),
        ("shipment.delivered", "22000009546234", "448531493", "2017-10-17T17:17:52+09:00"),
        ("order.created", "22000009546630", None, "2017-10-10T10:35:04+09:00"),
        ("order.paid", "22000009546630", None, "2017-10-10T10:35:04+09:00"),
        ("shipment.waybill_created", "22000009546630", "448537989", "2017-10-16T22:08:04+09:00"),
        ("shipment.handed_over", "22000009546630", "448537989", "2017-10-16T22:08:04+09:00"),
        ("shipment.tracking", "22000009546630", "448537989", "2017-10-16T22:08:04+09:00"),
        ("shipment.delivered", "22000009546630", "448537989", "2017-10-17T20:42:23+09:00"),
    ]
    created = result.events[0]
    assert created["event_id"] == "coupang:order:22000009546234" and created["source"] == "coupang"
    data = created["data"]
    assert data["marketplace"]["source"] == "coupang"
    assert data["marketplace"]["shipment_box_ids"] == ["448531493"]
    assert data["marketplace"]["vendor_item_ids"] == ["3242596358"]
    assert data["marketplace"]["boxes"][0]["estimated_shipping_date"] == "2017-10-16"
    assert data["items"][0]["sku"] == "170816368810" and data["items"][0]["qty"] == 1
    assert data["items"][0]["price"] == 19900.0 and data["total"] == 22400.0  # + 2500 shipping
    assert data["address"] == {
        "zip": "423-747",
        "line1": "경기 광명시 하안1동 두산트레지움아파트",
        "line2": "107동701호",
    }
    assert data["customer"]["name"] == "신*희" and data["delivery_message"] == "문 앞"
    assert result.events[1]["data"] == {"amount": 22400.0, "method": "coupang"}
    assert result.events[2]["data"] == {"carrier": "cj", "tracking_no": "340010913442"}
    assert result.events[4]["data"]["status"] == "in_transit"
    assert result.events[6]["data"]["total"] == 49900.0  # free shipping
    for event in result.events:
        parse_event(event)


def test_returns_per_minute_and_per_day(shared_data: Path) -> None:
    minute = map_payload(_load(shared_data, "returnRequests_list_per_minute__response.json"))
    day = map_payload(_load(shared_data, "returnRequests_list_per_day__response.json"))
    expected_orders = ["28000008707838", "26000008536134", "6000008625134"]
    for result in (minute, day):
        assert result.unmapped == []
        assert [e["type"] for e in result.events] == ["return.requested"] * 3
        assert [e["order_id"] for e in result.events] == expected_orders
        assert [e["event_id"] for e in result.events] == [
            "coupang:return:50229613",
            "coupang:return:50203804",
            "coupang:return:50201937",
        ]
    for event in minute.events + day.events:
        parse_event(event)
    first = minute.events[0]["data"]
    assert first["reason"] == "CHANGEMIND" and first["reason_text"] == "필요 없어짐 (단순 변심)"
    assert first["items"] == [
        {
            "sku": "3187044096",
            "qty": 1,
            "name": "스파오(SPAO) (#)시원하고 편안한 캉캉 롱스커트, (19)Black, S",
            "shipment_id": "434119941",
        }
    ]
    assert [e["data"]["reason"] for e in minute.events] == ["CHANGEMIND", "DEFECT", "CHANGEMIND"]
    # the per-day sample has no reasonCode: the category text is the reason
    assert day.events[1]["data"]["reason"] == "사용중 제품결함"


def test_return_by_receipt_id(shared_data: Path) -> None:
    result = map_payload(_load(shared_data, "returnRequest_by_receiptId__response.json"))
    assert result.unmapped == []
    assert _facts(result) == [("return.requested", "500004398", None, "2016-03-25T13:05:30+09:00")]
    assert result.events[0]["data"]["receipt_status"] == "RELEASE_STOP_UNCHECKED"


def test_exchanges(shared_data: Path) -> None:
    result = map_payload(_load(shared_data, "exchangeRequests_list__response.json"))
    assert result.unmapped == []
    assert _facts(result) == [
        ("exchange.requested", "11000013144262", None, "2018-03-05T10:54:41+09:00"),
        ("exchange.requested", "3000013258427", None, "2018-03-08T16:42:11+09:00"),
    ]
    data = result.events[0]["data"]
    assert data["reason"] == "DIFFERENTOPT" and data["detail"] == "베이지색 주문했는데 브라운이 왔습니다"
    assert data["items"][0]["sku"] == "3476137875" and data["items"][0]["shipment_id"] == "519998364"
    assert result.events[1]["data"]["reason"] == "COMPOMISS"


def test_cancels_need_what_the_answer_lacks(shared_data: Path) -> None:
    instruct = _load(shared_data, "instruct_cancel__response.json")
    alone = map_payload(instruct)
    assert alone.events == [] and alone.unmapped == ["instruct cancel 44698107: no time (pass occurred_at)"]
    timed = map_payload(instruct, occurred_at="2019-01-02T10:00:00+09:00")
    # Coupang could not cancel 3145181064 ("PARTIAL"): that item stays in the order, so the order is not
    # cancelled; the two cancelled items are recorded as a partial cancel.
    partial = ("x-order.partially_cancelled", "2000006593044", None, "2019-01-02T10:00:00+09:00")
    assert _facts(timed) == [partial]
    assert timed.events[0]["data"] == {
        "reason": "STOP_SHIPMENT",
        "receipt_id": "44698107",
        "vendor_item_ids": ["3145181065", "3145181067"],
        "failed_vendor_item_ids": ["3145181064"],
        "partial": True,
        "items": [
            {"sku": "3145181065", "vendor_item_id": "3145181065"},
            {"sku": "3145181067", "vendor_item_id": "3145181067"},
        ],
    }
    refund = _load(shared_data, "payment_complete_cancel_refund__response.json")
    assert map_payload(refund).events == []
    assert "no orderId" in map_payload(refund).unmapped[0]
    known = map_payload(refund, order_id="28000005778875", occurred_at="2019-01-02T10:00:00+09:00")
    assert _facts(known) == [("order.cancelled", "28000005778875", None, "2019-01-02T10:00:00+09:00")]
    assert known.events[0]["event_id"] == "coupang:refund:1234"


COMMAND_ANSWERS = [
    "acknowledgement_product_preparation__response.json",
    "already_shipped__response.json",
    "delivery_complete__response.json",
    "exchange_invoice_upload__response.json",
    "exchange_receive_confirmation__response.js-literal.txt",
    "exchange_reject__response.json",
    "invoice_update__response.json",
    "invoice_upload__response.json",
    "return_approval__response.json",
    "return_pickup_invoice_register__response.json",
    "return_receive_confirmation__response.json",
    "stop_shipping_complete__response.json",
]


@pytest.mark.parametrize("name", COMMAND_ANSWERS)
def test_answers_to_our_own_commands_carry_no_event(shared_data: Path, name: str) -> None:
    result = map_payload(_load(shared_data, name))
    assert result.events == []
    assert len(result.unmapped) == 1 and "command answer" in result.unmapped[0]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("delivery_history__response.json", "no order id"),
        ("return_withdraw_by_ids__response.json", "withdrawn return"),
        ("return_withdraw_list_per_day__response.json", "withdrawn return"),
        ("return_shipping_center_by_code__response.json", "seller configuration"),
    ],
)
def test_answers_without_a_canonical_fact(shared_data: Path, name: str, why: str) -> None:
    result = map_payload(_load(shared_data, name))
    assert result.events == [] and why in result.unmapped[0]


def test_every_response_file_is_covered(shared_data: Path) -> None:
    folder = shared_data / "korean_commerce_payloads"
    names = {p.name[len(PREFIX) :] for p in folder.glob(f"{PREFIX}*response*")}
    covered = set(COMMAND_ANSWERS) | {
        "ordersheets_list_per_minute__response.json",
        "returnRequests_list_per_minute__response.json",
        "returnRequests_list_per_day__response.json",
        "returnRequest_by_receiptId__response.json",
        "exchangeRequests_list__response.json",
        "instruct_cancel__response.json",
        "payment_complete_cancel_refund__response.json",
        "delivery_history__response.json",
        "return_withdraw_by_ids__response.json",
        "return_withdraw_list_per_day__response.json",
        "return_shipping_center_by_code__response.json",
    }
    assert names == covered


def _sheet(status: str, **extra: Any) -> dict[str, Any]:
    sheet: dict[str, Any] = {
        "shipmentBoxId": 1001,
        "orderId": 77,
        "orderedAt": "2026-12-01T10:00:00",
        "paidAt": "2026-12-01T10:00:05",
        "status": status,
        "shippingPrice": 0,
        "orderItems": [
            {"vendorItemId": 5, "shippingCount": 2, "orderPrice": 2000, "estimatedShippingDate": "2026-12-02"}
        ],
    }
    sheet.update(extra)
    return sheet


def test_unknown_codes_quarantine_by_name_and_ids_are_stable() -> None:
    result = map_payload({"code": 200, "data": [_sheet("TELEPORTED")]})
    assert [e["type"] for e in result.events] == ["order.created", "order.paid"]
    assert result.unmapped == ["ordersheet 77/1001: unknown status 'TELEPORTED'"]
    odd = map_payload(
        {"code": 200, "data": [_sheet("DEPARTURE", deliveryCompanyCode="PIGEON", invoiceNumber="9")]}
    )
    assert "unknown delivery company 'PIGEON'" in odd.unmapped[0]
    assert map_payload({"data": [{"mystery": 1}]}).unmapped == ["unknown Coupang list of ['mystery']"]
    assert map_payload(
        {
            "data": [
                {
                    "receiptId": 1,
                    "returnItems": [],
                    "orderId": 2,
                    "createdAt": "2026-12-01T10:00:00",
                    "receiptType": "WHAT",
                }
            ]
        }
    ).unmapped == ["return receipt 1: unknown receiptType 'WHAT'"]
    again = map_payload({"code": 200, "data": [_sheet("TELEPORTED")]})
    assert [e["event_id"] for e in again.events] == [e["event_id"] for e in result.events]
    junks: list[Any] = [
        None,
        3,
        [],
        "",
        b"\xff",
        {"data": None},
        {"data": [None, 5]},
        {"data": [_sheet("ACCEPT", orderItems=7)]},
    ]
    for junk in junks:
        map_payload(junk)  # never raises


def test_departure_with_code_and_several_boxes_of_one_order() -> None:
    second = _sheet(
        "DEPARTURE",
        shipmentBoxId=1002,
        deliveryCompanyCode="HANJIN",
        invoiceNumber="4300",
        orderItems=[{"vendorItemId": 6, "shippingCount": 1, "orderPrice": 500}],
    )
    result = map_payload({"data": [_sheet("INSTRUCT"), second]})
    assert result.unmapped == []
    types = [(e["type"], e["shipment_id"]) for e in result.events]
    assert types == [
        ("order.created", None),
        ("order.paid", None),
        ("shipment.waybill_created", "1002"),
        ("shipment.handed_over", "1002"),
    ]
    market = result.events[0]["data"]["marketplace"]
    assert market["shipment_box_ids"] == ["1001", "1002"] and market["vendor_item_ids"] == ["5", "6"]
    assert result.events[0]["data"]["total"] == 2500.0
    assert result.events[2]["data"] == {"carrier": "hanjin", "tracking_no": "4300"}


def test_registered_for_replay() -> None:
    connector = get_connector("coupang")
    assert connector.source == "coupang" and connector.write_back is not None
    assert connector.map_payload({"data": [_sheet("ACCEPT")]}).events[0]["order_id"] == "77"
