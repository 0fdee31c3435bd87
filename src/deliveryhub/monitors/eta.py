"""ETA windows from historical transit times: quantiles per carrier × origin region × destination
region × weekday of handover, conditioned on the time already spent in transit, tightened by carrier
hints such as CJ's "(14~16시)" out-for-delivery window. Explainable by construction: every window says
which group of past parcels it came from and how many there were."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t

GroupKey = tuple[str, ...]


@dataclass(frozen=True)
class TransitSample:
    """One delivered parcel: where it went, when it was handed over, how long it took (hours)."""

    carrier: str
    origin: str
    destination: str
    weekday: int
    hours: float


@dataclass(frozen=True)
class EtaWindow:
    """A predicted delivery window."""

    eta_min: datetime
    eta_max: datetime
    confidence: float  # nominal coverage of the quantile band
    basis: str  # which group of history it came from
    samples: int
    hint: bool = False

    def as_data(self) -> dict[str, Any]:
        """`data` of a shipment.eta_updated event."""
        return {
            "eta_min": self.eta_min.isoformat(),
            "eta_max": self.eta_max.isoformat(),
            "confidence": round(self.confidence, 3),
            "basis": self.basis,
            "samples": self.samples,
            "carrier_hint": self.hint,
        }


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of an ascending sequence."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    if lo == hi:
        return float(sorted_values[lo])
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


class TransitModel:
    """Transit-time samples grouped from most to least specific; predictions use the most specific
    group that has enough samples still consistent with the time already elapsed."""

    LEVELS = (
        "carrier+origin+destination+weekday",
        "carrier+origin+destination",
        "carrier+destination",
        "carrier",
        "all",
    )

    def __init__(
        self, min_samples: int = 30, lower: float = 0.04, upper: float = 0.96, tz: ZoneInfo | None = None
    ) -> None:
        self.min_samples = min_samples
        self.lower, self.upper = lower, upper
        self.tz = tz or ZoneInfo("Asia/Seoul")
        self.groups: dict[GroupKey, list[float]] = {}
        self.size = 0

    @staticmethod
    def keys(carrier: str, origin: str, destination: str, weekday: int) -> list[GroupKey]:
        """Group keys of a parcel, most specific first."""
        return [
            ("cowd", carrier, origin, destination, str(weekday)),
            ("cod", carrier, origin, destination),
            ("cd", carrier, destination),
            ("c", carrier),
            ("all",),
        ]

    def fit(self, samples: Iterable[TransitSample]) -> TransitModel:
        """Build the groups from history."""
        groups: dict[GroupKey, list[float]] = {}
        n = 0
        for s in samples:
            if s.hours <= 0:
                continue
            n += 1
            for key in self.keys(s.carrier, s.origin, s.destination, s.weekday):
                groups.setdefault(key, []).append(s.hours)
        for values in groups.values():
            values.sort()
        self.groups, self.size = groups, n
        return self

    def predict(
        self, carrier: str, origin: str, destination: str, handed_over_at: datetime, now: datetime
    ) -> EtaWindow | None:
        """The window for a parcel in transit since `handed_over_at`, or None without enough history."""
        weekday = handed_over_at.astimezone(self.tz).weekday()
        elapsed = max(0.0, (now - handed_over_at).total_seconds() / 3600)
        for level, key in zip(self.LEVELS, self.keys(carrier, origin, destination, weekday), strict=True):
            values = self.groups.get(key)
            if not values:
                continue
            # Condition on survival: the parcel has not arrived after `elapsed` hours.
            start = _first_above(values, elapsed)
            remaining = values[start:]
            if len(remaining) < self.min_samples:
                continue
            lo_h, hi_h = quantile(remaining, self.lower), quantile(remaining, self.upper)
            eta_min = max(now, handed_over_at + timedelta(hours=lo_h))
            eta_max = max(eta_min, handed_over_at + timedelta(hours=hi_h))
            return EtaWindow(eta_min, eta_max, self.upper - self.lower, level, len(remaining))
        return None


def _first_above(values: Sequence[float], x: float) -> int:
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def apply_hint(
    window: EtaWindow | None, hint_min: datetime, hint_max: datetime, margin: timedelta, now: datetime
) -> EtaWindow:
    """Tighten a model window with a carrier's own time window (widened by `margin`)."""
    lo, hi = hint_min - margin, hint_max + margin
    if window is not None and window.eta_min < hi and window.eta_max > lo:
        lo, hi = max(lo, window.eta_min), min(hi, window.eta_max)
    lo = max(lo, min(now, hi))
    return EtaWindow(
        lo,
        hi,
        window.confidence if window else 0.8,
        "carrier_hint",
        window.samples if window else 0,
        hint=True,
    )


def load_history(
    conn: Connection, now: datetime, history_days: int, origin_regions: dict[str, str], tz: ZoneInfo
) -> list[TransitSample]:
    """Delivered parcels of the last `history_days` as transit samples."""
    since = now - timedelta(days=history_days)
    rows = conn.execute(
        sa.select(
            t.parcels.c.carrier,
            t.parcels.c.handed_over_at,
            t.parcels.c.delivered_at,
            t.orders.c.warehouse,
            t.orders.c.region,
        )
        .select_from(t.parcels.join(t.orders, t.orders.c.order_id == t.parcels.c.order_id))
        .where(
            t.parcels.c.delivered_at.is_not(None),
            t.parcels.c.handed_over_at.is_not(None),
            t.parcels.c.delivered_at >= since,
            t.parcels.c.delivered_at <= now,
        )
    ).all()
    out = []
    for r in rows:
        hours = (r.delivered_at - r.handed_over_at).total_seconds() / 3600
        out.append(
            TransitSample(
                r.carrier or "?",
                origin_of(r.warehouse, origin_regions),
                r.region or "?",
                r.handed_over_at.astimezone(tz).weekday(),
                hours,
            )
        )
    return out


def origin_of(warehouse: str | None, origin_regions: dict[str, str]) -> str:
    """The origin region of a warehouse (configured), else the warehouse itself."""
    if not warehouse:
        return "?"
    return origin_regions.get(warehouse, warehouse)


def changed(
    old_min: datetime | None, old_max: datetime | None, new: EtaWindow, min_change: timedelta
) -> bool:
    """Whether a new window differs enough from the last one to be announced."""
    if old_min is None or old_max is None:
        return True
    return (
        abs(new.eta_min - old_min) >= min_change
        or abs(new.eta_max - old_max) >= min_change
        or (new.hint and (old_max - old_min) > (new.eta_max - new.eta_min))
    )
