"""The exception monitors as pure functions over read models (orders, stages, parcels): given the facts
and the time, does the order have a problem, since when, and what is the evidence?"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from deliveryhub.domain.order import Order, Parcel
from deliveryhub.kernel.calendar import MIDNIGHT, BusinessCalendar
from deliveryhub.kernel.timefmt import iso

IN_FLIGHT = frozenset({"in_transit", "out_for_delivery"})
FAILED_STATUSES = frozenset({"attempt_fail", "exception", "expired"})


@dataclass
class Finding:
    """A detected problem, ready to become an exception record."""

    type: str
    order_id: str | None
    evidence: dict[str, Any]
    due_at: datetime | None = None
    shipment_id: str | None = None
    subject: str | None = None
    threshold: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What the exception is about (the order, or warehouse:sku)."""
        return self.subject or self.order_id or ""


# ------------------------------------------------------------------ deadlines (shared with the timers)
def pack_deadline(paid_at: datetime, th: dict[str, Any], cal: BusinessCalendar) -> datetime:
    """Packing SLA: N business hours after payment."""
    return cal.add_business_hours(paid_at, float(th.get("pack_business_hours", 4)))


def ship_deadline(paid_at: datetime, cal: BusinessCalendar) -> datetime:
    """Waybill/dispatch SLA: the cut-off rule of the shop's calendar."""
    return cal.ship_by(paid_at)


def waybill_deadline(packed_at: datetime, th: dict[str, Any], cal: BusinessCalendar) -> datetime:
    """Packed parcels need a waybill within N working minutes: the warehouse prints labels in its
    business hours, so a parcel packed at closing time is due the next business morning."""
    return cal.add_business_hours(packed_at, float(th.get("minutes", 60)) / 60)


def handover_deadline(waybill_at: datetime, th: dict[str, Any], cal: BusinessCalendar) -> datetime:
    """A waybill needs the carrier's first scan within N hours of business days (the "forgotten
    parcel"); nobody picks up on a weekend, holiday or closure, so those days do not count."""
    return open_days(cal).add_business_hours(waybill_at, float(th.get("hours", 24)))


def stale_deadline(last_event_at: datetime, th: dict[str, Any], cal: BusinessCalendar) -> datetime:
    """A parcel in flight needs a tracking update every N hours of business days (carriers stop on
    weekends and holidays; their night sorting on business days counts)."""
    return open_days(cal).add_business_hours(last_event_at, float(th.get("hours", 48)))


@lru_cache(maxsize=8)
def open_days(cal: BusinessCalendar) -> BusinessCalendar:
    """The shop's calendar around the clock: every hour of a business day counts, no hour of a weekend,
    public holiday or extra closure."""
    return replace(cal, start=MIDNIGHT, end=MIDNIGHT, cutoff=MIDNIGHT)


def promise_deadline(promised: date, th: dict[str, Any], cal: BusinessCalendar) -> datetime:
    """The end of the promised delivery date (shop time zone) plus grace."""
    return cal.end_of_day(promised) + timedelta(hours=float(th.get("grace_hours", 0)))


# ------------------------------------------------------------------ monitors over one order
def dispatch_delay(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """Not packed within the packing SLA, or no waybill by the cut-off deadline (the shop's part)."""
    if o.closed or o.paid_at is None or o.reached("waybill_created"):
        return None
    pack_due = pack_deadline(o.paid_at, th, cal)
    ship_due = ship_deadline(o.paid_at, cal)
    if not o.reached("picked_packed") and now >= pack_due:
        return Finding(
            "dispatch_delay",
            o.order_id,
            {
                "reason": "not_packed",
                "paid_at": iso(o.paid_at),
                "pack_due": iso(pack_due),
                "stage": o.stage,
                "business_hours_waited": round(cal.business_hours_between(o.paid_at, now), 2),
            },
            due_at=pack_due,
            threshold={"pack_business_hours": th.get("pack_business_hours", 4)},
        )
    if now >= ship_due:
        return Finding(
            "dispatch_delay",
            o.order_id,
            {
                "reason": "not_dispatched",
                "paid_at": iso(o.paid_at),
                "ship_by": iso(ship_due),
                "stage": o.stage,
                "cutoff": cal.cutoff.strftime("%H:%M"),
            },
            due_at=ship_due,
            threshold={"cutoff": cal.cutoff.strftime("%H:%M")},
        )
    return None


def waybill_missing(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """Packed, but no waybill after N working minutes."""
    packed_at = o.stages.get("picked_packed")
    if o.closed or packed_at is None or o.reached("waybill_created"):
        return None
    due = waybill_deadline(packed_at, th, cal)
    if now < due:
        return None
    return Finding(
        "waybill_missing",
        o.order_id,
        {"packed_at": iso(packed_at), "waybill_due": iso(due)},
        due_at=due,
        threshold={"minutes": th.get("minutes", 60)},
    )


def _waybill_at(o: Order, p: Parcel) -> datetime | None:
    if p.status in ("info_received", "pending") and p.status_at is not None:
        return p.status_at
    return o.stages.get("waybill_created")


def _late_parcels(
    type_: str,
    o: Order,
    now: datetime,
    due_of: Callable[[Parcel], datetime | None],
    facts: Callable[[Parcel, datetime], dict[str, Any]],
    threshold: dict[str, Any],
) -> Finding | None:
    """One finding for the parcels whose deadline (`due_of`; None = not watched) has passed, each listed
    with its `facts`, due at the earliest of those deadlines."""
    late = []
    due_first: datetime | None = None
    for p in o.parcels:
        due = due_of(p)
        if due is None or now < due:
            continue
        late.append(
            {
                "shipment_id": p.shipment_id,
                "carrier": p.carrier,
                "tracking_no": p.tracking_no,
                **facts(p, due),
            }
        )
        due_first = due if due_first is None or due < due_first else due_first
    if not late:
        return None
    return Finding(
        type_,
        o.order_id,
        {"parcels": late},
        due_at=due_first,
        shipment_id=str(late[0]["shipment_id"]),
        threshold=threshold,
    )


def handover_missing(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """A waybill exists but the carrier never scanned the parcel within N hours of business days."""
    if o.closed:
        return None

    def due(p: Parcel) -> datetime | None:
        if (
            p.handed_over_at is not None
            or p.delivered_at is not None
            or p.status not in (None, "pending", "info_received")
        ):
            return None
        since = _waybill_at(o, p)
        return None if since is None else handover_deadline(since, th, cal)

    def facts(p: Parcel, due: datetime) -> dict[str, Any]:
        return {"waybill_at": iso(_waybill_at(o, p)), "handover_due": iso(due)}

    return _late_parcels("handover_missing", o, now, due, facts, {"hours": th.get("hours", 24)})


def tracking_stale(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """A parcel in flight with no tracking update for N hours of business days."""
    if o.closed:
        return None

    def due(p: Parcel) -> datetime | None:
        in_flight = p.status in IN_FLIGHT or (
            p.handed_over_at is not None and p.status in (None, "info_received")
        )
        if not in_flight or p.delivered_at is not None or p.last_event_at is None:
            return None
        return stale_deadline(p.last_event_at, th, cal)

    def facts(p: Parcel, _due: datetime) -> dict[str, Any]:
        assert p.last_event_at is not None  # due() watches only parcels with an update
        return {
            "status": p.status,
            "last_update": iso(p.last_event_at),
            "hours_silent": round((now - p.last_event_at).total_seconds() / 3600, 1),
        }

    return _late_parcels("tracking_stale", o, now, due, facts, {"hours": th.get("hours", 48)})


def delivery_delay(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """The promised date passed and the order is not delivered."""
    if o.closed or o.promised_date is None or o.delivered_at is not None:
        return None
    due = promise_deadline(o.promised_date, th, cal)
    if now < due:
        return None
    return Finding(
        "delivery_delay",
        o.order_id,
        {
            "promised_date": o.promised_date.isoformat(),
            "stage": o.stage,
            "days_late": days_late(o.promised_date, cal.local_date(now)),
        },
        due_at=due,
        threshold={"grace_hours": th.get("grace_hours", 0)},
    )


def late_probability(eta_min: datetime, eta_max: datetime, deadline: datetime) -> float:
    """Share of the predicted window that lies after the deadline (uniform inside the window)."""
    if eta_min >= deadline:
        return 1.0
    if eta_max <= deadline:
        return 0.0
    width = (eta_max - eta_min).total_seconds()
    return (eta_max - deadline).total_seconds() / width if width > 0 else 1.0


def delay_risk(o: Order, now: datetime, th: dict[str, Any], cal: BusinessCalendar) -> Finding | None:
    """The predicted ETA window lies (mostly) after the promised date."""
    if o.closed or o.promised_date is None or o.delivered_at is not None:
        return None
    deadline = promise_deadline(o.promised_date, {"grace_hours": 0}, cal)
    if now >= deadline:
        return None  # past the promise it is a delivery_delay, not a risk
    worst = None
    for p in o.parcels:
        if p.delivered_at is None and p.eta_min is not None and p.eta_max is not None:
            prob = late_probability(p.eta_min, p.eta_max, deadline)
            if worst is None or prob > worst[0]:
                worst = (prob, p)
    if worst is None or worst[0] < float(th.get("min_probability", 0.5)):
        return None
    prob, p = worst
    return Finding(
        "delay_risk",
        o.order_id,
        {
            "promised_date": o.promised_date.isoformat(),
            "eta_min": iso(p.eta_min),
            "eta_max": iso(p.eta_max),
            "late_probability": round(prob, 3),
            "shipment_id": p.shipment_id,
            "carrier": p.carrier,
        },
        shipment_id=p.shipment_id,
        threshold={"min_probability": th.get("min_probability", 0.5)},
    )


def days_late(promised: date, actual: date) -> int:
    """Whole days after the promised date (0 when on time)."""
    return max(0, (actual - promised).days)


# ------------------------------------------------------------------ event-driven monitors
def inventory_mismatches(
    counts: dict[str, int], expected: dict[str, int], tolerance_units: int = 0, tolerance_pct: float = 0.0
) -> list[dict[str, Any]]:
    """SKUs whose physical count differs from system stock by more than the tolerance."""
    out = []
    for sku in sorted(set(counts) | set(expected)):
        if sku not in expected:
            continue  # first sight of a SKU: the count becomes the system stock
        counted, system = int(counts.get(sku, 0)), int(expected[sku])
        diff = counted - system
        allowed = max(tolerance_units, int(abs(system) * tolerance_pct))
        if abs(diff) > allowed:
            out.append({"sku": sku, "counted": counted, "system": system, "difference": diff})
    return out


def _item_key(items: Iterable[Any]) -> tuple[tuple[str, int], ...]:
    keyed: dict[str, int] = {}
    for it in items or ():
        if isinstance(it, dict):
            sku = str(it.get("sku"))
            keyed[sku] = keyed.get(sku, 0) + int(it.get("qty") or 1)
        else:
            keyed[str(it)] = keyed.get(str(it), 0) + 1
    return tuple(sorted(keyed.items()))


def is_duplicate(
    a_items: Sequence[Any], a_total: float | None, b_items: Sequence[Any], b_total: float | None
) -> bool:
    """Same items (SKU and quantity) and the same total: most likely the same purchase twice."""
    if not a_items or not b_items:
        return False
    return _item_key(a_items) == _item_key(b_items) and (a_total or 0) == (b_total or 0)


# ------------------------------------------------------------------ compensation
@dataclass
class CompensationDecision:
    """What one rule grants an order."""

    rule: str
    kind: str
    amount: float
    status: str  # pending_issue | pending_approval
    evidence: dict[str, Any]


def decide_compensation(
    rule: Any,
    *,
    days: int | None = None,
    claim_kind: str | None = None,
    claim_amount: float | None = None,
    paid_for_order: float = 0.0,
    paid_today: float = 0.0,
    cap_per_order: float = float("inf"),
    cap_per_day: float = float("inf"),
    approval_threshold: float = float("inf"),
) -> CompensationDecision | None:
    """Whether `rule` applies to the facts, for how much (after caps) and whether it needs approval."""
    if rule.trigger == "delivery_delay":
        if days is None or rule.min_days_late is None or days < rule.min_days_late:
            return None
        evidence: dict[str, Any] = {"days_late": days, "min_days_late": rule.min_days_late}
    else:
        if claim_kind is None or (rule.claim_kind and claim_kind != rule.claim_kind):
            return None
        amt = claim_amount or 0.0
        if rule.max_claim_amount is not None and amt > rule.max_claim_amount:
            return None
        if rule.min_claim_amount is not None and amt < rule.min_claim_amount:
            return None
        evidence = {"claim_kind": claim_kind, "claim_amount": claim_amount}
    wanted = float(claim_amount or 0.0) if rule.amount == "claim" else float(rule.amount)
    amount = max(0.0, min(wanted, cap_per_order - paid_for_order, cap_per_day - paid_today))
    if amount <= 0:
        return None
    if amount < wanted:
        evidence["capped_from"] = wanted
    needs_approval = amount > approval_threshold and not rule.auto_approve
    return CompensationDecision(
        rule.name, rule.kind, amount, "pending_approval" if needs_approval else "pending_issue", evidence
    )
