"""Shopify webhook (or REST resource) -> canonical OMS events (pure).

    X-Shopify-Topic            event(s)                                   event_id
    orders/create              order.created                              shopify:{webhook_id}
    orders/paid                order.paid {amount, method}                shopify:{webhook_id}
    orders/cancelled           order.cancelled {reason}                   shopify:{webhook_id}
    orders/updated             order.address_changed {address}            shopify:address:{order}:{hash}
    fulfillments/create|update shipment.waybill_created per tracking no.  shopify:waybill:{fulfillment}:{no}
                               + shipment.tracking from shipment_status   shopify:{webhook_id}:tracking:{no}
                               + shipment.delivered when delivered        shopify:delivered:{fulfillment}:{no}
    fulfillment_events/create  shipment.tracking (+ delivered)            shopify:{webhook_id}
    refunds/create             return.refunded {amount}                   shopify:{webhook_id}
    order_transactions/create  order.paid for a successful sale/capture   shopify:{webhook_id}

Waybill, delivered and address ids do not depend on the webhook id, so the same fact seen through two topics
(or an ``orders/updated`` that changed something else) dedupes. ``orders/updated`` cannot see the previous
address: pass ``previous_address`` (our stored ``{zip, line1, line2}``) to suppress unchanged addresses.
The source of every event is ``oms``; ``order_id`` is Shopify's numeric order id as a string.
"""

from __future__ import annotations

from typing import Any

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339, truncate
from deliveryhub.adapters.connectors.statuses import normalize_status, vocabulary

SOURCE = "oms"
CHANNEL = "shopify"

# Wrapper key of a REST resource -> the webhook topic whose body is that resource.
_WRAPPERS: dict[str, str] = {
    "order": "orders/create",
    "fulfillment": "fulfillments/create",
    "fulfillment_event": "fulfillment_events/create",
    "refund": "refunds/create",
    "transaction": "order_transactions/create",
}
_LIST_WRAPPERS: dict[str, str] = {"orders": "orders/create", "transactions": "order_transactions/create"}


def _money(value: object) -> float | None:
    text = as_str(value)
    if text is None:
        return None
    try:
        amount = round(float(text), 2)
    except ValueError:
        return None
    return amount if amount >= 0 and amount == amount and amount != float("inf") else None


def _address(raw: object) -> dict[str, Any] | None:
    addr = as_dict(raw)
    if not addr:
        return None
    return {
        "zip": as_str(addr.get("zip")),
        "line1": as_str(addr.get("address1")),
        "line2": as_str(addr.get("address2")),
        "city": as_str(addr.get("city")),
        "province": as_str(addr.get("province")),
        "country_code": as_str(addr.get("country_code")),
    }


def _customer(order: dict[str, Any]) -> dict[str, Any]:
    customer = as_dict(order.get("customer"))
    shipping = as_dict(order.get("shipping_address"))
    first, last = as_str(customer.get("first_name")), as_str(customer.get("last_name"))
    name = " ".join(p for p in (first, last) if p) or as_str(shipping.get("name"))
    return {
        "name": name,
        "phone": as_str(customer.get("phone")) or as_str(order.get("phone")) or as_str(shipping.get("phone")),
        "email": as_str(order.get("email")) or as_str(customer.get("email")),
    }


def _items(order: dict[str, Any], result: MappingResult) -> list[dict[str, Any]]:
    items = []
    for index, raw in enumerate(as_list(order.get("line_items"))):
        line = as_dict(raw)
        sku = as_str(line.get("sku")) or as_str(line.get("variant_id")) or as_str(line.get("id"))
        if sku is None:
            result.unmapped.append(
                f"shopify order {as_str(order.get('id'))} line #{index}: no sku/variant/id"
            )
            continue
        qty = line.get("quantity")
        valid_qty = isinstance(qty, int) and not isinstance(qty, bool) and 0 <= qty <= 1_000_000
        items.append({"sku": sku[:128], "qty": qty if valid_qty else 1, "price": _money(line.get("price"))})
    return items


def _time(result: MappingResult, what: str, *candidates: object) -> str | None:
    for value in candidates:
        parsed = to_rfc3339(value)
        if parsed is not None:
            return parsed
    result.unmapped.append(f"shopify {what}: no timestamp with offset in {truncate(candidates)}")
    return None


def _carrier(company: object, tracking_no: str) -> str:
    """Our carrier code for ``tracking_company``; else the number's only candidate; else "unknown"."""
    text = as_str(company)
    if text is not None:
        key = "".join(text.lower().split())
        return vocabulary().carrier_aliases.get(key, text[:32])
    candidates = numbers.detect_carrier(tracking_no)
    return candidates[0] if len(candidates) == 1 else "unknown"


def _order_created(order: dict[str, Any], order_id: str, event_id: str, result: MappingResult) -> None:
    occurred = _time(result, f"order {order_id}", order.get("created_at"), order.get("processed_at"))
    if occurred is None:
        return
    data = {
        "customer": _customer(order),
        "address": _address(order.get("shipping_address")) or {},
        "items": _items(order, result),
        "total": _money(order.get("total_price")),
        "currency": as_str(order.get("currency")),
        "channel": CHANNEL,
        "order_name": as_str(order.get("name")),
        "order_number": as_str(order.get("order_number")),
    }
    result.events.append(_event(event_id, "order.created", occurred, order_id, None, data))


def _event(
    event_id: str, type_: str, occurred: str, order_id: str, shipment_id: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    return new_event(
        event_id=event_id,
        source=SOURCE,
        type=type_,
        occurred_at=occurred,
        order_id=order_id,
        shipment_id=shipment_id,
        data=data,
    )


def _order_paid(order: dict[str, Any], order_id: str, event_id: str, result: MappingResult) -> None:
    occurred = _time(
        result,
        f"order {order_id}",
        order.get("processed_at"),
        order.get("updated_at"),
        order.get("created_at"),
    )
    if occurred is None:
        return
    gateways = [g for g in (as_str(x) for x in as_list(order.get("payment_gateway_names"))) if g]
    method = as_str(order.get("gateway")) or (",".join(gateways) if gateways else None)
    data = {
        "amount": _money(order.get("total_price")),
        "method": method,
        "currency": as_str(order.get("currency")),
    }
    result.events.append(_event(event_id, "order.paid", occurred, order_id, None, data))


def _order_cancelled(order: dict[str, Any], order_id: str, event_id: str, result: MappingResult) -> None:
    occurred = _time(result, f"order {order_id}", order.get("cancelled_at"), order.get("updated_at"))
    if occurred is None:
        return
    data = {"reason": as_str(order.get("cancel_reason")) or "unspecified"}
    result.events.append(_event(event_id, "order.cancelled", occurred, order_id, None, data))


def _address_changed(
    order: dict[str, Any], order_id: str, previous: dict[str, Any] | None, result: MappingResult
) -> None:
    address = _address(order.get("shipping_address"))
    if address is None:
        return
    if previous is not None and all(address.get(k) == previous.get(k) for k in ("zip", "line1", "line2")):
        return
    occurred = _time(result, f"order {order_id}", order.get("updated_at"))
    if occurred is None:
        return
    event_id = stable_id(f"shopify:address:{order_id}", address["zip"], address["line1"], address["line2"])
    result.events.append(
        _event(event_id, "order.address_changed", occurred, order_id, None, {"address": address})
    )


def _tracking_numbers(fulfillment: dict[str, Any]) -> list[str]:
    found = [n[:64] for n in (as_str(x) for x in as_list(fulfillment.get("tracking_numbers"))) if n]
    single = as_str(fulfillment.get("tracking_number"))
    if single and single[:64] not in found:
        found.insert(0, single[:64])
    return found


def _fulfillment(
    fulfillment: dict[str, Any], event_id: str, result: MappingResult, order_id: str | None
) -> None:
    fid = as_str(fulfillment.get("id")) or "?"
    oid = as_str(fulfillment.get("order_id")) or order_id
    if oid is None:
        result.unmapped.append(f"shopify fulfillment {fid}: no order_id")
        return
    tracking_numbers = _tracking_numbers(fulfillment)
    if not tracking_numbers:
        result.unmapped.append(
            f"shopify fulfillment {fid}: no tracking number (status {fulfillment.get('status')!r})"
        )
        return
    created = _time(
        result, f"fulfillment {fid}", fulfillment.get("created_at"), fulfillment.get("updated_at")
    )
    if created is None:
        return
    updated = to_rfc3339(fulfillment.get("updated_at")) or created
    raw_status = as_str(fulfillment.get("shipment_status"))
    for number in tracking_numbers:
        carrier = _carrier(fulfillment.get("tracking_company"), number)
        data = {"carrier": carrier, "tracking_no": number, "tracking_url": _url_for(fulfillment, number)}
        result.events.append(
            _event(f"shopify:waybill:{fid}:{number}", "shipment.waybill_created", created, oid, number, data)
        )
        if raw_status is not None:
            _shipment_status(
                raw_status,
                f"{event_id}:tracking:{number}",
                updated,
                oid,
                number,
                carrier,
                result,
                delivered_id=f"shopify:delivered:{fid}:{number}",
            )


def _url_for(fulfillment: dict[str, Any], number: str) -> str | None:
    urls = [u for u in (as_str(x) for x in as_list(fulfillment.get("tracking_urls"))) if u]
    found = _tracking_numbers(fulfillment)
    if number in found and found.index(number) < len(urls):
        return urls[found.index(number)]
    return as_str(fulfillment.get("tracking_url"))


def _shipment_status(
    raw_status: str,
    event_id: str,
    occurred: str,
    order_id: str,
    shipment_id: str | None,
    carrier: str | None,
    result: MappingResult,
    *,
    delivered_id: str,
    extra: dict[str, Any] | None = None,
) -> None:
    tag, reason, known = normalize_status("shopify", None, raw_status)
    if not known:
        result.unmapped.append(f"shopify: unknown shipment status {raw_status!r} (kept with status None)")
    data: dict[str, Any] = {
        "status": tag,
        "raw_status": raw_status,
        "raw_code": raw_status,
        "location": None,
        "message": None,
        "carrier": carrier,
        "tracking_no": shipment_id,
        "status_known": known,
        **(extra or {}),
    }
    if reason:
        data["reason"] = reason
    result.events.append(_event(event_id, "shipment.tracking", occurred, order_id, shipment_id, data))
    if tag == "delivered":
        result.events.append(
            _event(delivered_id, "shipment.delivered", occurred, order_id, shipment_id, {"carrier": carrier})
        )


def _fulfillment_event(raw: dict[str, Any], event_id: str, result: MappingResult) -> None:
    oid = as_str(raw.get("order_id"))
    fid = as_str(raw.get("fulfillment_id")) or "?"
    raw_status = as_str(raw.get("status"))
    if oid is None or raw_status is None:
        result.unmapped.append(
            f"shopify fulfillment_event {as_str(raw.get('id'))}: missing order_id or status"
        )
        return
    occurred = _time(result, f"fulfillment_event {fid}", raw.get("happened_at"), raw.get("created_at"))
    if occurred is None:
        return
    location = (
        ", ".join(p for p in (as_str(raw.get(k)) for k in ("city", "province", "country")) if p) or None
    )
    extra = {"fulfillment_id": fid, "message": as_str(raw.get("message")), "location": location}
    eta = to_rfc3339(raw.get("estimated_delivery_at"))
    if eta:
        extra["estimated_delivery_at"] = eta
    _shipment_status(
        raw_status,
        event_id,
        occurred,
        oid,
        None,
        None,
        result,
        delivered_id=f"shopify:delivered:{fid}",
        extra=extra,
    )


def _refund(raw: dict[str, Any], event_id: str, result: MappingResult) -> None:
    oid = as_str(raw.get("order_id"))
    if oid is None:
        result.unmapped.append(f"shopify refund {as_str(raw.get('id'))}: no order_id")
        return
    occurred = _time(
        result, f"refund {as_str(raw.get('id'))}", raw.get("processed_at"), raw.get("created_at")
    )
    if occurred is None:
        return
    amounts = [
        _money(t.get("amount"))
        for t in (as_dict(x) for x in as_list(raw.get("transactions")))
        if as_str(t.get("kind")) == "refund" and as_str(t.get("status")) in (None, "success")
    ]
    amount = round(sum(a for a in amounts if a is not None), 2)
    data = {"amount": amount, "note": as_str(raw.get("note")), "refund_id": as_str(raw.get("id"))}
    result.events.append(_event(event_id, "return.refunded", occurred, oid, None, data))


def _transaction(raw: dict[str, Any], event_id: str, result: MappingResult) -> None:
    kind, status, oid = as_str(raw.get("kind")), as_str(raw.get("status")), as_str(raw.get("order_id"))
    if kind not in ("sale", "capture") or status != "success" or oid is None:
        result.unmapped.append(
            f"shopify transaction {as_str(raw.get('id'))}: kind={kind!r} status={status!r} is not a payment"
        )
        return
    occurred = _time(
        result, f"transaction {as_str(raw.get('id'))}", raw.get("processed_at"), raw.get("created_at")
    )
    if occurred is None:
        return
    data = {
        "amount": _money(raw.get("amount")),
        "method": as_str(raw.get("gateway")),
        "currency": as_str(raw.get("currency")),
    }
    result.events.append(_event(event_id, "order.paid", occurred, oid, None, data))


def _dispatch(
    topic: str, event_id: str, body: dict[str, Any], result: MappingResult, previous: dict[str, Any] | None
) -> None:
    if topic.startswith("orders/"):
        order_id = as_str(body.get("id"))
        if order_id is None:
            result.unmapped.append(f"shopify {topic}: order without id")
            return
        if topic == "orders/create":
            _order_created(body, order_id, event_id, result)
        elif topic == "orders/paid":
            _order_paid(body, order_id, event_id, result)
        elif topic == "orders/cancelled":
            _order_cancelled(body, order_id, event_id, result)
        elif topic == "orders/updated":
            _address_changed(body, order_id, previous, result)
        else:
            result.unmapped.append(f"shopify topic {topic!r} is not mapped")
            return
        if topic in ("orders/create", "orders/updated"):
            for fulfillment in as_list(body.get("fulfillments")):
                _fulfillment(
                    as_dict(fulfillment),
                    f"{event_id}:f{as_str(as_dict(fulfillment).get('id'))}",
                    result,
                    order_id,
                )
    elif topic in ("fulfillments/create", "fulfillments/update"):
        _fulfillment(body, event_id, result, None)
    elif topic == "fulfillment_events/create":
        _fulfillment_event(body, event_id, result)
    elif topic == "refunds/create":
        _refund(body, event_id, result)
    elif topic == "order_transactions/create":
        _transaction(body, event_id, result)
    else:
        result.unmapped.append(f"shopify topic {topic!r} is not mapped")


def map_webhook(
    topic: str, webhook_id: str | None, payload: Any, *, previous_address: dict[str, Any] | None = None
) -> MappingResult:
    """Map one Shopify webhook (X-Shopify-Topic, X-Shopify-Webhook-Id, JSON body); never raises."""
    return guarded(
        f"shopify {topic!r}",
        _map_webhook,
        payload,
        topic=topic,
        webhook_id=webhook_id,
        previous=previous_address,
    )


def _map_webhook(
    payload: Any,
    result: MappingResult,
    *,
    topic: str,
    webhook_id: str | None,
    previous: dict[str, Any] | None,
) -> None:
    if not isinstance(payload, dict):
        result.unmapped.append(f"shopify {topic!r}: body is not an object: {truncate(payload)}")
        return
    topic = topic.strip() if isinstance(topic, str) else ""
    body = payload
    for key in _WRAPPERS:  # REST resources arrive wrapped: {"order": {...}}
        if len(payload) == 1 and isinstance(payload.get(key), dict):
            body = payload[key]
    hook = as_str(webhook_id)
    if hook is None:
        hook = stable_id("body", topic, body.get("id"), body.get("updated_at"))
        result.unmapped.append(f"shopify {topic!r}: no X-Shopify-Webhook-Id; event id derived from the body")
    _dispatch(topic, f"shopify:{hook}", body, result, previous)


def map_payload(
    payload: Any, *, topic: str | None = None, webhook_id: str | None = None, **_: Any
) -> MappingResult:
    """A webhook body with its topic, or a REST resource whose wrapper key implies the topic.

    ``{"order": ...}`` -> orders/create, ``{"orders": [...]}`` -> one per order, ``{"fulfillment": ...}``, ...
    """
    if topic:
        return map_webhook(topic, webhook_id, payload)
    result = MappingResult()
    if isinstance(payload, dict) and len(payload) == 1:
        key, value = next(iter(payload.items()))
        if key in _WRAPPERS and isinstance(value, dict):
            return map_webhook(_WRAPPERS[key], webhook_id, value)
        if key in _LIST_WRAPPERS and isinstance(value, list):
            for item in value:  # one webhook id cannot name several bodies: ids are derived per body
                result.extend(map_webhook(_LIST_WRAPPERS[key], None, item))
            return result
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, dict) and "kind" in item and "order_id" in item:
                result.extend(map_webhook("order_transactions/create", None, item))
            else:
                result.extend(map_payload(item))
        return result
    result.unmapped.append(f"shopify: no topic and no known resource wrapper: {truncate(payload)}")
    return result
