"""Cafe24 webhook bodies and Admin API order responses -> canonical events (pure, never raising).

    event_no  Cafe24 event                         events (per order id named)
    90023     order received (create_order)        order.created (+ order.paid when paid == "T")
    90031     product added to an order            order.created (same id: a duplicate if already known)
    90025     payment status changed               order.paid when paid == "T"
    90026/72  cancellation status (bulk)           order.cancelled
    90028     exchange status changed              exchange.requested
    90029/73  refund status changed (bulk)         return.refunded
    90074     return status changed (bulk)         return.requested
    90160     app order return completed           return.received + return.refunded {amount}
    90064     recipient info changed               nothing here: the body has no address; the push
                                                   handler reads GET .../receivers -> order.address_changed
    90162     shipping code changed                shipment.waybill_created {carrier, tracking_no}
    90071     bulk delivery status changed         shipment.handed_over / shipment.delivered by event_code
    90001/75  product events                       nothing (not an order fact)

    GET /orders, /orders/{id} (embed=items,receivers)  order.created, order.paid, order.cancelled and, per
                                                        item status, waybill/handed_over/delivered/claims
    GET /orders/{id}/receivers                          order.address_changed
    GET /orders/{id}/shipments                          shipment.waybill_created per shipping code

Event ids are ``cafe24:{mall}:{order}:{fact}``: a webhook and the catch-up poll that see the same fact
give the same id, so a replayed webhook or an overlapping poll has one effect.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339, truncate

SOURCE = "cafe24"
CHANNEL = "cafe24"

PRODUCT_EVENTS = frozenset({90001, 90075})
# 90071's event_code -> the shipment fact it reports.
DELIVERY_CODES: dict[str, str] = {
    "pickup_complete_order": "shipment.handed_over",
    "shipping_order": "shipment.handed_over",
    "shipbegin_order": "shipment.handed_over",
    "delivery_complete_order": "shipment.delivered",
    "shipped_complete_order": "shipment.delivered",
    "shipend_order": "shipment.delivered",
}
_ORDER_EVENTS: dict[int, str] = {
    90023: "order.created",
    90031: "order.created",
    90025: "order.paid",
    90026: "order.cancelled",
    90072: "order.cancelled",
    90028: "exchange.requested",
    90029: "return.refunded",
    90073: "return.refunded",
    90074: "return.requested",
}
# Cafe24 cancel statuses that mean the cancellation is done (C00/C10 are a request, C11 a refusal).
_CANCELLED = frozenset({"C34", "C35", "C36", "C40", "C41", "C47", "C48", "C49"})


@cache
def _carrier_doc() -> dict[str, list[str]]:
    """``carriers.yaml``: hub carrier code -> its Cafe24 codes (the first is the one written back)."""
    doc = yaml.safe_load((Path(__file__).parent / "carriers.yaml").read_text(encoding="utf-8"))
    return {
        str(hub): [str(c) for c in (codes if isinstance(codes, list) else [codes])]
        for hub, codes in (doc or {}).items()
    }


def carrier_table() -> dict[str, str]:
    """Hub carrier code -> the Cafe24 shipping_company_code written back (``carriers.yaml``)."""
    return {hub: codes[0] for hub, codes in _carrier_doc().items() if codes}


def inbound_codes() -> dict[str, str]:
    """Every Cafe24 shipping_company_code of ``carriers.yaml`` -> hub carrier code."""
    return {code: hub for hub, codes in _carrier_doc().items() for code in codes}


def hub_carrier(code: object, overrides: dict[str, str] | None = None) -> str:
    """Our carrier code for a Cafe24 shipping_company_code; ``cafe24-<code>`` when not in the table.

    A mall's own codes (``overrides``, hub -> code) win over the shipped table; an unknown code is
    never guessed.
    """
    text = as_str(code)
    if text is None:
        return "unknown"
    for hub, cafe24 in (overrides or {}).items():
        if cafe24 == text:
            return hub
    return inbound_codes().get(text, f"cafe24-{text}"[:32])


def _money(value: object) -> float | None:
    text = as_str(value)
    try:
        amount = round(float(text), 2) if text is not None else None
    except ValueError:
        return None
    return amount if amount is not None and 0 <= amount < float("inf") else None


def _event(
    mall: str,
    order_id: str,
    fact: str,
    type_: str,
    occurred: str,
    data: dict[str, Any],
    shipment_id: str | None = None,
) -> dict[str, Any]:
    return new_event(
        event_id=f"cafe24:{mall}:{order_id}:{fact}"
        if len(f"cafe24:{mall}:{order_id}:{fact}") <= 128
        else stable_id("cafe24", mall, order_id, fact),
        source=SOURCE,
        type=type_,
        occurred_at=occurred,
        order_id=order_id,
        shipment_id=shipment_id,
        data=data,
    )


def _time(result: MappingResult, what: str, *candidates: object) -> str | None:
    for value in candidates:
        parsed = to_rfc3339(value)
        if parsed is not None:
            return parsed
    result.unmapped.append(f"cafe24 {what}: no timestamp with offset in {truncate(candidates)}")
    return None


def _order_ids(resource: dict[str, Any]) -> list[str]:
    text = as_str(resource.get("order_id")) or ""
    return [p.strip() for p in text.split(",") if p.strip()]


def _marketplace(mall: str, order: dict[str, Any], item_codes: list[str]) -> dict[str, Any]:
    found = {"source": SOURCE, "mall_id": mall, "order_item_codes": item_codes}
    shop_no = as_str(order.get("shop_no")) or as_str(order.get("event_shop_no"))
    if shop_no:
        found["shop_no"] = shop_no
    place = as_str(order.get("order_place_id"))
    if place:
        found["order_place_id"] = place
    return found


def _webhook_created(mall: str, res: dict[str, Any], order_id: str, occurred: str) -> dict[str, Any]:
    codes = [c.strip() for c in (as_str(res.get("ordering_product_code")) or "").split(",") if c.strip()]
    data = {
        "customer": {
            "name": as_str(res.get("buyer_name")),
            "phone": as_str(res.get("buyer_cellphone")) or as_str(res.get("buyer_phone")),
            "email": as_str(res.get("buyer_email")),
            "external_id": as_str(res.get("member_id")),
        },
        "address": {},
        "items": [{"sku": code[:128], "qty": 1} for code in codes],
        "total": _money(res.get("order_price_amount")),
        "currency": as_str(res.get("currency")),
        "channel": CHANNEL,
        "marketplace": _marketplace(mall, res, []),
    }
    return _event(mall, order_id, "created", "order.created", occurred, data)


def _paid(mall: str, order: dict[str, Any], order_id: str, result: MappingResult) -> None:
    if as_str(order.get("paid")) != "T":
        return
    occurred = _time(result, f"order {order_id} payment", order.get("payment_date"), order.get("order_date"))
    if occurred is None:
        return
    methods = order.get("payment_method")
    method = ",".join(m for m in (as_str(x) for x in as_list(methods)) if m) or as_str(methods)
    amount = _money(order.get("actual_payment_amount"))
    if amount is None:
        amount = _money(order.get("payment_amount"))
    data = {"amount": amount, "method": method, "currency": as_str(order.get("currency"))}
    result.events.append(_event(mall, order_id, "paid", "order.paid", occurred, data))


def _map_webhook(payload: Any, result: MappingResult) -> None:
    if not isinstance(payload, dict):
        result.unmapped.append(f"cafe24 webhook: body is not an object: {truncate(payload)}")
        return
    raw_no = payload.get("event_no")
    text = as_str(raw_no) or ""
    event_no = int(text) if text.isdigit() and len(text) < 10 else 0
    res = as_dict(payload.get("resource"))
    mall = as_str(res.get("mall_id")) or "unknown"
    if event_no in PRODUCT_EVENTS:
        return  # product facts are not order events
    if event_no == 90064:
        return  # no address in the body: the push handler asks the Admin API for the receivers
    if event_no == 90162:
        _shipping_code(mall, res, result)
        return
    if event_no == 90071:
        _bulk_delivery(mall, res, result)
        return
    if event_no == 90160:
        _return_completed(mall, res, result)
        return
    type_ = _ORDER_EVENTS.get(event_no)
    if type_ is None:
        result.unmapped.append(f"cafe24 webhook: unknown event_no {truncate(raw_no, 40)}")
        return
    ids = _order_ids(res)
    if not ids:
        result.unmapped.append(f"cafe24 webhook {event_no}: no order_id")
        return
    for order_id in ids:
        _order_fact(mall, event_no, type_, res, order_id, len(ids) > 1, result)


def _order_fact(
    mall: str,
    event_no: int,
    type_: str,
    res: dict[str, Any],
    order_id: str,
    bulk: bool,
    result: MappingResult,
) -> None:
    when = res.get("cancel_date") if type_ == "order.cancelled" else None
    occurred = to_rfc3339(when) or to_rfc3339(res.get("payment_date")) or to_rfc3339(res.get("order_date"))
    if occurred is None and bulk:
        occurred = _time(result, f"{event_no} order {order_id}", res.get("updated_date"))
        if occurred is None:
            # Bulk bodies carry no time at all: the order id's date at KST midnight (the fact is no earlier).
            occurred = f"{order_id[:4]}-{order_id[4:6]}-{order_id[6:8]}T00:00:00+09:00"
            result.unmapped.pop()
    if occurred is None:
        result.unmapped.append(f"cafe24 webhook {event_no} order {order_id}: no timestamp")
        return
    if type_ == "order.created":
        result.events.append(_webhook_created(mall, res, order_id, occurred))
        _paid(mall, res, order_id, result)
    elif type_ == "order.paid":
        _paid(mall, res, order_id, result)
    elif type_ == "order.cancelled":
        reason = {"reason": "cafe24: " + (as_str(res.get("event_code")) or "cancel_order")}
        result.events.append(_event(mall, order_id, "cancelled", type_, occurred, reason))
    elif type_ == "return.refunded":
        result.events.append(_event(mall, order_id, "refunded", type_, occurred, {"amount": None}))
    else:
        codes = [c for c in (as_str(res.get("ordering_product_code")) or "").split(",") if c]
        data: dict[str, Any] = {"items": codes or None, "reason": None}
        fact = "exchange" if type_ == "exchange.requested" else "return"
        result.events.append(_event(mall, order_id, fact, type_, occurred, data))


def _shipping_code(mall: str, res: dict[str, Any], result: MappingResult) -> None:
    number = as_str(res.get("tracking_no"))
    ids = _order_ids(res)
    if not number or not ids:
        result.unmapped.append(f"cafe24 webhook 90162: no tracking_no or order_id in {truncate(res)}")
        return
    shipping_code = as_str(res.get("shipping_code"))
    carrier = hub_carrier(res.get("shipping_company_code"))
    occurred = to_rfc3339(res.get("tracking_no_updated_date")) or _from_shipping_code(shipping_code, ids[0])
    data = {
        "carrier": carrier,
        "tracking_no": number[:64],
        "shipping_company_code": res.get("shipping_company_code"),
    }
    result.events.append(
        _event(
            mall, ids[0], f"waybill:{number[:64]}", "shipment.waybill_created", occurred, data, shipping_code
        )
    )


def _from_shipping_code(shipping_code: str | None, order_id: str) -> str:
    """The date a shipping code (``D-20220723-…``) or order id names, at KST midnight."""
    digits = (shipping_code or "")[2:10] if (shipping_code or "").startswith("D-") else order_id[:8]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T00:00:00+09:00"


def _bulk_delivery(mall: str, res: dict[str, Any], result: MappingResult) -> None:
    code = as_str(res.get("event_code")) or ""
    type_ = DELIVERY_CODES.get(code)
    if type_ is None:
        result.unmapped.append(f"cafe24 webhook 90071: unknown delivery event_code {code!r}")
        return
    fact = "handed_over" if type_ == "shipment.handed_over" else "delivered"
    for order_id in _order_ids(res):
        occurred = _from_shipping_code(None, order_id)
        result.events.append(_event(mall, order_id, fact, type_, occurred, {}))


def _return_completed(mall: str, res: dict[str, Any], result: MappingResult) -> None:
    ids = _order_ids(res)
    if not ids:
        result.unmapped.append("cafe24 webhook 90160: no order_id")
        return
    claim = as_str(res.get("claim_code")) or "return"
    occurred = _from_shipping_code(None, claim[1:] if claim.startswith("C") else ids[0])
    amount = _money(res.get("refund_amount"))
    result.events.append(
        _event(mall, ids[0], f"received:{claim}", "return.received", occurred, {"claim_code": claim})
    )
    result.events.append(
        _event(mall, ids[0], "refunded", "return.refunded", occurred, {"amount": amount, "claim_code": claim})
    )


# ------------------------------------------------------------------------------------- Admin API orders


def _address(receiver: dict[str, Any]) -> dict[str, Any]:
    return {
        "zip": as_str(receiver.get("zipcode")),
        "line1": as_str(receiver.get("address1")),
        "line2": as_str(receiver.get("address2")),
        "country_code": as_str(receiver.get("country_code")),
    }


def _items(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for raw in as_list(order.get("items")):
        item = as_dict(raw)
        sku = (
            as_str(item.get("variant_code"))
            or as_str(item.get("product_code"))
            or as_str(item.get("order_item_code"))
        )
        if sku is None:
            continue
        qty = item.get("quantity")
        ok = isinstance(qty, int) and not isinstance(qty, bool) and 0 <= qty <= 1_000_000
        items.append(
            {
                "sku": sku[:128],
                "qty": qty if ok else 1,
                "price": _money(item.get("product_price")),
                "name": as_str(item.get("product_name")),
                "order_item_code": as_str(item.get("order_item_code")),
            }
        )
    return items


def map_order(mall: str, order: dict[str, Any], result: MappingResult) -> None:
    """One Admin API order (with embedded items/receivers when asked) -> its events."""
    order_id = as_str(order.get("order_id"))
    if order_id is None:
        result.unmapped.append(f"cafe24 order without order_id: {truncate(order)}")
        return
    occurred = _time(result, f"order {order_id}", order.get("order_date"), order.get("payment_date"))
    if occurred is None:
        return
    receivers = [as_dict(r) for r in as_list(order.get("receivers"))]
    buyer = as_dict(order.get("buyer"))
    items = _items(order)
    codes = [i["order_item_code"] for i in items if i.get("order_item_code")]
    data = {
        "customer": {
            "name": as_str(buyer.get("name")) or as_str(order.get("billing_name")),
            "phone": as_str(buyer.get("cellphone")) or as_str(buyer.get("phone")),
            "email": as_str(buyer.get("email")) or as_str(order.get("member_email")),
            "external_id": as_str(order.get("member_id")),
        },
        "address": _address(receivers[0]) if receivers else {},
        "items": [{k: v for k, v in i.items() if k != "order_item_code"} for i in items],
        "total": _money(order.get("payment_amount")),
        "currency": as_str(order.get("currency")),
        "channel": CHANNEL,
        "marketplace": _marketplace(mall, order, codes),
    }
    if receivers and as_str(receivers[0].get("name")):
        data["recipient"] = {
            "name": as_str(receivers[0].get("name")),
            "phone": as_str(receivers[0].get("cellphone")),
        }
    result.events.append(_event(mall, order_id, "created", "order.created", occurred, data))
    _paid(mall, order, order_id, result)
    if as_str(order.get("canceled")) == "T":
        when = _time(result, f"order {order_id} cancel", order.get("cancel_date"), order.get("order_date"))
        if when is not None:
            result.events.append(
                _event(mall, order_id, "cancelled", "order.cancelled", when, {"reason": "cafe24: canceled"})
            )
    for raw in as_list(order.get("items")):
        _item_status(mall, order_id, as_dict(raw), occurred, result)


def _item_status(
    mall: str, order_id: str, item: dict[str, Any], occurred: str, result: MappingResult
) -> None:
    status = as_str(item.get("order_status")) or ""
    number = as_str(item.get("tracking_no"))
    shipping_code = as_str(item.get("shipping_code"))
    item_code = as_str(item.get("order_item_code"))
    when = to_rfc3339(item.get("shipped_date")) or occurred
    if status[:1] == "N" and status >= "N30" and number:
        carrier = hub_carrier(item.get("shipping_company_code"))
        data = {"carrier": carrier, "tracking_no": number[:64]}
        result.events.append(
            _event(
                mall,
                order_id,
                f"waybill:{number[:64]}",
                "shipment.waybill_created",
                when,
                data,
                shipping_code,
            )
        )
        result.events.append(
            _event(
                mall,
                order_id,
                f"handed_over:{number[:64]}",
                "shipment.handed_over",
                when,
                {"carrier": carrier},
                shipping_code,
            )
        )
        if status >= "N40":
            done = to_rfc3339(item.get("delivered_date")) or when
            result.events.append(
                _event(
                    mall, order_id, f"delivered:{number[:64]}", "shipment.delivered", done, {}, shipping_code
                )
            )
    elif status in _CANCELLED:
        result.events.append(
            _event(mall, order_id, "cancelled", "order.cancelled", when, {"reason": "cafe24: " + status})
        )
    elif status[:1] in ("R", "E"):
        claim: dict[str, Any] = {"items": [item_code] if item_code else None}
        claim["reason"] = as_str(item.get("claim_reason"))
        fact, type_ = (
            ("return", "return.requested") if status[:1] == "R" else ("exchange", "exchange.requested")
        )
        result.events.append(_event(mall, order_id, fact, type_, when, claim))
    elif status and status[:1] not in ("N", "C"):
        result.unmapped.append(f"cafe24 order {order_id} item {item_code}: unknown order_status {status!r}")


def map_receivers(mall: str, order_id: str, payload: Any, occurred: str, result: MappingResult) -> None:
    """GET /orders/{id}/receivers -> order.address_changed (id from the address: unchanged is a duplicate)."""
    receivers = [as_dict(r) for r in as_list(as_dict(payload).get("receivers"))]
    if not receivers:
        result.unmapped.append(f"cafe24 receivers of {order_id}: none")
        return
    address = _address(receivers[0])
    fact = stable_id("address", address["zip"], address["line1"], address["line2"])
    result.events.append(
        _event(mall, order_id, fact, "order.address_changed", occurred, {"address": address})
    )


def _map_shipments(mall: str, payload: dict[str, Any], result: MappingResult) -> None:
    for raw in as_list(payload.get("shipments")):
        shipment = as_dict(raw)
        order_id = as_str(shipment.get("order_id"))
        number = as_str(shipment.get("tracking_no"))
        if order_id is None or number is None:
            result.unmapped.append(f"cafe24 shipment without order_id/tracking_no: {truncate(shipment)}")
            continue
        code = as_str(shipment.get("shipping_code"))
        when = to_rfc3339(shipment.get("tracking_no_updated_date")) or _from_shipping_code(code, order_id)
        data = {"carrier": hub_carrier(shipment.get("shipping_company_code")), "tracking_no": number[:64]}
        result.events.append(
            _event(mall, order_id, f"waybill:{number[:64]}", "shipment.waybill_created", when, data, code)
        )


_CLAIMS: dict[str, tuple[str, str]] = {
    "cancellation": ("order.cancelled", "cancelled"),
    "return": ("return.requested", "return"),
    "exchange": ("exchange.requested", "exchange"),
    "refund": ("return.refunded", "refunded"),
    "refunds": ("return.refunded", "refunded"),
}


def _claim(mall: str, key: str, claim: dict[str, Any], result: MappingResult) -> None:
    """A claim resource (GET /cancellation|return|exchange/{claim_code}, GET /refunds) -> its event."""
    type_, fact = _CLAIMS[key]
    order_id = as_str(claim.get("order_id"))
    if order_id is None:
        result.unmapped.append(f"cafe24 {key} without order_id: {truncate(claim)}")
        return
    code = as_str(claim.get("claim_code")) or as_str(claim.get("refund_code")) or ""
    stamp = code[1:] if code[:1] in ("B", "C") else order_id
    occurred = to_rfc3339(claim.get("refund_date")) or to_rfc3339(claim.get("cancel_date"))
    occurred = occurred or _from_shipping_code(None, stamp)
    reason = as_str(claim.get("claim_reason")) or as_str(claim.get("refund_reason"))
    items = [as_str(as_dict(i).get("order_item_code")) for i in as_list(claim.get("items"))]
    data: dict[str, Any]
    if type_ == "return.refunded":
        if as_str(claim.get("status")) not in (None, "T", "complete"):
            return  # a refund not yet paid out
        amount = _money(claim.get("refund_amount"))
        data = {"amount": amount if amount is not None else _money(claim.get("actual_refund_amount"))}
    elif type_ == "order.cancelled":
        data = {"reason": reason or "cafe24: cancellation"}
    else:
        data = {"items": [i for i in items if i] or None, "reason": reason}
    data["claim_code"] = code or None
    result.events.append(_event(mall, order_id, fact, type_, occurred, data))


def _map_response(payload: Any, result: MappingResult, *, mall: str, order_id: str | None) -> None:
    body = as_dict(payload)
    claims = [k for k in _CLAIMS if k in body]
    if claims:
        value = body[claims[0]]
        for claim in value if isinstance(value, list) else [value]:
            _claim(mall, claims[0], as_dict(claim), result)
    elif isinstance(body.get("items"), list):
        for raw in body["items"]:
            item = as_dict(raw)
            code = as_str(item.get("order_item_code")) or ""
            owner = order_id or code.rsplit("-", 1)[0]
            when = to_rfc3339(item.get("ordered_date")) or _from_shipping_code(None, owner)
            _item_status(mall, owner, item, when, result)
    elif isinstance(body.get("order"), dict):
        map_order(mall, body["order"], result)
    elif isinstance(body.get("orders"), list):
        for order in body["orders"]:
            map_order(mall, as_dict(order), result)
    elif isinstance(body.get("shipments"), list) or isinstance(body.get("fulfillments"), list):
        _map_shipments(mall, {"shipments": body.get("shipments") or body.get("fulfillments")}, result)
    elif isinstance(body.get("receivers"), list) and order_id:
        occurred = to_rfc3339(as_dict(payload).get("updated_date")) or _from_shipping_code(None, order_id)
        map_receivers(mall, order_id, payload, occurred, result)
    else:
        result.unmapped.append(f"cafe24: not an order, shipment or webhook body: {truncate(payload)}")


def _unique(result: MappingResult) -> MappingResult:
    """The same fact seen twice in one payload (two items of one parcel) is one event."""
    seen: set[str] = set()
    events = []
    for event in result.events:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            events.append(event)
    result.events = events
    return result


def map_webhook(payload: Any) -> MappingResult:
    """Map one Cafe24 webhook body ``{event_no, resource}``; never raises."""
    return _unique(guarded("cafe24 webhook", _map_webhook, payload))


def map_response(payload: Any, *, mall: str = "unknown", order_id: str | None = None) -> MappingResult:
    """Map one Admin API response (orders list, one order, shipments, receivers); never raises."""
    return _unique(guarded("cafe24 admin api", _map_response, payload, mall=mall, order_id=order_id))


def map_payload(
    payload: Any, *, order_id: str | None = None, mall: str | None = None, **_: Any
) -> MappingResult:
    """A webhook body (has ``event_no``) or an Admin API response (registry, ``connectors replay``)."""
    if isinstance(payload, dict) and "event_no" in payload:
        return map_webhook(payload)
    return map_response(payload, mall=mall or "unknown", order_id=order_id)
