"""Data-quality findings collected while importing Olist; the import keeps the data as it is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_EXAMPLES = 5

DESCRIPTIONS: dict[str, str] = {
    "canceled_with_delivery": "status canceled but the order has a customer delivery date",
    "handover_before_purchase": "carrier handover earlier than the purchase",
    "approved_before_purchase": "payment approval earlier than the purchase",
    "delivered_before_handover": "delivered to the customer before the carrier handover",
    "delivered_before_purchase": "delivered to the customer before the purchase",
    "delivered_without_date": "status delivered but no customer delivery date",
    "shipped_without_handover": "status shipped/delivered but no carrier handover date",
    "missing_approved_at": "status past approval but no approval timestamp",
    "missing_purchase_timestamp": "no usable purchase timestamp: order.created not emitted",
    "unparseable_timestamp": "a timestamp cell that is not YYYY-MM-DD HH:MM:SS (cell ignored)",
    "unparseable_number": "a price/freight/payment cell that is not a number (cell ignored)",
    "nonexistent_local_time": "local time inside a DST gap (read with the offset before the change)",
    "ambiguous_local_time": "local time repeated by a DST change (read as the first occurrence)",
    "order_without_items": "order has no order_items rows (total taken from payments when present)",
    "order_without_customer": "order's customer_id not found in customers",
    "unknown_product": "an item's product_id not found in products",
    "orphan_item": "order_items row for an order not in orders (skipped)",
    "orphan_review": "review row for an order not in orders (skipped)",
    "review_without_score": "review_score is not 1-5 (survey.answered not emitted)",
    "review_id_shared": "the same review_id is attached to several orders (kept once per order)",
    "duplicate_order_row": "the same order_id appears twice in orders (second row skipped)",
}


@dataclass
class ImportAnomalies:
    """Counts per anomaly kind plus up to MAX_EXAMPLES example order ids for each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, order_id: str) -> None:
        self.counts[kind] += 1
        ex = self.examples.setdefault(kind, [])
        if len(ex) < MAX_EXAMPLES and order_id not in ex:
            ex.append(order_id)

    def merge(self, other: ImportAnomalies) -> None:
        for kind, n in other.counts.items():
            self.counts[kind] += n
            ex = self.examples.setdefault(kind, [])
            for oid in other.examples.get(kind, []):
                if len(ex) < MAX_EXAMPLES and oid not in ex:
                    ex.append(oid)

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, dict[str, object]]:
        """JSON-friendly: {kind: {"count", "description", "examples"}}, most frequent first."""
        return {
            kind: {
                "count": n,
                "description": DESCRIPTIONS.get(kind, kind),
                "examples": list(self.examples.get(kind, [])),
            }
            for kind, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        }
