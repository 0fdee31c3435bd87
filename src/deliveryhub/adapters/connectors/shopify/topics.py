"""Does a Shopify webhook body fit its X-Shopify-Topic? (pure)

Shopify's HMAC covers the body only: the topic and the webhook id travel in unsigned headers. So a signed
body must carry the facts its topic claims (``orders/cancelled`` carries ``cancelled_at``, a fulfilment
carries its order and status, ...), and a body already received under one topic may only come back under a
topic Shopify really sends with an identical body (see ``may_share_body``).
"""

from __future__ import annotations

from typing import Any

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/edited",
    }
)
_ORDER_MARKERS = ("line_items", "order_number", "financial_status", "total_price")


def _present(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return value is not None and value != "" and value != []


def mismatch(topic: str, body: Any) -> tuple[str, str] | None:
    """(field, reason) when the body cannot be a ``topic`` webhook; None when it fits or is not checked."""
    if not isinstance(body, dict):
        return "body", "a webhook body must be a JSON object"
    if topic in ORDER_TOPICS:
        if not _present(body, "id") or not any(k in body for k in _ORDER_MARKERS):
            return "body", f"{topic} needs an order object (id, line_items, ...)"
        if "order_id" in body:
            return "body", f"{topic} carries an order, not an object that refers to one (order_id)"
        if topic == "orders/cancelled" and not _present(body, "cancelled_at"):
            return "cancelled_at", "orders/cancelled needs cancelled_at"
        if topic == "orders/paid" and body.get("financial_status") not in ("paid", "partially_paid"):
            return "financial_status", "orders/paid needs financial_status paid or partially_paid"
        if topic == "orders/fulfilled" and body.get("fulfillment_status") != "fulfilled":
            return "fulfillment_status", "orders/fulfilled needs fulfillment_status fulfilled"
        if topic == "orders/partially_fulfilled" and body.get("fulfillment_status") != "partial":
            return "fulfillment_status", "orders/partially_fulfilled needs fulfillment_status partial"
        return None
    needs: dict[str, tuple[str, ...]] = {
        "fulfillments/create": ("id", "order_id", "status"),
        "fulfillments/update": ("id", "order_id", "status"),
        "fulfillment_events/create": ("id", "order_id", "fulfillment_id", "status"),
        "refunds/create": ("id", "order_id", "transactions"),
        "order_transactions/create": ("id", "order_id", "kind", "status"),
    }
    for key in needs.get(topic, ()):
        if body.get(key) is None or body.get(key) == "":  # an empty list is a fact (a refund without money)
            return key, f"{topic} needs {key}"
    if topic in needs and any(k in body for k in ("financial_status", "order_number")):
        return "body", f"{topic} carries an order object, not a {topic.split('/')[0]} object"
    return None


def may_share_body(earlier: str, topic: str) -> bool:
    """Whether Shopify can send the identical body under both topics.

    Order topics share bodies freely (an order created paid and fulfilled at a till fires create, paid and
    fulfilled with one body; ``orders/updated`` accompanies every change) except ``orders/cancelled``: a
    cancellation changes the order, so its body can only match the ``orders/updated`` sent with it.
    """
    if earlier == topic:
        return True
    if earlier not in ORDER_TOPICS or topic not in ORDER_TOPICS:
        return False
    if "orders/cancelled" in (earlier, topic):
        return "orders/updated" in (earlier, topic)
    return True
