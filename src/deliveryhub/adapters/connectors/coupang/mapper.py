"""Coupang Wing API answers -> canonical events (pure; never raises: the rest goes to ``unmapped``).

    answer (by the shape of ``data``)       events (event_id)
    ordersheets (shipmentBoxId, orderItems) order.created per orderId, boxes = parcels (coupang:order:{id})
                                            order.paid when paidAt (coupang:paid:{id})
      status ACCEPT / INSTRUCT              nothing more (received / 상품준비중)
      status DEPARTURE                      shipment.waybill_created (coupang:waybill:{box}:{no})
                                            + shipment.handed_over (coupang:handed:{box})
      status DELIVERING                     ... + shipment.tracking in_transit (coupang:transit:{box})
      status FINAL_DELIVERY                 ... + shipment.delivered (coupang:delivered:{box})
    returnRequests (receiptId, returnItems) RETURN receipts: return.requested (coupang:return:{receiptId})
      receiptType CANCEL (cancelType=CANCEL) whole order: order.cancelled {reason} (coupang:cancel:{rid})
                                            some items: x-order.partially_cancelled (coupang:cancel:{rid})
    exchangeRequests (exchangeId)           exchange.requested (coupang:exchange:{exchangeId})
      deliveryInvoiceGroupDtos invoice      exchange.reshipped {carrier, tracking_no}
                                              (coupang:reshipped:{exchangeId}:{invoiceNumber})
      that invoice FINAL_DELIVERY / SUCCESS exchange.completed (coupang:exchange_done:{exchangeId})
    exchange invoice upload body (list)     exchange.reshipped when order_id and occurred_at are given
    instruct cancel (receiptMap)            order.cancelled, or x-order.partially_cancelled when Coupang
                                            names failedVendorItemIds (coupang:cancel:{receiptId})
    refund cancel (cancelIds)               order.cancelled when the order id is given (coupang:refund:{ids})

Partial cancels. EVENTS.md has one cancel fact, ``order.cancelled``, and it ends the whole order (side
state ``cancelled``). Coupang cancels per vendor item and count (a CANCEL receipt lists returnItems with
purchaseCount / cancelCount; an order may have several items and shipment boxes), so a receipt that leaves
anything of the order open must not cancel the order. Such a receipt becomes the custom event
``x-order.partially_cancelled`` {reason, items[{sku, qty, vendor_item_id, shipment_id}], receipt_id}
(stored, not interpreted, so the order keeps its stage); the Naver mapper emits the same type for a
cancelled product order of a multi-product order. A receipt is whole-order only when every listed item is
cancelled in full (cancelCount >= purchaseCount) and, when the caller knows the order's open lines
(``open_lines``: vendorItemId -> quantity still open, from the hub's own order, which the poller passes),
it covers every one of them; without that knowledge the receipt alone decides.

Write-back answers (acknowledgement, invoices, approvals ...) carry no new fact: no events, one note.
Coupang's times are KST wall clock. Personal data stays as Coupang sends it (already masked by Coupang).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.coupang import SOURCE
from deliveryhub.adapters.connectors.coupang.codes import hub_carrier
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339

KST = timezone(timedelta(hours=9), "KST")
STATUSES = ("ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
SHIPPED = ("DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
RETURN_TYPES = {"RETURN": "return", "반품": "return", "CANCEL": "cancel", "취소": "cancel"}
PARTIAL_CANCEL = "x-order.partially_cancelled"  # custom type (EVENTS.md allows x-…): see the docstring
OpenLines = dict[str, dict[str, int]]  # order id -> vendorItemId -> quantity still open


def _time(*candidates: object) -> str | None:
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 10**11:
            value = datetime.fromtimestamp(value / 1000, KST).isoformat()  # Wing's epoch milliseconds
        parsed = to_rfc3339(value, default_tz=KST)
        if parsed is not None:
            return parsed
    return None


def _event(
    kind: str,
    key: tuple[object, ...],
    type_: str,
    at: str,
    order_id: str,
    shipment_id: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    event_id = f"coupang:{kind}:" + ":".join(str(k) for k in key)
    if len(event_id) > 120:
        event_id = stable_id(f"coupang:{kind}", *key)
    return new_event(
        event_id=event_id,
        source=SOURCE,
        type=type_,
        occurred_at=at,
        order_id=order_id,
        shipment_id=shipment_id,
        data=data,
    )


def _amount(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = float(value)
    except ValueError:
        return None
    return amount if amount >= 0 else None


# ------------------------------------------------------------------------------------------ ordersheets


def _items(sheet: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for raw in as_list(sheet.get("orderItems")):
        item = as_dict(raw)
        vendor_item = as_str(item.get("vendorItemId"))
        if vendor_item is None:
            continue
        qty = item.get("shippingCount")
        items.append(
            {
                "sku": as_str(item.get("externalVendorSkuCode")) or vendor_item,
                "qty": qty if isinstance(qty, int) and not isinstance(qty, bool) and qty > 0 else 1,
                "price": _amount(
                    item.get("orderPrice") if item.get("orderPrice") is not None else item.get("salesPrice")
                ),
                "name": as_str(item.get("vendorItemName")) or as_str(item.get("sellerProductName")),
                "vendor_item_id": vendor_item,
                "shipment_id": as_str(sheet.get("shipmentBoxId")),
            }
        )
    return items


def _box(sheet: dict[str, Any]) -> dict[str, Any]:
    items = [as_dict(i) for i in as_list(sheet.get("orderItems"))]
    dates = sorted({d for d in (as_str(i.get("estimatedShippingDate")) for i in items) if d})
    return {
        "shipment_box_id": as_str(sheet.get("shipmentBoxId")),
        "vendor_item_ids": [v for v in (as_str(i.get("vendorItemId")) for i in items) if v],
        "estimated_shipping_date": dates[0] if dates else None,
        "status": as_str(sheet.get("status")),
    }


def _order(order_id: str, sheets: list[dict[str, Any]], result: MappingResult) -> None:
    first = sheets[0]
    at = _time(first.get("orderedAt"), first.get("paidAt"))
    if at is None:
        result.unmapped.append(f"ordersheet {order_id}: no orderedAt")
        return
    orderer, receiver = as_dict(first.get("orderer")), as_dict(first.get("receiver"))
    items = [i for s in sheets for i in _items(s)]
    boxes = [_box(s) for s in sheets]
    shipping = sum(_amount(s.get("shippingPrice")) or 0.0 for s in sheets)
    total = sum(i["price"] or 0.0 for i in items) + shipping  # orderPrice is the line total
    data: dict[str, Any] = {
        "customer": {
            "name": as_str(orderer.get("name")),
            "phone": as_str(orderer.get("safeNumber")) or as_str(orderer.get("ordererNumber")),
            "email": as_str(orderer.get("email")),
        },
        "recipient": {
            "name": as_str(receiver.get("name")),
            "phone": as_str(receiver.get("safeNumber")) or as_str(receiver.get("receiverNumber")),
        },
        "address": {
            "zip": as_str(receiver.get("postCode")),
            "line1": as_str(receiver.get("addr1")),
            "line2": as_str(receiver.get("addr2")),
        },
        "items": items,
        "total": round(total, 2),
        "channel": "coupang",
        "delivery_message": as_str(first.get("parcelPrintMessage")),
        "marketplace": {
            "source": SOURCE,
            "shipment_box_ids": [b["shipment_box_id"] for b in boxes if b["shipment_box_id"]],
            "vendor_item_ids": [v for b in boxes for v in b["vendor_item_ids"]],
            "boxes": boxes,
        },
    }
    result.events.append(_event("order", (order_id,), "order.created", at, order_id, None, data))
    paid = _time(first.get("paidAt"))
    if paid is not None:
        paid_data = {"amount": data["total"], "method": "coupang"}
        result.events.append(_event("paid", (order_id,), "order.paid", paid, order_id, None, paid_data))


def _shipment(order_id: str, sheet: dict[str, Any], result: MappingResult) -> None:
    status = as_str(sheet.get("status"))
    box = as_str(sheet.get("shipmentBoxId"))
    if status not in STATUSES:
        result.unmapped.append(f"ordersheet {order_id}/{box}: unknown status {status!r}")
        return
    if status not in SHIPPED or box is None:
        return
    code, name = sheet.get("deliveryCompanyCode"), sheet.get("deliveryCompanyName")
    carrier = hub_carrier(code, name)
    if carrier is None and (code or name):
        result.unmapped.append(f"ordersheet {order_id}/{box}: unknown delivery company {code or name!r}")
    carrier = carrier or "unknown"
    number = as_str(sheet.get("invoiceNumber"))
    items = [as_dict(i) for i in as_list(sheet.get("orderItems"))]
    uploaded = next(
        (as_str(i.get("invoiceNumberUploadDate")) for i in items if as_str(i.get("invoiceNumberUploadDate"))),
        None,
    )
    departed = _time(
        sheet.get("inTrasitDateTime"),
        sheet.get("inTransitDateTime"),
        uploaded,
        sheet.get("paidAt"),
        sheet.get("orderedAt"),
    )
    if departed is None:
        result.unmapped.append(f"ordersheet {order_id}/{box}: no time for {status}")
        return
    if number:
        waybill = {"carrier": carrier, "tracking_no": number}
        result.events.append(
            _event("waybill", (box, number), "shipment.waybill_created", departed, order_id, box, waybill)
        )
    handed = {"carrier": carrier, "raw_status": status}
    result.events.append(_event("handed", (box,), "shipment.handed_over", departed, order_id, box, handed))
    if status in ("DELIVERING", "FINAL_DELIVERY"):
        tracking = {
            "status": "in_transit",
            "raw_status": "배송중",
            "raw_code": "DELIVERING",
            "location": None,
            "message": None,
        }
        result.events.append(
            _event("transit", (box,), "shipment.tracking", departed, order_id, box, tracking)
        )
    if status == "FINAL_DELIVERY":
        delivered = _time(sheet.get("deliveredDate"))
        if delivered is None:
            result.unmapped.append(f"ordersheet {order_id}/{box}: FINAL_DELIVERY without deliveredDate")
            return
        result.events.append(
            _event("delivered", (box,), "shipment.delivered", delivered, order_id, box, {"proof": None})
        )


def _ordersheets(rows: list[Any], result: MappingResult) -> None:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for raw in rows:
        sheet = as_dict(raw)
        order_id = as_str(sheet.get("orderId"))
        if order_id is None:
            result.unmapped.append("ordersheet without orderId")
            continue
        grouped.setdefault(order_id, []).append(sheet)
    for order_id, sheets in grouped.items():
        _order(order_id, sheets, result)
        for sheet in sheets:
            _shipment(order_id, sheet, result)


# ------------------------------------------------------------------------------------ claims / cancels


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _whole_order(
    order_id: str, items: list[dict[str, Any]], open_lines: OpenLines | None, counts: list[tuple[int, int]]
) -> bool:
    """Whether a cancel of ``items`` ends the order (see the module docstring); updates ``open_lines``."""
    if any(cancelled < purchased for purchased, cancelled in counts):
        whole = False
    else:
        whole = True
    lines = (open_lines or {}).get(order_id)
    if lines is not None:
        for item in items:
            key = str(item.get("vendor_item_id") or item.get("sku"))
            if key in lines:
                lines[key] = max(0, lines[key] - int(item.get("qty") or 0))
        whole = whole and all(qty <= 0 for qty in lines.values())
    return whole


def _returns(rows: list[Any], result: MappingResult, open_lines: OpenLines | None) -> None:
    for raw in rows:
        receipt = as_dict(raw)
        order_id, receipt_id = as_str(receipt.get("orderId")), as_str(receipt.get("receiptId"))
        at = _time(receipt.get("createdAt"), receipt.get("modifiedAt"))
        kind = RETURN_TYPES.get(as_str(receipt.get("receiptType")) or "")
        if order_id is None or receipt_id is None or at is None:
            result.unmapped.append(f"return receipt {receipt_id}: no orderId, receiptId or createdAt")
            continue
        if kind is None:
            result.unmapped.append(
                f"return receipt {receipt_id}: unknown receiptType {receipt.get('receiptType')!r}"
            )
            continue
        reason = (
            as_str(receipt.get("reasonCode"))
            or as_str(receipt.get("cancelReasonCategory2"))
            or as_str(receipt.get("cancelReasonCategory1"))
            or "unknown"
        )
        raw_items = [as_dict(x) for x in as_list(receipt.get("returnItems"))]
        items = [
            {
                "sku": as_str(i.get("vendorItemId")),
                "qty": i.get("cancelCount") or i.get("purchaseCount") or 1,
                "name": as_str(i.get("vendorItemName")),
                "shipment_id": as_str(i.get("shipmentBoxId")),
            }
            for i in raw_items
            if as_str(i.get("vendorItemId"))
        ]
        data: dict[str, Any] = {
            "reason": reason,
            "reason_text": as_str(receipt.get("reasonCodeText")) or as_str(receipt.get("cancelReason")),
            "receipt_id": receipt_id,
            "receipt_status": as_str(receipt.get("receiptStatus")),
            "stop_shipment": as_str(receipt.get("receiptStatus")) == "RELEASE_STOP_UNCHECKED",  # 출고중지요청
            "fault_by": as_str(receipt.get("faultByType")),
        }
        if kind == "return":
            data["items"] = items
            result.events.append(
                _event("return", (receipt_id,), "return.requested", at, order_id, None, data)
            )
            continue
        counts = [
            (p, c)
            for p, c in ((_count(i.get("purchaseCount")), _count(i.get("cancelCount"))) for i in raw_items)
            if p is not None and c is not None
        ]
        lines = [{**i, "vendor_item_id": i["sku"]} for i in items]
        data["vendor_item_ids"] = [i["sku"] for i in items if i["sku"]]
        if _whole_order(order_id, lines, open_lines, counts):
            result.events.append(_event("cancel", (receipt_id,), "order.cancelled", at, order_id, None, data))
        else:
            data["items"] = lines
            result.events.append(_event("cancel", (receipt_id,), PARTIAL_CANCEL, at, order_id, None, data))


def _exchanges(rows: list[Any], result: MappingResult) -> None:
    for raw in rows:
        request = as_dict(raw)
        order_id, exchange_id = as_str(request.get("orderId")), as_str(request.get("exchangeId"))
        at = _time(request.get("createdAt"), request.get("modifiedAt"))
        if order_id is None or exchange_id is None or at is None:
            result.unmapped.append(f"exchange {exchange_id}: no orderId, exchangeId or createdAt")
            continue
        items = [
            {
                "sku": as_str(i.get("orderItemId")),
                "qty": i.get("quantity") or 1,
                "target_sku": as_str(i.get("targetItemId")),
                "name": as_str(i.get("targetItemName")),
                "shipment_id": as_str(i.get("originalShipmentBoxId")),
            }
            for i in (as_dict(x) for x in as_list(request.get("exchangeItemDtoV1s")))
            if as_str(i.get("orderItemId"))
        ]
        data = {
            "items": items,
            "reason": as_str(request.get("reasonCode")) or "unknown",
            "reason_text": as_str(request.get("reasonCodeText")),
            "detail": as_str(request.get("reasonEtcDetail")),
            "exchange_id": exchange_id,
            "exchange_status": as_str(request.get("exchangeStatus")),
            "fault_by": as_str(request.get("faultType")),
        }
        result.events.append(
            _event("exchange", (exchange_id,), "exchange.requested", at, order_id, None, data)
        )
        _redelivery(request, order_id, exchange_id, result)


def _redelivery(request: dict[str, Any], order_id: str, exchange_id: str, result: MappingResult) -> None:
    """The replacement parcel Wing lists under deliveryInvoiceGroupDtos[].deliveryInvoiceDtos[] (교환 재배송:
    invoiceNumber, deliverCode, statusCode, deliveredDate): exchange.reshipped once per invoice, and
    exchange.completed when that parcel is FINAL_DELIVERY or the exchange is SUCCESS (완료)."""
    done_at: str | None = None
    for group in (as_dict(g) for g in as_list(request.get("deliveryInvoiceGroupDtos"))):
        box = as_str(group.get("shipmentBoxId"))
        for invoice in (as_dict(i) for i in as_list(group.get("deliveryInvoiceDtos"))):
            number = as_str(invoice.get("invoiceNumber"))
            if not number:
                continue
            code = as_str(invoice.get("deliverCode"))
            carrier = hub_carrier(code)
            if carrier is None:
                result.unmapped.append(f"exchange {exchange_id}: unknown deliverCode {code!r}")
            at = _time(
                invoice.get("invoiceNumberUploadDate"),
                invoice.get("statusModifiedAt"),
                request.get("modifiedAt"),
                request.get("createdAt"),
            )
            if at is None:
                result.unmapped.append(f"exchange {exchange_id}: re-delivery invoice {number} without a time")
                continue
            data = {
                "carrier": carrier or "unknown",
                "tracking_no": number[:64],
                "exchange_id": exchange_id,
                "shipment_box_id": box,
                "raw_status": as_str(invoice.get("statusCode")),
            }
            result.events.append(
                _event("reshipped", (exchange_id, number), "exchange.reshipped", at, order_id, None, data)
            )
            if as_str(invoice.get("statusCode")) == "FINAL_DELIVERY":
                done_at = _time(invoice.get("deliveredDate"), invoice.get("statusModifiedAt")) or done_at
    if done_at is None and as_str(request.get("exchangeStatus")) == "SUCCESS":
        done_at = _time(request.get("modifiedAt"), request.get("createdAt"))
    if done_at is not None:
        data = {"exchange_id": exchange_id}
        result.events.append(
            _event("exchange_done", (exchange_id,), "exchange.completed", done_at, order_id, None, data)
        )


def _exchange_invoices(rows: list[Any], result: MappingResult, order_id: str | None, at: str | None) -> None:
    """교환 송장 업로드 body (POST …/exchangeRequests/{exchangeId}/invoices): it names no order and no time,
    so it maps only when the caller gives both (the hub's own upload); otherwise it is reported."""
    if order_id is None or at is None:
        result.unmapped.append(
            "exchange invoice upload body: no orderId or time in it (pass order_id and occurred_at)"
        )
        return
    for row in (as_dict(r) for r in rows):
        exchange_id, number = as_str(row.get("exchangeId")), as_str(row.get("invoiceNumber"))
        if exchange_id is None or not number:
            result.unmapped.append("exchange invoice upload row without exchangeId or invoiceNumber")
            continue
        code = as_str(row.get("goodsDeliveryCode"))
        carrier = hub_carrier(code)
        if carrier is None:
            result.unmapped.append(f"exchange {exchange_id}: unknown goodsDeliveryCode {code!r}")
        data = {
            "carrier": carrier or "unknown",
            "tracking_no": number[:64],
            "exchange_id": exchange_id,
            "shipment_box_id": as_str(row.get("shipmentBoxId")),
        }
        result.events.append(
            _event("reshipped", (exchange_id, number), "exchange.reshipped", at, order_id, None, data)
        )


def _instruct_cancel(data: dict[str, Any], result: MappingResult, at: str | None) -> None:
    order_id, receipt = as_str(data.get("orderId")), as_dict(data.get("receiptMap"))
    receipt_id = as_str(receipt.get("receiptId"))
    if order_id is None or receipt_id is None:
        result.unmapped.append("instruct cancel: no orderId or receiptId")
        return
    if at is None:
        result.unmapped.append(f"instruct cancel {receipt_id}: no time (pass occurred_at)")
        return
    body = {
        "reason": as_str(receipt.get("receiptType")) or "cancel",
        "receipt_id": receipt_id,
        "vendor_item_ids": [as_str(v) for v in as_list(receipt.get("vendorItemIds"))],
        "failed_vendor_item_ids": [as_str(v) for v in as_list(data.get("failedVendorItemIds"))],
        "partial": bool(as_list(data.get("failedVendorItemIds"))),
    }
    # Items Coupang could not cancel stay in the order: then only the named items are cancelled.
    type_ = PARTIAL_CANCEL if body["partial"] else "order.cancelled"
    if body["partial"]:
        named = [as_str(v) for v in as_list(receipt.get("vendorItemIds"))]
        body["items"] = [{"sku": v, "vendor_item_id": v} for v in named if v]
    result.events.append(_event("cancel", (receipt_id,), type_, at, order_id, None, body))


def _refund_cancel(data: dict[str, Any], result: MappingResult, order_id: str | None, at: str | None) -> None:
    cancel_ids = [as_str(c) for c in as_list(data.get("cancelIds"))]
    if data.get("success") is not True:
        result.unmapped.append("payment-complete cancel: not successful")
        return
    if order_id is None or at is None:
        result.unmapped.append(
            f"payment-complete cancel {cancel_ids}: no orderId in the answer (pass order_id)"
        )
        return
    body = {"reason": "payment_complete_cancel", "cancel_ids": cancel_ids}
    key = tuple(c for c in cancel_ids if c)
    result.events.append(_event("refund", key, "order.cancelled", at, order_id, None, body))


# ----------------------------------------------------------------------------------------------- entry


def _lenient(text: str) -> Any:
    """Coupang's documentation literals: JSON with trailing commas."""
    try:
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except ValueError:
        return text


def _fill(
    payload: Any,
    result: MappingResult,
    *,
    order_id: str | None,
    occurred_at: str | None,
    open_lines: OpenLines | None = None,
) -> None:
    if isinstance(payload, str | bytes):
        payload = _lenient(payload.decode(errors="replace") if isinstance(payload, bytes) else payload)
    if isinstance(payload, list) and payload and all("exchangeId" in as_dict(r) for r in payload):
        _exchange_invoices(payload, result, order_id, occurred_at)
        return
    if not isinstance(payload, dict):
        result.unmapped.append(f"not a Coupang JSON answer ({type(payload).__name__})")
        return
    data = payload.get("data")
    if isinstance(data, list):
        first = as_dict(data[0]) if data else {}
        if not data:
            return
        if "shipmentBoxId" in first and "orderItems" in first:
            _ordersheets(data, result)
        elif "receiptId" in first and "returnItems" in first:
            _returns(data, result, open_lines)
        elif "exchangeId" in first:
            _exchanges(data, result)
        elif "returnCenterCode" in first:
            result.unmapped.append("return shipping centers: seller configuration, no events")
        elif "cancelId" in first:
            result.unmapped.append(
                f"return withdrawals ({len(data)}): no canonical event for a withdrawn return"
            )
        else:
            result.unmapped.append(f"unknown Coupang list of {sorted(first)[:8]}")
        return
    body = as_dict(data)
    if "receiptMap" in body:
        _instruct_cancel(body, result, occurred_at)
    elif "cancelIds" in body:
        _refund_cancel(body, result, order_id, occurred_at)
    elif "responseList" in body or "resultCode" in body or "returnDeliveryId" in body or not body:
        result.unmapped.append(f"Coupang command answer (code {payload.get('code')!r}): no events")
    elif "details" in body and "shipmentBoxId" in body:
        result.unmapped.append("delivery status history: no order id in the answer, poll ordersheets instead")
    else:
        result.unmapped.append(f"unknown Coupang answer with {sorted(body)[:8]}")


def map_payload(
    payload: Any,
    *,
    order_id: str | None = None,
    tracking_no: str | None = None,
    occurred_at: str | None = None,
    open_lines: OpenLines | None = None,
) -> MappingResult:
    """Map one Coupang Wing API answer (parsed JSON, or raw text) to canonical events; never raises.

    ``open_lines`` (order id -> vendorItemId -> quantity still open, from the hub's own order) lets a CANCEL
    receipt that covers only part of the order be told from a whole-order cancel; it is updated in place."""
    del tracking_no
    return guarded(
        "coupang", _fill, payload, order_id=order_id, occurred_at=occurred_at, open_lines=open_lines
    )
