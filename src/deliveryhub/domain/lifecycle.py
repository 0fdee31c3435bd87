"""The seven-step order lifecycle: which event reaches which stage, and how an order's stage moves.

Events may arrive late, twice or out of order. The stage only moves forward (by rank); every stage's
timestamp is the earliest event that reached it, so the timeline stays in occurred_at order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class ParcelState:
    """One parcel of an order as far as the lifecycle is concerned."""

    shipment_id: str
    rank: int = -1
    carrier: str | None = None
    tracking_no: str | None = None
    status: str | None = None
    status_at: datetime | None = None
    handed_over_at: datetime | None = None
    delivered_at: datetime | None = None
    last_event_at: datetime | None = None
    eta_min: datetime | None = None
    eta_max: datetime | None = None
    changed: bool = False


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


@dataclass
class OrderState:
    """An order's lifecycle state, rebuilt from projections and advanced by canonical events."""

    order_id: str
    stage: str | None = None
    rank: int = -1
    side_state: str | None = None
    side_state_at: datetime | None = None
    stage_at: datetime | None = None
    stage_times: dict[str, datetime] = field(default_factory=dict)
    parcels: dict[str, ParcelState] = field(default_factory=dict)
    last_event_at: datetime | None = None
    delivered_at: datetime | None = None
    new_transitions: list[StageReached] = field(default_factory=list)

    @property
    def current_stage(self) -> str | None:
        """The side state if it is newer than the furthest main stage, else the main stage."""
        if self.side_state and (
            self.stage_at is None or (self.side_state_at and self.side_state_at >= self.stage_at)
        ):
            return self.side_state
        return self.stage

    def parcel(self, shipment_id: str) -> ParcelState:
        """The parcel with this id, created on first sight."""
        if shipment_id not in self.parcels:
            self.parcels[shipment_id] = ParcelState(shipment_id=shipment_id)
        return self.parcels[shipment_id]

    def apply(
        self,
        event_type: str,
        data: dict[str, Any],
        at: datetime,
        source: str,
        automatic: bool,
        shipment_id: str | None = None,
    ) -> list[StageReached]:
        """Advance the state by one event; returns the stage transitions it caused."""
        before = self.current_stage
        reached: list[StageReached] = []
        if self.last_event_at is None or at > self.last_event_at:
            self.last_event_at = at
        stage = stage_of(event_type, data)
        parcel: ParcelState | None = None
        if event_type.startswith("shipment.") or stage in PARCEL_STAGES:
            parcel = self.parcel(shipment_id or self.order_id)
            self._update_parcel(parcel, event_type, data, at, stage)
        if stage is not None:
            reached.extend(self._reach(stage, at, source, automatic, parcel))
        side = side_state_of(event_type, data)
        if side is not None:
            reached.extend(self._reach_side(side, at, source, automatic))
        after = self.current_stage
        for t in reached:
            t.previous = before
            t.current = t.current and after == t.stage and before != after
        self.new_transitions.extend(reached)
        return reached

    def _update_parcel(
        self, parcel: ParcelState, event_type: str, data: dict[str, Any], at: datetime, stage: str | None
    ) -> None:
        parcel.changed = True
        if parcel.last_event_at is None or at > parcel.last_event_at:
            parcel.last_event_at = at
        if data.get("carrier"):
            parcel.carrier = str(data["carrier"])
        if data.get("tracking_no"):
            parcel.tracking_no = str(data["tracking_no"])
        status = data.get("status") if event_type == "shipment.tracking" else None
        if event_type == "shipment.delivered":
            status = "delivered"
        elif event_type == "shipment.delivery_failed":
            status = "attempt_fail"
        elif event_type == "shipment.waybill_created" and parcel.status is None:
            status = "info_received"
        elif event_type == "shipment.handed_over" and parcel.status in (None, "pending", "info_received"):
            status = "in_transit"
        if status and (parcel.status_at is None or at >= parcel.status_at):
            parcel.status, parcel.status_at = str(status), at
        if event_type == "shipment.handed_over" and (
            parcel.handed_over_at is None or at < parcel.handed_over_at
        ):
            parcel.handed_over_at = at
        if stage == "delivered" and (parcel.delivered_at is None or at < parcel.delivered_at):
            parcel.delivered_at = at
        if event_type == "shipment.eta_updated" or (data.get("eta_min") and data.get("eta_max")):
            parcel.eta_min = _as_dt(data.get("eta_min")) or parcel.eta_min
            parcel.eta_max = _as_dt(data.get("eta_max")) or parcel.eta_max
        if stage is not None:
            parcel.rank = max(parcel.rank, STAGE_RANK[stage])

    def _reach(
        self, stage: str, at: datetime, source: str, automatic: bool, parcel: ParcelState | None
    ) -> list[StageReached]:
        out: list[StageReached] = []
        # A shipping stage counts for the order once every known parcel has reached it.
        if parcel is None:
            effective_rank = STAGE_RANK[stage]
        else:
            effective_rank = min(p.rank for p in self.parcels.values())
        known = self.stage_times.get(stage)
        if STAGE_RANK[stage] <= effective_rank and (known is None or at < known):
            # Never invent timestamps: only the event's own stage is recorded, at its occurred_at.
            self.stage_times[stage] = at
            out.append(StageReached(self.order_id, stage, at, source, automatic, None, known is None))
        if effective_rank > self.rank:
            self.rank = effective_rank
            self.stage = STAGES[effective_rank]
            self.stage_at = self.stage_times.get(self.stage, at)
        if stage == "delivered":
            times = [p.delivered_at for p in self.parcels.values()]
            if times and all(times):
                self.delivered_at = max(t for t in times if t is not None)
        return out

    def _reach_side(self, side: str, at: datetime, source: str, automatic: bool) -> list[StageReached]:
        known = self.stage_times.get(side)
        if side == "delivery_failed" and self.stage_at and self.rank >= STAGE_RANK["delivered"]:
            # A failed attempt reported after the delivery does not undo the delivery.
            if known is None:
                self.stage_times[side] = at
            return []
        if self.side_state_at is None or at >= self.side_state_at:
            self.side_state, self.side_state_at = side, at
        if known is None or at < known:
            self.stage_times[side] = at
            return [StageReached(self.order_id, side, at, source, automatic, None, known is None)]
        return []


def _as_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
