"""Pure mapping of one Olist order (with its items, customer, payments, reviews) to canonical events.

Decisions (see also the package docstring):
* timestamps are naive local times in the import zone; a time inside a DST gap is read with the offset
  in force before the change (zoneinfo fold=0), a repeated time as its first occurrence;
* `survey.answered` and the review's `ticket.created` happen at `review_answer_timestamp` (when the
  customer answered); `review_creation_date` (always midnight: when Olist sent the survey) is the
  fallback and is kept in `data.survey_sent_at`;
* `order.cancelled` has no timestamp in Olist: it takes the latest timestamp the order has, and says so
  with `data.occurred_at_inferred = true`;
* one parcel per order: shipment events carry `shipment_id = order_id`;
* event ids are `olist:{order_id}:{type}` (`...:{review_id}` for review events), stable across runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from deliveryhub.adapters.connectors.olist.anomalies import ImportAnomalies

SOURCE = "import:olist"
CHANNEL = "olist"
CARRIER = "olist"
CURRENCY = "BRL"
# statuses that imply the payment was approved
_PAST_APPROVAL = frozenset({"approved", "invoiced", "processing", "shipped", "delivered"})
_SHIPPED = frozenset({"shipped", "delivered"})

Row = Mapping[str, str]
Event = dict[str, Any]


@dataclass(frozen=True)
class Product:
    category: str | None
    category_en: str | None


@dataclass(frozen=True)
class Seller:
    zip: str
    city: str
    state: str


def parse_local(value: str, tz: ZoneInfo, order_id: str, anomalies: ImportAnomalies) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' local time → aware datetime in `tz`; None for empty or unparseable cells."""
    value = value.strip()
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        anomalies.add("unparseable_timestamp", order_id)
        return None
    if naive.tzinfo is not None:
        return naive
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        anomalies.add("nonexistent_local_time", order_id)
    elif aware.utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset():
        anomalies.add("ambiguous_local_time", order_id)
    return aware


def parse_amount(value: str, order_id: str, anomalies: ImportAnomalies) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        anomalies.add("unparseable_number", order_id)
        return None


def _event(
    type_: str, at: datetime, order_id: str, data: dict[str, Any], *, shipment: bool = False, suffix: str = ""
) -> Event:
    return {
        "event_id": f"olist:{order_id}:{type_}{':' + suffix if suffix else ''}",
        "source": SOURCE,
        "type": type_,
        "occurred_at": at.isoformat(),
        "order_id": order_id,
        "shipment_id": order_id if shipment else None,
        "data": data,
    }


def _item_no(row: Row) -> int:
    value = (row.get("order_item_id") or "").strip()
    return int(value) if value.isdigit() else 0


def _utc(at: datetime) -> datetime:
    # aware datetimes sharing one ZoneInfo compare by wall time; compare instants instead
    return at.astimezone(UTC)


def _items(
    rows: Sequence[Row], order_id: str, anomalies: ImportAnomalies
) -> tuple[list[dict[str, Any]], float, float, list[Row]]:
    """Item lines aggregated by (product_id, unit price) in item order; sums of price and freight."""
    ordered = sorted(rows, key=_item_no)
    lines: dict[tuple[str, float | None], dict[str, Any]] = {}
    price_sum = freight_sum = 0.0
    for row in ordered:
        price = parse_amount(row.get("price", ""), order_id, anomalies)
        freight = parse_amount(row.get("freight_value", ""), order_id, anomalies)
        price_sum += price or 0.0
        freight_sum += freight or 0.0
        key = (row.get("product_id", ""), price)
        if key in lines:
            lines[key]["qty"] += 1
        else:
            lines[key] = {"sku": key[0], "qty": 1, "price": price, "seller_id": row.get("seller_id") or None}
    return list(lines.values()), round(price_sum, 2), round(freight_sum, 2), ordered


def map_order(
    order: Row,
    *,
    tz: ZoneInfo,
    items: Sequence[Row] = (),
    customer: Row | None = None,
    payments: Sequence[Row] = (),
    reviews: Sequence[Row] = (),
    products: Mapping[str, Product] | None = None,
    sellers: Mapping[str, Seller] | None = None,
    has_items_table: bool = True,
    anomalies: ImportAnomalies | None = None,
) -> list[Event]:
    """All canonical events of one order, in a natural order (created, paid, handed over, delivered,
    cancelled, cost, then per review survey.answered and ticket.created)."""
    an = anomalies if anomalies is not None else ImportAnomalies()
    oid = order["order_id"].strip()
    status = (order.get("order_status") or "").strip()
    purchased = parse_local(order.get("order_purchase_timestamp", ""), tz, oid, an)
    approved = parse_local(order.get("order_approved_at", ""), tz, oid, an)
    handed = parse_local(order.get("order_delivered_carrier_date", ""), tz, oid, an)
    delivered = parse_local(order.get("order_delivered_customer_date", ""), tz, oid, an)
    estimated = parse_local(order.get("order_estimated_delivery_date", ""), tz, oid, an)

    _check_anomalies(oid, status, purchased, approved, handed, delivered, an)

    lines, price_sum, freight_sum, ordered_items = _items(items, oid, an)
    pay_values = [parse_amount(p.get("payment_value", ""), oid, an) for p in payments]
    pay_total = round(sum(v for v in pay_values if v is not None), 2) if payments else None
    total: float | None
    if ordered_items:
        total = round(price_sum + freight_sum, 2)
    else:
        total = pay_total
        if has_items_table:
            an.add("order_without_items", oid)

    events: list[Event] = []
    if purchased is not None:
        events.append(
            _event(
                "order.created",
                purchased,
                oid,
                _created_data(
                    order,
                    status,
                    customer,
                    lines,
                    ordered_items,
                    total,
                    pay_total,
                    estimated,
                    products,
                    sellers,
                    oid,
                    an,
                ),
            )
        )
    else:
        an.add("missing_purchase_timestamp", oid)

    if approved is not None:
        first = min(payments, key=lambda p: p.get("payment_sequential", ""), default=None)
        paid: dict[str, Any] = {
            "amount": pay_total if pay_total is not None else total,
            "method": (first.get("payment_type") or None) if first else None,
            "currency": CURRENCY,
        }
        if first and first.get("payment_installments", "").strip().isdigit():
            paid["installments"] = int(first["payment_installments"])
        if len({p.get("payment_type") for p in payments}) > 1:
            paid["methods"] = sorted({p.get("payment_type", "") for p in payments})
        events.append(_event("order.paid", approved, oid, paid))
    if handed is not None:
        events.append(_event("shipment.handed_over", handed, oid, {"carrier": CARRIER}, shipment=True))
    if delivered is not None:
        events.append(_event("shipment.delivered", delivered, oid, {"carrier": CARRIER}, shipment=True))
    if status == "canceled":
        known = [t for t in (purchased, approved, handed, delivered) if t is not None]
        if known:
            events.append(
                _event(
                    "order.cancelled",
                    max(known, key=_utc),
                    oid,
                    {"reason": "olist status canceled", "occurred_at_inferred": True},
                )
            )
    if ordered_items and purchased is not None:
        cost = {"kind": "shipping", "amount": freight_sum, "currency": CURRENCY}
        events.append(_event("cost.recorded", purchased, oid, cost))

    seen_reviews: set[str] = set()
    for review in reviews:
        rid = review.get("review_id", "").strip()
        if rid in seen_reviews:
            continue
        seen_reviews.add(rid)
        events.extend(_review_events(review, rid, oid, tz, an))
    return events


def _check_anomalies(
    oid: str,
    status: str,
    purchased: datetime | None,
    approved: datetime | None,
    handed: datetime | None,
    delivered: datetime | None,
    an: ImportAnomalies,
) -> None:
    if status == "canceled" and delivered is not None:
        an.add("canceled_with_delivery", oid)
    if purchased is not None:
        if handed is not None and _utc(handed) < _utc(purchased):
            an.add("handover_before_purchase", oid)
        if approved is not None and _utc(approved) < _utc(purchased):
            an.add("approved_before_purchase", oid)
        if delivered is not None and _utc(delivered) < _utc(purchased):
            an.add("delivered_before_purchase", oid)
    if handed is not None and delivered is not None and _utc(delivered) < _utc(handed):
        an.add("delivered_before_handover", oid)
    if status == "delivered" and delivered is None:
        an.add("delivered_without_date", oid)
    if status in _SHIPPED and handed is None:
        an.add("shipped_without_handover", oid)
    if status in _PAST_APPROVAL and approved is None:
        an.add("missing_approved_at", oid)


def _created_data(
    order: Row,
    status: str,
    customer: Row | None,
    lines: list[dict[str, Any]],
    ordered_items: list[Row],
    total: float | None,
    pay_total: float | None,
    estimated: datetime | None,
    products: Mapping[str, Product] | None,
    sellers: Mapping[str, Seller] | None,
    oid: str,
    an: ImportAnomalies,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": {"customer_id": order.get("customer_id", "").strip() or None},
        "items": lines,
        "total": total,
        "currency": CURRENCY,
        "channel": CHANNEL,
        "olist_status": status,
    }
    if customer is not None:
        data["customer"]["external_id"] = customer.get("customer_unique_id") or None
        state = (customer.get("customer_state") or "").strip() or None
        data["address"] = {
            "zip": (customer.get("customer_zip_code_prefix") or "").strip() or None,
            "city": (customer.get("customer_city") or "").strip() or None,
            "state": state,
        }
        data["region"] = state
    else:
        an.add("order_without_customer", oid)
    if pay_total is not None:
        data["payment_total"] = pay_total
    if estimated is not None:
        data["promised_delivery_date"] = estimated.date().isoformat()
    if ordered_items:
        first = ordered_items[0]
        data["warehouse"] = first.get("seller_id") or None
        if products is not None:
            product = products.get(first.get("product_id", ""))
            if product is None:
                an.add("unknown_product", oid)
            else:
                data["category"] = product.category
                if product.category_en:
                    data["category_en"] = product.category_en
        if sellers is not None:
            seller = sellers.get(first.get("seller_id", ""))
            if seller is not None:
                data["origin"] = {"zip": seller.zip, "city": seller.city, "state": seller.state}
    return data


def _review_events(review: Row, rid: str, oid: str, tz: ZoneInfo, an: ImportAnomalies) -> list[Event]:
    created = parse_local(review.get("review_creation_date", ""), tz, oid, an)
    answered = parse_local(review.get("review_answer_timestamp", ""), tz, oid, an)
    at = answered or created
    if at is None:
        return []
    score_s = (review.get("review_score") or "").strip()
    score = int(score_s) if score_s.isdigit() else None
    title = (review.get("review_comment_title") or "").strip()
    message = (review.get("review_comment_message") or "").strip()
    out: list[Event] = []
    if score is not None and 1 <= score <= 5:
        data: dict[str, Any] = {"csat": score, "review_id": rid, "channel": "review"}
        if message or title:
            data["comment"] = message or title
        if title:
            data["title"] = title
        if created is not None:
            data["survey_sent_at"] = created.isoformat()
        out.append(_event("survey.answered", at, oid, data, suffix=rid))
    else:
        an.add("review_without_score", oid)
    if message or title:
        subject = title or _subject(message)
        out.append(
            _event(
                "ticket.created",
                at,
                oid,
                {
                    "channel": "review",
                    "subject": subject,
                    "text": message or title,
                    "review_id": rid,
                    "csat": score,
                },
                suffix=rid,
            )
        )
    return out


def _subject(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
