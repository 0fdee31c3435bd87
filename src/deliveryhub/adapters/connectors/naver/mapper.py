"""Naver Commerce API payloads -> canonical events (pure; never raises).

    product-order detail (query / conditional GET), one order per orderId:
      order + productOrder[]                      order.created {customer, address, items, total,
                                                  marketplace}                         naver:order:{orderId}
      paymentDate, status not PAYMENT_WAITING     order.paid {amount, method}          naver:paid:{orderId}
      delivery.trackingNumber + deliveryCompany   shipment.waybill_created             naver:waybill:{..}
      sendDate/pickupDate, shipped status         shipment.handed_over                 naver:handed_over:{..}
      DELIVERY_COMPLETION/DELIVERED+deliveredDate shipment.delivered                   naver:delivered:{..}
      every product order cancelled               order.cancelled {reason}             naver:cancelled:{order}
      some product orders cancelled, not all      x-order.partially_cancelled          naver:partial_cancel:..
      RETURN claim (requested .. done)            return.requested (+ return.received) naver:return:{po}
      EXCHANGE claim                              exchange.requested (+ .completed)    naver:exchange:{po}
        reDeliveryCompany + reDeliveryTrackingNumber  exchange.reshipped {carrier, tracking_no}
          (교환 재배송)                                                                 naver:reshipped:{..}
        reDeliveryStatus DELIVERY_COMPLETION      exchange.completed             naver:exchange.completed:{..}
      status item DELIVERY_ADDRESS_CHANGED/flag   order.address_changed {address}      naver:address:{hash}

    last-changed-statuses alone: PAYED -> order.paid; CLAIM_REQUESTED RETURN/EXCHANGE -> *.requested;
    an order whose every listed product order is cancelled -> order.cancelled, some of them ->
    x-order.partially_cancelled per cancelled product order.

Partial cancels: Naver cancels per product order (one line of the order). ``order.cancelled`` ends the
whole order, so it is emitted only when every product order of the order is cancelled; a cancelled product
order next to open ones becomes the custom event ``x-order.partially_cancelled`` {reason, items,
product_order_id} (EVENTS.md allows ``x-`` types: stored, not interpreted, the order keeps its stage) —
the same type the Coupang mapper emits for a cancel of some items. The poller queries the details of every
product order the hub knows for a changed order, so "every" means the whole order, not just the ones that
changed in the window.

Ids are built from Naver's ids only, so a re-poll of the same facts is an inbox duplicate. Unknown status,
claim or delivery codes are reported in ``unmapped`` (the poller quarantines them) naming the code.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.naver import SOURCE, codes
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339

CHANNEL = "naver"  # the sales-channel label key (kernel/labels.py "channel")
PARTIAL_CANCEL = "x-order.partially_cancelled"  # custom type (EVENTS.md allows x-…): see the docstring

# Known non-order bodies (responses of action APIs, token, errors, request bodies): nothing to map.
_NOT_ORDER_FACTS: tuple[tuple[str, str], ...] = (
    ("access_token", "an OAuth token response"),
    ("dispatchProductOrders", "a dispatch (발송처리) request body"),
    ("productOrderIds", "a product-order query request body"),
    ("successProductOrderIds", "an action result (success/fail product order ids)"),
    ("successProductOrderInfos", "an action result (success/fail product order infos)"),
    ("invalidInputs", "a gateway error body"),
)


def _event(type_: str, event_id: str, at: str, order_id: str, shipment_id: str | None, data: Any) -> Any:
    return new_event(
        event_id=event_id,
        source=SOURCE,
        type=type_,
        occurred_at=at,
        order_id=order_id,
        shipment_id=shipment_id,
        data=data,
    )


def _first_time(*values: object) -> str | None:
    for value in values:
        parsed = to_rfc3339(value)
        if parsed is not None:
            return parsed
    return None


def _amount(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _address(raw: object) -> dict[str, Any]:
    addr = as_dict(raw)
    return {
        "zip": as_str(addr.get("zipCode")),
        "line1": as_str(addr.get("baseAddress")),
        "line2": as_str(addr.get("detailedAddress")),
    }


def _item(po: dict[str, Any]) -> dict[str, Any] | None:
    sku = (
        as_str(po.get("sellerProductCode"))
        or as_str(po.get("optionManageCode"))
        or as_str(po.get("productId"))
        or as_str(po.get("productOrderId"))
    )
    if sku is None:
        return None
    qty = po.get("quantity")
    valid = isinstance(qty, int) and not isinstance(qty, bool) and 0 <= qty <= 1_000_000
    return {"sku": sku[:128], "qty": qty if valid else 1, "price": _amount(po.get("unitPrice"))}


def _claim(detail: dict[str, Any], kind: str) -> dict[str, Any]:
    """The claim object of ``kind`` ("cancel" | "return" | "exchange") of a detail, wherever it sits."""
    return as_dict(detail.get(kind)) or as_dict(as_dict(detail.get("currentClaim")).get(kind))


def _known(result: MappingResult, what: str, field: str, value: str | None, table: frozenset[str]) -> bool:
    """Whether ``value`` is a known code (or absent); unknown codes are reported, naming the code."""
    if value is None or value in table:
        return True
    result.unmapped.append(f"naver {what}: unknown {field} {value!r}")
    return False


# ------------------------------------------------------------------------------------------- details


def _usable(detail: dict[str, Any], result: MappingResult) -> tuple[str, dict[str, Any]] | None:
    order = as_dict(detail.get("order"))
    po = as_dict(detail.get("productOrder"))
    order_id, po_id = as_str(order.get("orderId")), as_str(po.get("productOrderId"))
    if order_id is None or po_id is None:
        result.unmapped.append("naver product-order detail without orderId/productOrderId")
        return None
    what = f"product order {po_id}"
    status = as_str(po.get("productOrderStatus"))
    if status is None or not _known(result, what, "productOrderStatus", status, codes.PRODUCT_ORDER_STATUSES):
        if status is None:
            result.unmapped.append(f"naver {what}: no productOrderStatus")
        return None
    _known(result, what, "claimType", as_str(po.get("claimType")), codes.CLAIM_TYPES)
    _known(result, what, "claimStatus", as_str(po.get("claimStatus")), codes.CLAIM_STATUSES)
    delivery = as_dict(detail.get("delivery"))
    _known(result, what, "deliveryStatus", as_str(delivery.get("deliveryStatus")), codes.DELIVERY_STATUSES)
    return order_id, detail


def _order_events(
    order_id: str, details: list[dict[str, Any]], changes: list[dict[str, Any]], result: MappingResult
) -> None:
    order = as_dict(details[0].get("order"))
    pos = [as_dict(d.get("productOrder")) for d in details]
    po_ids = [str(as_str(p.get("productOrderId"))) for p in pos]
    statuses = {str(as_str(p.get("productOrderStatus"))) for p in pos}
    ordered = _first_time(order.get("orderDate"), order.get("paymentDate"))
    if ordered is None:
        result.unmapped.append(f"naver order {order_id}: no orderDate with offset")
        return
    shipping = next((as_dict(p.get("shippingAddress")) for p in pos if p.get("shippingAddress")), {})
    items = [i for i in (_item(p) for p in pos) if i is not None]
    total = sum(a for a in (_amount(p.get("totalPaymentAmount")) for p in pos) if a is not None)
    data = {
        "customer": {
            "name": as_str(order.get("ordererName")),
            "phone": as_str(order.get("ordererTel")),
            "external_id": as_str(order.get("ordererNo")),
        },
        "address": _address(shipping),
        "items": items,
        "total": total,
        "currency": "KRW",
        "channel": CHANNEL,
        "recipient": {"name": as_str(shipping.get("name")), "phone": as_str(shipping.get("tel1"))},
        "marketplace": {"source": SOURCE, "order_id": order_id, "product_order_ids": po_ids},
    }
    result.events.append(
        _event("order.created", stable_id("naver:order", order_id), ordered, order_id, None, data)
    )
    paid_at = to_rfc3339(order.get("paymentDate"))
    if paid_at is not None and not statuses <= codes.UNPAID:
        paid = {"amount": total, "method": as_str(order.get("paymentMeans"))}
        result.events.append(
            _event("order.paid", stable_id("naver:paid", order_id), paid_at, order_id, None, paid)
        )
    _address_change(order_id, shipping, changes, result)
    for detail in details:
        _delivery(order_id, detail, result)
        _claims(order_id, detail, result)
    _cancelled(order_id, details, result)


def _address_change(
    order_id: str, shipping: dict[str, Any], changes: list[dict[str, Any]], result: MappingResult
) -> None:
    flagged = [
        c
        for c in changes
        if c.get("receiverAddressChanged") is True or c.get("lastChangedType") == "DELIVERY_ADDRESS_CHANGED"
    ]
    address = _address(shipping)
    if not flagged or not any(address.values()):
        return
    at = _first_time(*(c.get("lastChangedDate") for c in flagged))
    if at is None:
        return
    event_id = stable_id(f"naver:address:{order_id}", address["zip"], address["line1"], address["line2"])
    result.events.append(_event("order.address_changed", event_id, at, order_id, None, {"address": address}))


def _delivery(order_id: str, detail: dict[str, Any], result: MappingResult) -> None:
    po = as_dict(detail.get("productOrder"))
    delivery = as_dict(detail.get("delivery"))
    number, company = as_str(delivery.get("trackingNumber")), as_str(delivery.get("deliveryCompany"))
    if number is None or company is None:
        return
    carrier = codes.NAVER_TO_HUB_CARRIER.get(company)
    if carrier is None:
        result.unmapped.append(f"naver order {order_id}: unknown deliveryCompany {company!r}")
        carrier = company.lower()[:32]
    number = number[:64]
    status = as_str(po.get("productOrderStatus"))
    state = as_str(delivery.get("deliveryStatus"))
    sent = _first_time(delivery.get("sendDate"), po.get("shippingStartDate"), delivery.get("pickupDate"))
    if sent is not None:
        waybill = {"carrier": carrier, "tracking_no": number}
        event_id = stable_id("naver:waybill", order_id, number)
        result.events.append(_event("shipment.waybill_created", event_id, sent, order_id, number, waybill))
    moving = status in codes.SHIPPED or state in codes.DELIVERY_MOVING
    picked = _first_time(delivery.get("pickupDate"), delivery.get("sendDate"))
    if moving and picked is not None:
        event_id = stable_id("naver:handed_over", order_id, number)
        result.events.append(
            _event("shipment.handed_over", event_id, picked, order_id, number, {"carrier": carrier})
        )
    delivered_at = to_rfc3339(delivery.get("deliveredDate"))
    if delivered_at is not None and (state == "DELIVERY_COMPLETION" or status in codes.DELIVERED):
        event_id = stable_id("naver:delivered", order_id, number)
        result.events.append(_event("shipment.delivered", event_id, delivered_at, order_id, number, {}))


def _claims(order_id: str, detail: dict[str, Any], result: MappingResult) -> None:
    po = as_dict(detail.get("productOrder"))
    po_id = str(as_str(po.get("productOrderId")))
    kind = as_str(po.get("claimType"))
    item = _item(po)
    for claim_type, name, open_codes, done_codes, done_type in (
        ("RETURN", "return", codes.RETURN_OPEN, codes.RETURN_RECEIVED, "return.received"),
        ("EXCHANGE", "exchange", codes.EXCHANGE_OPEN, frozenset({"EXCHANGE_DONE"}), "exchange.completed"),
    ):
        claim = _claim(detail, name)
        status = as_str(claim.get("claimStatus")) or (
            as_str(po.get("claimStatus")) if kind == claim_type else None
        )
        if kind != claim_type and not claim:
            continue
        if status not in open_codes:
            continue
        at = _first_time(claim.get("claimRequestDate"))
        if at is None:
            result.unmapped.append(f"naver product order {po_id}: {name} claim without claimRequestDate")
            continue
        reason = " / ".join(
            r for r in (as_str(claim.get(f"{name}Reason")), as_str(claim.get(f"{name}DetailedReason"))) if r
        )
        qty = claim.get("requestQuantity")
        items = [{**item, "qty": qty} if item and isinstance(qty, int) and qty > 0 else item] if item else []
        data = {"items": items, "reason": reason or None, "product_order_id": po_id}
        event_id = stable_id(f"naver:{name}", order_id, po_id)
        result.events.append(_event(f"{name}.requested", event_id, at, order_id, None, data))
        if name == "exchange" and _redelivery(order_id, po_id, claim, result):
            status = "EXCHANGE_DONE"
        done_at = (
            _first_time(claim.get("collectCompletedDate"), claim.get("returnCompletedDate"))
            if name == "return"
            else _first_time(claim.get("reDeliveryOperationDate"), claim.get("collectCompletedDate"))
        )
        if status in done_codes and done_at is not None:
            event_id = stable_id(f"naver:{done_type}", order_id, po_id)
            result.events.append(
                _event(done_type, event_id, done_at, order_id, None, {"product_order_id": po_id})
            )


def _redelivery(order_id: str, po_id: str, claim: dict[str, Any], result: MappingResult) -> bool:
    """교환 재배송: the replacement parcel's carrier and number in the exchange claim (reDeliveryCompany,
    reDeliveryTrackingNumber, reDeliveryOperationDate) -> exchange.reshipped; True when its reDeliveryStatus
    says it was delivered (the exchange is then completed)."""
    number, company = as_str(claim.get("reDeliveryTrackingNumber")), as_str(claim.get("reDeliveryCompany"))
    if number is None or company is None:
        return False
    carrier = codes.NAVER_TO_HUB_CARRIER.get(company)
    if carrier is None:
        result.unmapped.append(f"naver product order {po_id}: unknown reDeliveryCompany {company!r}")
        carrier = company.lower()[:32]
    at = _first_time(claim.get("reDeliveryOperationDate"), claim.get("claimRequestDate"))
    if at is None:
        result.unmapped.append(f"naver product order {po_id}: exchange re-delivery without a date")
        return False
    data = {"carrier": carrier, "tracking_no": number[:64], "product_order_id": po_id}
    event_id = stable_id("naver:reshipped", order_id, po_id, number)
    result.events.append(_event("exchange.reshipped", event_id, at, order_id, None, data))
    return as_str(claim.get("reDeliveryStatus")) == "DELIVERY_COMPLETION"


def _cancel_time(po: dict[str, Any], cancel: dict[str, Any]) -> str | None:
    return _first_time(
        cancel.get("cancelCompletedDate"),
        cancel.get("cancelApprovalDate"),
        cancel.get("claimRequestDate"),
        po.get("claimRequestDate"),
    )


def _cancelled(order_id: str, details: list[dict[str, Any]], result: MappingResult) -> None:
    """order.cancelled once every product order of the order is cancelled (Naver cancels each one); a
    cancelled product order next to open ones is x-order.partially_cancelled (see the module docstring)."""
    reasons, times, done_pos, open_pos = [], [], [], 0
    for detail in details:
        po = as_dict(detail.get("productOrder"))
        cancel = _claim(detail, "cancel")
        status = as_str(po.get("productOrderStatus"))
        done = status in codes.CANCELLED or as_str(cancel.get("claimStatus")) in codes.CANCEL_DONE
        if not done:
            open_pos += 1
            continue
        done_pos.append(detail)
        reason = as_str(cancel.get("cancelReason")) or (
            "no_payment" if status == "CANCELED_BY_NOPAYMENT" else None
        )
        if reason:
            reasons.append(reason)
        times.append(_cancel_time(po, cancel))
    if not done_pos:
        return
    if open_pos:
        for detail in done_pos:
            _partial_cancel(order_id, detail, result)
        return
    at = max((t for t in times if t is not None), default=None)
    if at is None:
        result.unmapped.append(f"naver order {order_id}: cancelled without a cancel date")
        return
    data = {"reason": reasons[0] if reasons else "unspecified"}
    result.events.append(
        _event("order.cancelled", stable_id("naver:cancelled", order_id), at, order_id, None, data)
    )


def _partial_cancel(order_id: str, detail: dict[str, Any], result: MappingResult) -> None:
    po = as_dict(detail.get("productOrder"))
    cancel = _claim(detail, "cancel")
    po_id = str(as_str(po.get("productOrderId")))
    at = _cancel_time(po, cancel)
    if at is None:
        result.unmapped.append(f"naver product order {po_id}: cancelled without a cancel date")
        return
    item = _item(po)
    qty = cancel.get("requestQuantity")
    if item and isinstance(qty, int) and not isinstance(qty, bool) and qty > 0:
        item = {**item, "qty": qty}
    reason = " / ".join(
        r for r in (as_str(cancel.get("cancelReason")), as_str(cancel.get("cancelDetailedReason"))) if r
    )
    data = {
        "reason": reason or "unspecified",
        "items": [item] if item else [],
        "product_order_id": po_id,
    }
    event_id = stable_id("naver:partial_cancel", order_id, po_id)
    result.events.append(_event(PARTIAL_CANCEL, event_id, at, order_id, None, data))


def _fill_order(
    group: list[dict[str, Any]], result: MappingResult, *, order_id: str, changes: list[dict[str, Any]]
) -> None:
    _order_events(order_id, group, changes, result)


def map_details(details: list[Any], changes: list[Any] | None = None) -> MappingResult:
    """Product-order details (and the last-changed status items that led to them) -> canonical events."""

    def fill(payload: list[Any], result: MappingResult) -> None:
        by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for raw in payload:
            found = _usable(as_dict(raw), result)
            if found is not None:
                by_order[found[0]].append(found[1])
        changed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for change in as_list(changes):
            change = as_dict(change)
            what = f"product order {as_str(change.get('productOrderId'))}"
            _known(result, what, "lastChangedType", as_str(change.get("lastChangedType")), codes.CHANGE_TYPES)
            changed[str(as_str(change.get("orderId")))].append(change)
        for order_id, group in by_order.items():
            result.extend(
                guarded(
                    f"naver order {order_id}",
                    _fill_order,
                    group,
                    order_id=order_id,
                    changes=changed[order_id],
                )
            )

    return guarded("naver details", fill, details)


# -------------------------------------------------------------------------------- last-changed statuses


def map_changes(changes: list[Any]) -> MappingResult:
    """last-changed-statuses items alone -> the events they state by themselves (payment, claims, cancels)."""

    def fill(payload: list[Any], result: MappingResult) -> None:
        by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for raw in payload:
            item = as_dict(raw)
            order_id, po_id = as_str(item.get("orderId")), as_str(item.get("productOrderId"))
            if order_id is None or po_id is None:
                result.unmapped.append("naver status item without orderId/productOrderId")
                continue
            what = f"product order {po_id}"
            ok = _known(
                result,
                what,
                "productOrderStatus",
                as_str(item.get("productOrderStatus")),
                codes.PRODUCT_ORDER_STATUSES,
            )
            ok = (
                _known(
                    result, what, "lastChangedType", as_str(item.get("lastChangedType")), codes.CHANGE_TYPES
                )
                and ok
            )
            ok = _known(result, what, "claimType", as_str(item.get("claimType")), codes.CLAIM_TYPES) and ok
            ok = (
                _known(result, what, "claimStatus", as_str(item.get("claimStatus")), codes.CLAIM_STATUSES)
                and ok
            )
            if ok:
                by_order[order_id].append(item)
        for order_id, items in by_order.items():
            _change_events(order_id, items, result)

    return guarded("naver last-changed-statuses", fill, changes)


def _change_events(order_id: str, items: list[dict[str, Any]], result: MappingResult) -> None:
    for item in items:
        at = to_rfc3339(item.get("lastChangedDate"))
        po_id = str(as_str(item.get("productOrderId")))
        change, claim = item.get("lastChangedType"), item.get("claimType")
        if at is None:
            result.unmapped.append(f"naver product order {po_id}: no lastChangedDate with offset")
            continue
        if change == "PAYED":
            event_id = stable_id("naver:paid", order_id)
            result.events.append(
                _event("order.paid", event_id, at, order_id, None, {"amount": None, "method": None})
            )
        elif change == "CLAIM_REQUESTED" and claim in ("RETURN", "EXCHANGE"):
            name = "return" if claim == "RETURN" else "exchange"
            data = {"items": [po_id], "reason": None, "product_order_id": po_id}
            event_id = stable_id(f"naver:{name}", order_id, po_id)
            result.events.append(_event(f"{name}.requested", event_id, at, order_id, None, data))
    cancelled = [
        i
        for i in items
        if i.get("productOrderStatus") in codes.CANCELLED or i.get("claimStatus") in codes.CANCEL_DONE
    ]
    if cancelled and len(cancelled) == len(items):
        at = max((t for t in (to_rfc3339(i.get("lastChangedDate")) for i in items) if t), default=None)
        if at is not None:
            event_id = stable_id("naver:cancelled", order_id)
            result.events.append(
                _event("order.cancelled", event_id, at, order_id, None, {"reason": "unspecified"})
            )
        return
    for item in cancelled:  # some product orders of the order only: the order stays open
        at = to_rfc3339(item.get("lastChangedDate"))
        po_id = str(as_str(item.get("productOrderId")))
        if at is None:
            continue
        data = {"reason": "unspecified", "items": [], "product_order_id": po_id}
        event_id = stable_id("naver:partial_cancel", order_id, po_id)
        result.events.append(_event(PARTIAL_CANCEL, event_id, at, order_id, None, data))


# ------------------------------------------------------------------------------------------ dispatch


def _redelivery_request(
    data: dict[str, Any], order_id: str | None, product_order_id: str | None, occurred_at: str | None
) -> MappingResult:
    """교환 재배송 처리 body (POST …/{productOrderId}/claim/exchange/dispatch): the order, product order and
    time are not in it (path and clock), so it maps only when the caller gives them (the hub's own call)."""
    result = MappingResult()
    at = to_rfc3339(occurred_at) if occurred_at else None
    if order_id is None or at is None:
        result.unmapped.append(
            "naver: an exchange re-delivery (교환 재배송) request body names no order or time "
            "(pass order_id and occurred_at)"
        )
        return result
    claim = {**data, "reDeliveryOperationDate": at}
    _redelivery(order_id, product_order_id or order_id, claim, result)
    return result


def map_payload(
    payload: Any,
    *,
    order_id: str | None = None,
    tracking_no: str | None = None,
    occurred_at: str | None = None,
    product_order_id: str | None = None,
) -> MappingResult:
    """Any Naver Commerce response body (query, conditional GET, last-changed-statuses, one detail); the
    교환 재배송 request body too when ``order_id`` and ``occurred_at`` say whose and when."""
    body = as_dict(payload)
    data = body.get("data", body) if isinstance(payload, dict) else payload
    if isinstance(data, list):
        return map_details(data)
    data = as_dict(data)
    if "lastChangeStatuses" in data:
        return map_changes(as_list(data.get("lastChangeStatuses")))
    if "contents" in data:
        return map_details([as_dict(c).get("content") for c in as_list(data.get("contents"))])
    if "productOrder" in data:
        return map_details([data])
    if "reDeliveryTrackingNumber" in data:
        return _redelivery_request(data, order_id, product_order_id, occurred_at)
    for key, what in _NOT_ORDER_FACTS:
        if key in data or key in body:
            return MappingResult(unmapped=[f"naver: {what} carries no order facts (nothing to map)"])
    if "code" in body and "message" in body:
        return MappingResult(
            unmapped=[f"naver: an error body ({as_str(body.get('code'))}) carries no order facts"]
        )
    return MappingResult(unmapped=["naver: not a product-order, detail or last-changed-statuses body"])
