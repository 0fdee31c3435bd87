"""The orders the order-action tests act on, and the keyword classifier the chatbot tests talk to (import
with `from actions_kit import ...`).

    seed_orders(hub, CUSTOMER, {"sku": "SKU-MUG", "qty": 2, "price": 12000},
                packed=PACKED, delivered=(DELIVERED, "600100200501"))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from dh_testkit import carrier_event, drain, event, handed_over, order_created, waybill

# (pattern, intent, confidence, escalate): the first pattern found in the text names the intent.
Rule = tuple[str, str, float, bool]


def keyword_classifier(rules: Sequence[Rule]) -> Callable[[str], dict[str, Any]]:
    """A stub NLU: keyword rules ("other" at 0.2 when none matches); order numbers and four-digit
    answers as entities."""

    def classify(text: str) -> dict[str, Any]:
        ents: dict[str, Any] = {}
        m = re.search(r"ORD-\d{4}-\d{6}", text)
        if m:
            ents["order_id"] = m.group(0)
        if re.fullmatch(r"\d{4}", text.strip()):
            ents["phone_last4"] = text.strip()
        for rx, intent, conf, esc in rules:
            if re.search(rx, text):
                return {"text": text, "intent": intent, "confidence": conf, "escalate": esc, "entities": ents}
        return {"text": text, "intent": "other", "confidence": 0.2, "escalate": False, "entities": ents}

    return classify


def _handed_over(
    prefix: str, order_id: str, day: str, customer: dict[str, Any], items: list[dict[str, Any]], no: str
) -> list[dict[str, Any]]:
    """Ordered at 08:00 KST on `day`, CJ waybill `no` at 09:00, handed over at 13:00."""
    return [
        order_created(f"{prefix}1", order_id, f"{day}T08:00:00+09:00", customer, items=items),
        waybill(f"{prefix}2", order_id, f"{day}T09:00:00+09:00", "cj", no),
        handed_over(f"{prefix}3", order_id, f"{day}T13:00:00+09:00", "cj"),
    ]


def seed_orders(
    hub: Any,
    customer: dict[str, Any],
    item: dict[str, Any],
    *,
    packed: str,
    delivered: tuple[str, str],
    shipped: tuple[str, str] | None = None,
) -> None:
    """Ingest and drain the customer's orders of one item: `packed` (ordered 2026-11-20 08:00 KST, packed
    08:30), optionally `shipped` (ordered 18 Nov, handed over), and `delivered` (ordered 10 Nov, handed over,
    delivered 12 Nov 15:00 KST); `shipped` and `delivered` are (order id, CJ waybill number). Event ids:
    a* the packed order, then b*, c* in that order."""
    items = [item]
    batch = [
        order_created("a1", packed, "2026-11-20T08:00:00+09:00", customer, items=items),
        event("a2", "fulfillment.packed", packed, "2026-11-20T08:30:00+09:00", {}, source="wms"),
    ]
    prefixes = iter("bc")
    if shipped is not None:
        batch += _handed_over(next(prefixes), shipped[0], "2026-11-18", customer, items, shipped[1])
    p, (order_id, no) = next(prefixes), delivered
    batch += _handed_over(p, order_id, "2026-11-10", customer, items, no)
    batch.append(
        carrier_event(
            f"{p}4", "shipment.delivered", order_id, "2026-11-12T15:00:00+09:00", "cj", {"carrier": "cj"}
        )
    )
    hub.ingest.ingest(batch)
    drain(hub)
