"""Cancels of some items only, and exchange re-deliveries, from Coupang Wing and Naver Commerce payloads.

Hand-written expectations per payload: a buyer's cancel of the whole order is ``order.cancelled {reason}``;
a cancel that leaves items of the order open is ``x-order.partially_cancelled`` (the order stays open); the
replacement parcel of an exchange is ``exchange.reshipped {carrier, tracking_no}`` and its delivery
``exchange.completed``. Every event passes the canonical envelope."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.coupang.mapper import map_payload as coupang
from deliveryhub.adapters.connectors.naver.mapper import map_changes, map_details
from deliveryhub.adapters.connectors.naver.mapper import map_payload as naver
from deliveryhub.contracts.events import Envelope

PARTIAL = "x-order.partially_cancelled"
KOREAN = "korean_commerce_payloads"


def _facts(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    for event in events:
        Envelope.model_validate(event)  # every mapped event is a valid canonical event
    return [(e["type"], e["event_id"], e["order_id"], e["occurred_at"]) for e in events]


def _cancel_receipt(receipt_id: int, order_id: int, lines: list[tuple[int, int, int, int]]) -> dict[str, Any]:
    """One row of GET …/returnRequests?cancelType=CANCEL (receiptType CANCEL), lines as
    (vendorItemId, shipmentBoxId, purchaseCount, cancelCount)."""
    return {
        "receiptId": receipt_id,
        "orderId": order_id,
        "paymentId": 9000000001,
        "receiptType": "CANCEL",
        "receiptStatus": "RETURNS_COMPLETED",
        "createdAt": "2026-11-02T09:15:00",
        "modifiedAt": "2026-11-02T09:15:00",
        "cancelReasonCategory1": "고객변심",
        "cancelReasonCategory2": "단순변심(사유없음)",
        "cancelReason": "잘못 주문했어요",
        "cancelCountSum": sum(c for *_, c in lines),
        "returnDeliveryType": "연동택배",
        "releaseStopStatus": "비대상",
        "faultByType": "CUSTOMER",
        "reasonCode": "CHANGEMIND",
        "reasonCodeText": "필요 없어짐 (단순 변심)",
        "returnItems": [
            {
                "vendorItemId": item,
                "vendorItemName": f"상품 {item}",
                "purchaseCount": purchased,
                "cancelCount": cancelled,
                "shipmentBoxId": box,
            }
            for item, box, purchased, cancelled in lines
        ],
    }


def _page(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"code": 200, "message": "OK", "data": list(rows), "nextToken": ""}


# ------------------------------------------------------------------------------------- Coupang cancels


def test_coupang_buyer_cancel_of_the_whole_order_cancels_it() -> None:
    result = coupang(_page(_cancel_receipt(61000001, 27000000000001, [(4100000001, 5100000001, 1, 1)])))
    assert result.unmapped == []
    assert _facts(result.events) == [
        ("order.cancelled", "coupang:cancel:61000001", "27000000000001", "2026-11-02T09:15:00+09:00")
    ]
    data = result.events[0]["data"]
    assert data["reason"] == "CHANGEMIND" and data["reason_text"] == "필요 없어짐 (단순 변심)"
    assert data["receipt_id"] == "61000001" and data["vendor_item_ids"] == ["4100000001"]


def test_coupang_cancel_of_part_of_a_quantity_keeps_the_order_open() -> None:
    result = coupang(_page(_cancel_receipt(61000002, 27000000000002, [(4100000002, 5100000002, 3, 1)])))
    assert _facts(result.events) == [
        (PARTIAL, "coupang:cancel:61000002", "27000000000002", "2026-11-02T09:15:00+09:00")
    ]
    data = result.events[0]["data"]
    assert data["reason"] == "CHANGEMIND"
    assert data["items"] == [
        {
            "sku": "4100000002",
            "qty": 1,
            "name": "상품 4100000002",
            "shipment_id": "5100000002",
            "vendor_item_id": "4100000002",
        }
    ]


def test_coupang_cancel_of_one_item_of_two_is_partial_then_the_rest_cancels_the_order() -> None:
    order = "27000000000003"
    open_lines = {order: {"4100000031": 1, "4100000032": 2}}  # the hub's order: two items, two boxes
    first = coupang(
        _page(_cancel_receipt(61000031, int(order), [(4100000031, 5100000031, 1, 1)])), open_lines=open_lines
    )
    assert [e["type"] for e in first.events] == [PARTIAL]
    assert open_lines == {order: {"4100000031": 0, "4100000032": 2}}
    second = coupang(
        _page(_cancel_receipt(61000032, int(order), [(4100000032, 5100000032, 2, 2)])), open_lines=open_lines
    )
    assert _facts(second.events) == [
        ("order.cancelled", "coupang:cancel:61000032", order, "2026-11-02T09:15:00+09:00")
    ]
    # Both receipts in one page: the first leaves an item open, the second closes the order.
    both = coupang(
        _page(
            _cancel_receipt(61000031, int(order), [(4100000031, 5100000031, 1, 1)]),
            _cancel_receipt(61000032, int(order), [(4100000032, 5100000032, 2, 2)]),
        ),
        open_lines={order: {"4100000031": 1, "4100000032": 2}},
    )
    assert [e["type"] for e in both.events] == [PARTIAL, "order.cancelled"]
    # Without the hub's knowledge the receipt alone decides: a full count of its one item cancels.
    alone = coupang(_page(_cancel_receipt(61000031, int(order), [(4100000031, 5100000031, 1, 1)])))
    assert [e["type"] for e in alone.events] == ["order.cancelled"]


def test_coupang_published_return_lists_stay_returns(shared_data: Path) -> None:
    for name in (
        "returnRequests_list_per_minute",
        "returnRequests_list_per_day",
        "returnRequest_by_receiptId",
    ):
        path = shared_data / KOREAN / f"coupang_wing__{name}__response.json"
        result = coupang(json.loads(path.read_text(encoding="utf-8")))
        assert result.events and {e["type"] for e in result.events} == {"return.requested"}, name


def test_coupang_instruct_cancel_with_failed_items_is_partial(shared_data: Path) -> None:
    path = shared_data / KOREAN / "coupang_wing__instruct_cancel__response.json"
    result = coupang(json.loads(path.read_text(encoding="utf-8")), occurred_at="2019-01-02T10:00:00+09:00")
    # code PARTIAL: 3145181064 could not be cancelled, so the order is not cancelled as a whole.
    assert _facts(result.events) == [
        (PARTIAL, "coupang:cancel:44698107", "2000006593044", "2019-01-02T10:00:00+09:00")
    ]
    assert [i["vendor_item_id"] for i in result.events[0]["data"]["items"]] == ["3145181065", "3145181067"]


# ------------------------------------------------------------------------------ Coupang exchange re-delivery


def _exchange(status: str, invoice: dict[str, Any]) -> dict[str, Any]:
    """One exchangeRequests row with the replacement parcel (deliveryInvoiceGroupDtos, as documented)."""
    return {
        "exchangeId": 100000184,
        "orderId": 4000000000198,
        "vendorId": "A00010028",
        "orderDeliveryStatusCode": "FINAL_DELIVERY",
        "exchangeStatus": status,
        "reasonCode": "DIFFERENTOPT",
        "reasonCodeText": "색상/ 사이즈가 기대와 다름",
        "createdAt": "2026-11-01T10:00:00",
        "modifiedAt": "2026-11-03T18:00:00",
        "exchangeItemDtoV1s": [
            {"orderItemId": 3000000018, "targetItemId": 3000000018, "quantity": 1, "originalShipmentBoxId": 1}
        ],
        "deliveryInvoiceGroupDtos": [
            {
                "shipmentBoxId": 197278440,
                "orderId": 4000000000198,
                "shippingDeliveryType": "EXCHANGE_DELIVERY",
                "deliveryInvoiceDtos": [
                    {
                        "invoiceNumber": None,
                        "statusCode": "ACCEPT",
                        "deliverCode": "NONE",
                        "invoiceVendorItemDtos": [{"vendorItemId": 3000000018, "quantity": 1}],
                    }
                    | invoice
                ],
            }
        ],
    }


def test_coupang_exchange_replacement_parcel_is_reshipped_then_completed() -> None:
    before = coupang(_page(_exchange("PROGRESS", {})))
    assert [e["type"] for e in before.events] == ["exchange.requested"]  # no invoice yet: nothing shipped
    sent = {
        "invoiceNumber": "650012345678",
        "deliverCode": "CJGLS",
        "statusCode": "DELIVERING",
        "invoiceNumberUploadDate": "2026-11-02T14:00:00",
    }
    shipped = coupang(_page(_exchange("PROGRESS", sent)))
    assert _facts(shipped.events)[1:] == [
        (
            "exchange.reshipped",
            "coupang:reshipped:100000184:650012345678",
            "4000000000198",
            "2026-11-02T14:00:00+09:00",
        )
    ]
    data = shipped.events[1]["data"]
    assert data["carrier"] == "cj" and data["tracking_no"] == "650012345678"
    assert data["exchange_id"] == "100000184" and data["shipment_box_id"] == "197278440"
    delivered = {**sent, "statusCode": "FINAL_DELIVERY", "deliveredDate": "2026-11-03T11:20:00"}
    done = coupang(_page(_exchange("SUCCESS", delivered)))
    assert _facts(done.events)[1:] == [
        (
            "exchange.reshipped",
            "coupang:reshipped:100000184:650012345678",
            "4000000000198",
            "2026-11-02T14:00:00+09:00",
        ),
        (
            "exchange.completed",
            "coupang:exchange_done:100000184",
            "4000000000198",
            "2026-11-03T11:20:00+09:00",
        ),
    ]
    # Wing's older answers give times as epoch milliseconds.
    millis = coupang(_page(_exchange("PROGRESS", {**sent, "invoiceNumberUploadDate": 1793595600000})))
    assert millis.events[1]["occurred_at"] == "2026-11-02T14:00:00+09:00"


def test_coupang_exchange_invoice_upload_body_needs_the_order_and_time(shared_data: Path) -> None:
    path = shared_data / KOREAN / "coupang_wing__exchange_invoice_upload__request.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    alone = coupang(body)
    assert alone.events == [] and "pass order_id and occurred_at" in alone.unmapped[0]
    known = coupang(body, order_id="4000000000170", occurred_at="2026-11-02T14:00:00+09:00")
    assert known.unmapped == []
    assert [
        (e["type"], e["event_id"], e["data"]["carrier"], e["data"]["tracking_no"]) for e in known.events
    ] == [
        ("exchange.reshipped", "coupang:reshipped:100000170:123456431", "cj", "123456431"),
        ("exchange.reshipped", "coupang:reshipped:100000170:123456432", "epost", "123456432"),
    ]
    answer = shared_data / KOREAN / "coupang_wing__exchange_invoice_upload__response.json"
    assert coupang(json.loads(answer.read_text(encoding="utf-8"))).events == []


# --------------------------------------------------------------------------------------- Naver cancels


def _detail(po_id: str, status: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order": {
            "orderId": "2026110212345678",
            "orderDate": "2026-11-02T10:00:00.000+09:00",
            "paymentDate": "2026-11-02T10:01:00.000+09:00",
            "ordererName": "박서연",
        },
        "productOrder": {
            "productOrderId": po_id,
            "productOrderStatus": status,
            "sellerProductCode": f"SKU-{po_id[-1]}",
            "quantity": 1,
            "unitPrice": 12000,
            "totalPaymentAmount": 12000,
        },
    }
    for key, value in extra.items():
        base[key] = {**base.get(key, {}), **value}
    return base


CANCEL = {
    "claimStatus": "CANCEL_DONE",
    "cancelReason": "INTENT_CHANGED",
    "cancelDetailedReason": "다른 색으로 다시 주문",
    "claimRequestDate": "2026-11-02T11:00:00.000+09:00",
    "cancelCompletedDate": "2026-11-02T11:03:00.000+09:00",
    "requestQuantity": 1,
}
CLAIM = {"claimType": "CANCEL", "claimStatus": "CANCEL_DONE"}


def test_naver_cancel_of_one_product_order_of_two_is_partial() -> None:
    cancelled = _detail("2026110200000001", "CANCELED", cancel=CANCEL, productOrder=CLAIM)
    result = map_details([cancelled, _detail("2026110200000002", "PAYED")])
    types = [e["type"] for e in result.events]
    assert "order.cancelled" not in types and types.count(PARTIAL) == 1
    partial = next(e for e in result.events if e["type"] == PARTIAL)
    _facts([partial])
    assert partial["order_id"] == "2026110212345678"
    assert partial["occurred_at"] == "2026-11-02T11:03:00+09:00"
    assert partial["data"] == {
        "reason": "INTENT_CHANGED / 다른 색으로 다시 주문",
        "items": [{"sku": "SKU-1", "qty": 1, "price": 12000.0}],
        "product_order_id": "2026110200000001",
    }
    # When the other one is cancelled too (the poller reads both details), the order is cancelled, once.
    other = _detail("2026110200000002", "CANCELED", cancel=CANCEL, productOrder=CLAIM)
    full = map_details([copy.deepcopy(cancelled), other])
    assert [e["type"] for e in full.events if "cancel" in e["type"]] == ["order.cancelled"]
    assert full.events[-1]["data"] == {"reason": "INTENT_CHANGED"}


def test_naver_last_changed_statuses_with_one_cancelled_product_order_of_two() -> None:
    changes = [
        {
            "orderId": "2026110299990001",
            "productOrderId": "2026110299990011",
            "productOrderStatus": "CANCELED",
            "claimType": "CANCEL",
            "claimStatus": "CANCEL_DONE",
            "lastChangedDate": "2026-11-02T12:00:00.000+09:00",
            "lastChangedType": "CLAIM_COMPLETED",
        },
        {
            "orderId": "2026110299990001",
            "productOrderId": "2026110299990012",
            "productOrderStatus": "PAYED",
            "lastChangedDate": "2026-11-02T12:00:01.000+09:00",
            "lastChangedType": "PAYED",
        },
    ]
    result = map_changes(changes)
    assert [(e["type"], e["data"].get("product_order_id")) for e in result.events] == [
        ("order.paid", None),
        (PARTIAL, "2026110299990011"),
    ]
    _facts(result.events)
    both = map_changes([changes[0], {**changes[1], "productOrderStatus": "CANCELED", "claimType": "CANCEL"}])
    assert [e["type"] for e in both.events if "cancel" in e["type"]] == ["order.cancelled"]


def test_naver_published_last_changed_example_cancels_nothing(shared_data: Path) -> None:
    path = shared_data / KOREAN / "naver_commerce__last_changed_statuses__response_3items.json"
    result = naver(json.loads(path.read_text(encoding="utf-8")))
    # The CANCELING item is a cancel request, not a done cancel: no cancel event of either kind.
    assert not [e for e in result.events if "cancel" in e["type"]]


# ------------------------------------------------------------------------------ Naver exchange re-delivery


def _exchange_detail(**claim: Any) -> dict[str, Any]:
    exchange = {
        "claimStatus": "EXCHANGE_REDELIVERING",
        "claimRequestDate": "2026-11-01T09:00:00.000+09:00",
        "exchangeReason": "WRONG_OPTION",
        "collectCompletedDate": "2026-11-02T16:00:00.000+09:00",
        "reDeliveryMethod": "DELIVERY",
        "reDeliveryCompany": "CJGLS",
        "reDeliveryTrackingNumber": "651112223333",
        "reDeliveryStatus": "DELIVERING",
        "reDeliveryOperationDate": "2026-11-03T10:00:00.000+09:00",
        **claim,
    }
    claim_type = {"claimType": "EXCHANGE", "claimStatus": exchange["claimStatus"]}
    return _detail("2026110200000009", "DELIVERED", exchange=exchange, productOrder=claim_type)


def test_naver_exchange_redelivery_is_reshipped_then_completed() -> None:
    result = map_details([_exchange_detail()])
    assert result.unmapped == []
    shipped = [e for e in result.events if e["type"].startswith("exchange.")]
    _facts(shipped)
    assert [(e["type"], e["occurred_at"]) for e in shipped] == [
        ("exchange.requested", "2026-11-01T09:00:00+09:00"),
        ("exchange.reshipped", "2026-11-03T10:00:00+09:00"),
    ]
    assert shipped[1]["data"] == {
        "carrier": "cj",
        "tracking_no": "651112223333",
        "product_order_id": "2026110200000009",
    }
    again = map_details([_exchange_detail(reDeliveryStatus="DELIVERY_COMPLETION")])
    kinds = [(e["type"], e["event_id"]) for e in again.events if e["type"].startswith("exchange.")]
    assert [k for k, _ in kinds] == ["exchange.requested", "exchange.reshipped", "exchange.completed"]
    assert kinds[1][1] == shipped[1]["event_id"]  # the same parcel is the same event: stable id
    done = map_details([_exchange_detail(claimStatus="EXCHANGE_DONE")])
    completed = [e for e in done.events if e["type"] == "exchange.completed"]
    assert [e["occurred_at"] for e in completed] == ["2026-11-03T10:00:00+09:00"]


def test_naver_redelivery_dispatch_body(shared_data: Path) -> None:
    path = shared_data / KOREAN / "naver_commerce__claim_exchange_redelivery_dispatch__request.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    alone = naver(body)
    assert alone.events == [] and "pass order_id and occurred_at" in alone.unmapped[0]
    mine = {**body, "reDeliveryCompany": "HANJIN"}
    known = naver(mine, order_id="2026110212345678", occurred_at="2026-11-03T10:00:00+09:00")
    assert known.unmapped == []
    assert [(e["type"], e["data"]["carrier"], e["data"]["tracking_no"]) for e in known.events] == [
        ("exchange.reshipped", "hanjin", "1111111115")
    ]
    # The published example's company is a schema placeholder ("string"): reported by name, still mapped.
    placeholder = naver(body, order_id="2026110212345678", occurred_at="2026-11-03T10:00:00+09:00")
    assert placeholder.unmapped == [
        "naver product order 2026110212345678: unknown reDeliveryCompany 'string'"
    ]
