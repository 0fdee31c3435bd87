"""The one order type: an order with its stage timeline and parcels, as ingest advances it and as
monitors, views and chat read it (loaded by `adapters/persistence/orders.py`).

`Order.apply` is the lifecycle state machine (domain/lifecycle.py holds its tables): events may arrive
late, twice or out of order; the stage only moves forward (by rank) and every stage's timestamp is the
earliest event that reached it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from deliveryhub.domain.lifecycle import (
    PARCEL_STAGES,
    STAGE_RANK,
    STAGES,
    StageReached,
    side_state_of,
    stage_of,
)
from deliveryhub.kernel.timefmt import parse_datetime

CLOSED_SIDE_STATES = frozenset({"cancelled", "returned"})


def parcel_rank(status: str | None) -> int:
    """The lifecycle rank a stored parcel status stands for (a parcel exists once it has a waybill)."""
    stage = stage_of("shipment.tracking", {"status": status}) if status else None
    return STAGE_RANK[stage] if stage else STAGE_RANK["waybill_created"]


@dataclass
class Parcel:
    """One parcel (shipment) of an order."""

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
    changed: bool = False  # touched by `Order.apply` since it was loaded (ingest writes only these)


@dataclass
class Order:
    """An order: its projection row, stage timeline (`stages`: stage → earliest time) and parcels.

    `stage` is the stored stage (the side state when that is newer); `stage_rank` the furthest main
    stage's rank, -1 before the first one."""

    order_id: str
    stage: str | None = None
    stage_rank: int = -1
    stage_at: datetime | None = None
    side_state: str | None = None
    side_state_at: datetime | None = None
    customer_id: str | None = None
    channel: str | None = None
    total: float | None = None
    warehouse: str | None = None
    region: str | None = None
    category: str | None = None
    promised_date: date | None = None
    created_at: datetime | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    delivered_at: datetime | None = None
    last_event_at: datetime | None = None
    stages: dict[str, datetime] = field(default_factory=dict)
    parcels: list[Parcel] = field(default_factory=list)  # in shipment id order
    new_transitions: list[StageReached] = field(default_factory=list)

    # ------------------------------------------------------------------ read side
    @property
    def current_stage(self) -> str | None:
        """The side state if it is newer than the furthest main stage, else the main stage."""
        if self.side_state and (
            self.stage_at is None or (self.side_state_at and self.side_state_at >= self.stage_at)
        ):
            return self.side_state
        return self.stage

    @property
    def carrier(self) -> str | None:
        """The carrier of the (first) parcel."""
        return next((p.carrier for p in self.parcels if p.carrier), None)

    @property
    def closed(self) -> bool:
        """Cancelled or returned orders are not watched any more."""
        return self.cancelled_at is not None or self.side_state in CLOSED_SIDE_STATES

    def reached(self, stage: str) -> bool:
        """Whether the order reached `stage` (or a later one)."""
        return stage in self.stages or self.stage_rank >= STAGE_RANK[stage]

    def find_parcel(self, shipment_id: str) -> Parcel | None:
        """The parcel with this id, if known."""
        return next((p for p in self.parcels if p.shipment_id == shipment_id), None)

    def parcel(self, shipment_id: str) -> Parcel:
        """The parcel with this id, created on first sight."""
        found = self.find_parcel(shipment_id)
        if found is None:
            found = Parcel(shipment_id=shipment_id)
            self.parcels.append(found)
            self.parcels.sort(key=lambda p: p.shipment_id)
        return found

    # ------------------------------------------------------------------ lifecycle
    def apply(
        self,
        event_type: str,
        data: dict[str, Any],
        at: datetime,
        source: str,
        automatic: bool,
        shipment_id: str | None = None,
    ) -> list[StageReached]:
        """Advance the order by one event; returns the stage transitions it caused."""
        before = self.current_stage
        reached: list[StageReached] = []
        if self.last_event_at is None or at > self.last_event_at:
            self.last_event_at = at
        stage = stage_of(event_type, data)
        parcel: Parcel | None = None
        if event_type.startswith("shipment.") or stage in PARCEL_STAGES:
            parcel = self.parcel(shipment_id or self.order_id)
            _update_parcel(parcel, event_type, data, at, stage)
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

    def _reach(
        self, stage: str, at: datetime, source: str, automatic: bool, parcel: Parcel | None
    ) -> list[StageReached]:
        out: list[StageReached] = []
        # A shipping stage counts for the order once every known parcel has reached it.
        if parcel is None:
            effective_rank = STAGE_RANK[stage]
        else:
            effective_rank = min(p.rank for p in self.parcels)
        known = self.stages.get(stage)
        if STAGE_RANK[stage] <= effective_rank and (known is None or at < known):
            # Never invent timestamps: only the event's own stage is recorded, at its occurred_at.
            self.stages[stage] = at
            out.append(StageReached(self.order_id, stage, at, source, automatic, None, known is None))
        if effective_rank > self.stage_rank:
            self.stage_rank = effective_rank
            self.stage = STAGES[effective_rank]
            self.stage_at = self.stages.get(self.stage, at)
        if stage == "delivered":
            times = [p.delivered_at for p in self.parcels]
            if times and all(times):
                self.delivered_at = max(t for t in times if t is not None)
        return out

    def _reach_side(self, side: str, at: datetime, source: str, automatic: bool) -> list[StageReached]:
        known = self.stages.get(side)
        if side == "delivery_failed" and self.stage_at and self.stage_rank >= STAGE_RANK["delivered"]:
            # A failed attempt reported after the delivery does not undo the delivery.
            if known is None:
                self.stages[side] = at
            return []
        if self.side_state_at is None or at >= self.side_state_at:
            self.side_state, self.side_state_at = side, at
        if known is None or at < known:
            self.stages[side] = at
            return [StageReached(self.order_id, side, at, source, automatic, None, known is None)]
        return []


def _parcel_status(parcel: Parcel, event_type: str, data: dict[str, Any]) -> str | None:
    """The status an event gives the parcel, if any."""
    if event_type == "shipment.tracking":
        return data.get("status")
    if event_type == "shipment.delivered":
        return "delivered"
    if event_type == "shipment.delivery_failed":
        return "attempt_fail"
    if event_type == "shipment.waybill_created" and parcel.status is None:
        return "info_received"
    if event_type == "shipment.handed_over" and parcel.status in (None, "pending", "info_received"):
        return "in_transit"
    return None


def _update_parcel(
    parcel: Parcel, event_type: str, data: dict[str, Any], at: datetime, stage: str | None
) -> None:
    parcel.changed = True
    if parcel.last_event_at is None or at > parcel.last_event_at:
        parcel.last_event_at = at
    if data.get("carrier"):
        parcel.carrier = str(data["carrier"])
    if data.get("tracking_no"):
        parcel.tracking_no = str(data["tracking_no"])
    status = _parcel_status(parcel, event_type, data)
    if status and (parcel.status_at is None or at >= parcel.status_at):
        parcel.status, parcel.status_at = str(status), at
    if event_type == "shipment.handed_over" and (parcel.handed_over_at is None or at < parcel.handed_over_at):
        parcel.handed_over_at = at
    if stage == "delivered" and (parcel.delivered_at is None or at < parcel.delivered_at):
        parcel.delivered_at = at
    if event_type == "shipment.eta_updated" or (data.get("eta_min") and data.get("eta_max")):
        parcel.eta_min = parse_datetime(data.get("eta_min")) or parcel.eta_min
        parcel.eta_max = parse_datetime(data.get("eta_max")) or parcel.eta_max
    if stage is not None:
        parcel.rank = max(parcel.rank, STAGE_RANK[stage])
