"""Naver Commerce API: the published bcrypt vector; the mapper over every naver_commerce__ file, by hand."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.naver.auth import _canonical_salt, client_secret_sign
from deliveryhub.adapters.connectors.naver.mapper import map_changes, map_details, map_payload
from deliveryhub.contracts.events import parse_event

FOLDER = "korean_commerce_payloads"


def load(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / FOLDER / f"naver_commerce__{name}").read_text(encoding="utf-8"))


def test_bcrypt_signature_reproduces_the_published_vector(shared_data: Path) -> None:
    doc = (shared_data / FOLDER / "naver_commerce__auth_bcrypt_signature_and_GW_AUTHN.md").read_text()
    expected = "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy"
    assert expected in doc  # the vector printed by the Java, Python and Node examples
    sign = client_secret_sign("aaaabbbbcccc", "$2a$10$abcdefghijklmnopqrstuv", 1643961623299)
    assert sign == expected


def test_salt_keeps_canonical_secrets_and_clears_only_unused_bits() -> None:
    assert _canonical_salt("$2a$10$abcdefghijklmnopqrstuu") == b"$2a$10$abcdefghijklmnopqrstuu"
    assert _canonical_salt("$2a$10$abcdefghijklmnopqrstuv") == b"$2a$10$abcdefghijklmnopqrstuu"


def test_registered_as_a_shop_with_a_write_back() -> None:
    naver = get_connector("naver")
    assert (naver.kind, naver.source) == ("shop", "naver")
    assert naver.write_back is not None


def summary(result: Any) -> list[tuple[str, str, str | None]]:
    for event in result.events:
        parse_event(event)  # every event is a valid canonical event
    return [(e["type"], e["order_id"], e["occurred_at"]) for e in result.events]


def test_last_changed_statuses_three_items(shared_data: Path) -> None:
    result = map_payload(load(shared_data, "last_changed_statuses__response_3items.json"))
    # 1: waiting for a bank transfer (nothing happened yet); 2: a cancel being processed (not done yet);
    # 3: paid -> order.paid at its lastChangedDate.
    assert summary(result) == [("order.paid", "2022051120594131", "2022-05-11T22:05:27+09:00")]
    assert result.events[0]["source"] == "naver"
    assert result.unmapped == []


@pytest.mark.parametrize(
    "name",
    [
        "product_orders_query__response_auto_from_schema.json",
        "product_orders_conditional_get__response_auto_from_schema.json",
    ],
)
def test_schema_placeholder_details_quarantine_the_placeholder_status(shared_data: Path, name: str) -> None:
    result = map_payload(load(shared_data, name))
    assert result.events == []
    assert result.unmapped == ["naver product order string: unknown productOrderStatus 'string'"]


NOT_ORDER_FACTS = {
    "oauth2_token__response_auto_from_schema.json": "an OAuth token response",
    "dispatch__response_auto_from_schema.json": "an action result (success/fail product order ids)",
    "claim_action__response_auto_from_schema.json": "an action result (success/fail product order ids)",
    "confirm__response_auto_from_schema.json": "an action result (success/fail product order infos)",
    "gateway_error_invalid_input__example.json": "a gateway error body",
    "dispatch__request_multi.json": "a dispatch (발송처리) request body",
    "product_orders_query__request_from_schema.json": "a product-order query request body",
    "confirm__request_from_schema.json": "a product-order query request body",
}


@pytest.mark.parametrize("name", sorted(NOT_ORDER_FACTS))
def test_responses_without_order_facts_map_to_nothing_with_the_reason(shared_data: Path, name: str) -> None:
    result = map_payload(load(shared_data, name))
    assert result.events == []
    assert result.unmapped == [f"naver: {NOT_ORDER_FACTS[name]} carries no order facts (nothing to map)"]


def test_error_body_maps_to_nothing(shared_data: Path) -> None:
    result = map_payload(load(shared_data, "error__response_auto_from_schema.json"))
    assert result.events == []
    assert result.unmapped == ["naver: an error body (string) carries no order facts"]


def test_every_naver_file_maps_without_raising(shared_data: Path) -> None:
    files = sorted((shared_data / FOLDER).glob("naver_commerce__*.json"))
    assert len(files) >= 20
    for path in files:
        result = map_payload(json.loads(path.read_text(encoding="utf-8")))
        assert result.events or result.unmapped, path.name
        assert not any("mapper error" in u for u in result.unmapped), (path.name, result.unmapped)


# -------------------------------------------------------------- realistic details (built here, by hand)


def detail(po_id: str, status: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order": {
            "orderId": "2024060112345678",
            "orderDate": "2024-06-01T10:00:00.000+09:00",
            "paymentDate": "2024-06-01T10:01:00.000+09:00",
            "paymentMeans": "신용카드",
            "ordererName": "김민지",
            "ordererTel": "010-1234-5678",
            "ordererNo": "100200300",
        },
        "productOrder": {
            "productOrderId": po_id,
            "productOrderStatus": status,
            "sellerProductCode": f"SKU-{po_id[-1]}",
            "quantity": 2,
            "unitPrice": 15000,
            "totalPaymentAmount": 30000,
            "shippingAddress": {
                "zipCode": "06236",
                "baseAddress": "서울특별시 강남구 테헤란로 152",
                "detailedAddress": "12층",
                "name": "김민지",
                "tel1": "010-1234-5678",
            },
        },
    }
    for key, value in extra.items():
        if key == "productOrder":
            base["productOrder"].update(value)
        else:
            base[key] = value
    return base


def test_two_product_orders_make_one_paid_order_with_both_items_and_ids() -> None:
    result = map_details([detail("2024060100000001", "PAYED"), detail("2024060100000002", "PAYED")])
    assert summary(result) == [
        ("order.created", "2024060112345678", "2024-06-01T10:00:00+09:00"),
        ("order.paid", "2024060112345678", "2024-06-01T10:01:00+09:00"),
    ]
    created = result.events[0]["data"]
    assert [i["sku"] for i in created["items"]] == ["SKU-1", "SKU-2"]
    assert created["total"] == 60000
    assert created["address"] == {"zip": "06236", "line1": "서울특별시 강남구 테헤란로 152", "line2": "12층"}
    assert created["customer"]["name"] == "김민지"
    assert created["marketplace"] == {
        "source": "naver",
        "order_id": "2024060112345678",
        "product_order_ids": ["2024060100000001", "2024060100000002"],
    }
    assert result.events[1]["data"] == {"amount": 60000, "method": "신용카드"}
    again = map_details([detail("2024060100000001", "PAYED"), detail("2024060100000002", "PAYED")])
    assert [e["event_id"] for e in again.events] == [e["event_id"] for e in result.events]


def test_payment_waiting_is_an_order_without_payment() -> None:
    result = map_details([detail("2024060100000001", "PAYMENT_WAITING")])
    assert [t for t, _, _ in summary(result)] == ["order.created"]


def test_dispatch_and_delivery_become_waybill_handover_and_delivered() -> None:
    delivery = {
        "deliveryCompany": "CJGLS",
        "trackingNumber": "640012345678",
        "deliveryMethod": "DELIVERY",
        "deliveryStatus": "DELIVERY_COMPLETION",
        "sendDate": "2024-06-02T09:00:00.000+09:00",
        "pickupDate": "2024-06-02T15:00:00.000+09:00",
        "deliveredDate": "2024-06-03T13:00:00.000+09:00",
    }
    result = map_details([detail("2024060100000001", "DELIVERED", delivery=delivery)])
    assert summary(result)[2:] == [
        ("shipment.waybill_created", "2024060112345678", "2024-06-02T09:00:00+09:00"),
        ("shipment.handed_over", "2024060112345678", "2024-06-02T15:00:00+09:00"),
        ("shipment.delivered", "2024060112345678", "2024-06-03T13:00:00+09:00"),
    ]
    assert result.events[2]["data"] == {"carrier": "cj", "tracking_no": "640012345678"}
    assert result.events[2]["shipment_id"] == "640012345678"


def test_cancel_of_every_product_order_cancels_the_order_but_one_of_two_does_not() -> None:
    cancel = {
        "claimStatus": "CANCEL_DONE",
        "cancelReason": "INTENT_CHANGED",
        "claimRequestDate": "2024-06-01T11:00:00.000+09:00",
        "cancelCompletedDate": "2024-06-01T11:05:00.000+09:00",
    }
    claim = {"claimType": "CANCEL", "claimStatus": "CANCEL_DONE"}
    one = detail("2024060100000001", "CANCELED", cancel=cancel, productOrder=claim)
    result = map_details([one])
    assert summary(result)[-1] == ("order.cancelled", "2024060112345678", "2024-06-01T11:05:00+09:00")
    assert result.events[-1]["data"] == {"reason": "INTENT_CHANGED"}
    partial = map_details([copy.deepcopy(one), detail("2024060100000002", "PAYED")])
    assert "order.cancelled" not in [e["type"] for e in partial.events]


def test_return_and_exchange_claims() -> None:
    ret = {
        "claimStatus": "COLLECT_DONE",
        "returnReason": "BROKEN",
        "returnDetailedReason": "상자가 찌그러졌어요",
        "requestQuantity": 1,
        "claimRequestDate": "2024-06-05T10:00:00.000+09:00",
        "collectCompletedDate": "2024-06-06T10:00:00.000+09:00",
    }
    exchange = {
        "claimStatus": "EXCHANGE_REQUEST",
        "exchangeReason": "COLOR_AND_SIZE",
        "claimRequestDate": "2024-06-05T11:00:00.000+09:00",
    }
    result = map_details(
        [
            detail("2024060100000001", "DELIVERED", productOrder={"claimType": "RETURN"}, **{"return": ret}),
            detail(
                "2024060100000002", "DELIVERED", productOrder={"claimType": "EXCHANGE"}, exchange=exchange
            ),
        ]
    )
    kinds = [(t, at) for t, _, at in summary(result)]
    assert ("return.requested", "2024-06-05T10:00:00+09:00") in kinds
    assert ("return.received", "2024-06-06T10:00:00+09:00") in kinds
    assert ("exchange.requested", "2024-06-05T11:00:00+09:00") in kinds
    requested = next(e for e in result.events if e["type"] == "return.requested")
    assert requested["data"]["items"] == [{"sku": "SKU-1", "qty": 1, "price": 15000.0}]
    assert requested["data"]["reason"] == "BROKEN / 상자가 찌그러졌어요"


def test_address_change_flagged_by_the_status_item() -> None:
    change = {
        "orderId": "2024060112345678",
        "productOrderId": "2024060100000001",
        "productOrderStatus": "PAYED",
        "lastChangedType": "DELIVERY_ADDRESS_CHANGED",
        "lastChangedDate": "2024-06-01T12:00:00.000+09:00",
        "receiverAddressChanged": True,
    }
    result = map_details([detail("2024060100000001", "PAYED")], [change])
    changed = [e for e in result.events if e["type"] == "order.address_changed"]
    assert len(changed) == 1 and changed[0]["occurred_at"] == "2024-06-01T12:00:00+09:00"
    assert changed[0]["data"]["address"]["zip"] == "06236"


def test_unknown_codes_are_quarantined_by_name_never_raised() -> None:
    result = map_details([detail("2024060100000001", "TELEPORTED")])
    assert result.events == []
    assert result.unmapped == [
        "naver product order 2024060100000001: unknown productOrderStatus 'TELEPORTED'"
    ]
    odd = map_details(
        [
            detail(
                "2024060100000001",
                "DELIVERING",
                delivery={
                    "deliveryCompany": "MARS",
                    "trackingNumber": "1",
                    "sendDate": "2024-06-02T09:00:00+09:00",
                },
            )
        ]
    )
    assert "naver order 2024060112345678: unknown deliveryCompany 'MARS'" in odd.unmapped
    changes = map_changes(
        [{"orderId": "1", "productOrderId": "2", "productOrderStatus": "PAYED", "lastChangedType": "WARP"}]
    )
    assert changes.unmapped == ["naver product order 2: unknown lastChangedType 'WARP'"]
    for junk in (None, 3, "x", [], [None], {"data": None}, {"data": [1, "a", {"order": 5}]}):
        map_payload(junk)  # never raises
