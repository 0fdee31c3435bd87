"""The seven-step order lifecycle's tables: the stages, which event reaches which stage or side state,
and the `StageReached` domain event. The state machine that moves an order is `domain.order.Order.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

STAGES = (
    "received",
    "stock_confirmed",
    "picked_packed",
    "waybill_created",
    "handed_over",
    "in_transit",
    "out_for_delivery",
    "delivered",
)
SIDE_STATES = ("cancelled", "delivery_failed", "returned")
STAGE_RANK = {name: rank for rank, name in enumerate(STAGES)}
PARCEL_STAGES = frozenset(STAGES[STAGE_RANK["waybill_created"] :])
# Stages a customer is told about (notification automation / missing-notice KPIs).
CUSTOMER_FACING_STAGES = frozenset(
    {
        "received",
        "waybill_created",
        "handed_over",
        "out_for_delivery",
        "delivered",
        "cancelled",
        "delivery_failed",
    }
)

_EVENT_STAGE = {
    "order.created": "received",
    "inventory.reserved": "stock_confirmed",
    "fulfillment.picked": "picked_packed",
    "fulfillment.packed": "picked_packed",
    "shipment.waybill_created": "waybill_created",
    "shipment.handed_over": "handed_over",
    "shipment.delivered": "delivered",
}
_TRACKING_STAGE = {
    "info_received": None,
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "available_for_pickup": "out_for_delivery",
}
_EVENT_SIDE_STATE = {
    "order.cancelled": "cancelled",
    "shipment.delivery_failed": "delivery_failed",
    "return.received": "returned",
    "return.refunded": "returned",
}


def stage_of(event_type: str, data: dict[str, Any]) -> str | None:
    """The main stage an event reaches, if any."""
    if event_type == "shipment.tracking":
        return _TRACKING_STAGE.get(str(data.get("status") or ""))
    return _EVENT_STAGE.get(event_type)


def side_state_of(event_type: str, data: dict[str, Any]) -> str | None:
    """The side state (cancelled, delivery_failed, returned) an event puts the order in, if any."""
    if event_type == "shipment.tracking" and data.get("status") == "attempt_fail":
        return "delivery_failed"
    return _EVENT_SIDE_STATE.get(event_type)


@dataclass
class StageReached:
    """Domain event: the order reached a stage (or a side state) at `at`."""

    order_id: str
    stage: str
    at: datetime
    source: str
    automatic: bool
    previous: str | None
    current: bool  # False when a late event fills in an earlier stage without moving the order
