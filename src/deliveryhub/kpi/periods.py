"""KPI query parameters and periods: time zones, dates, grains (day, ISO week, month) and their labels,
as plain values and as Polars expressions over a fact's local date `__d` and period `__p`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from deliveryhub.kpi.snapshot import UTC_DT

GRAINS = ("day", "week", "month")
# `reason` splits the return/exchange KPIs by the return reason code (domain/returns.py REASON_CODES).
DIMENSIONS = ("carrier", "warehouse", "channel", "region", "category", "stage", "reason")


class KpiQueryError(ValueError):
    """A bad KPI query parameter; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_tz(tz: str) -> ZoneInfo:
    """A zone by IANA name, or KpiQueryError naming `tz`."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiQueryError("tz", f"tz: unknown time zone {tz!r}") from None


def parse_date(value: str | date, field_name: str) -> date:
    """YYYY-MM-DD, or KpiQueryError naming the field."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise KpiQueryError(field_name, f"{field_name}: expected YYYY-MM-DD, got {value!r}") from None


def period_label(start: date, grain: str) -> str:
    """'2026-11-22' (day), '2026-W47' (ISO week), '2026-11' (month)."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    return f"{start.year}-{start.month:02d}"


def period_start(d: date, grain: str) -> date:
    """First day of the period containing `d`."""
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    return d.replace(day=1)


def period_end(start: date, grain: str) -> date:
    """Last day of the period starting at `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def current_period(grain: str, tz: str, now: datetime) -> tuple[date, date, str]:
    """(first day, last day, label) of the period containing `now` in `tz`."""
    today = now.astimezone(parse_tz(tz)).date()
    start = period_start(today, grain)
    return start, period_end(start, grain), period_label(start, grain)


def lit(when: datetime) -> pl.Expr:
    """A timestamp literal comparable with the facts' UTC columns."""
    return pl.lit(when.astimezone(UTC), UTC_DT)


def period_expr(grain: str) -> pl.Expr:
    """The first day of each row's period, from its local date `__d`."""
    d = pl.col("__d")
    if grain == "day":
        return d
    if grain == "week":
        return d.dt.truncate("1w")
    return d.dt.truncate("1mo")


def label_expr(grain: str) -> pl.Expr:
    """The label of each row's period `__p` (as `period_label`)."""
    p = pl.col("__p")
    if grain == "day":
        return p.dt.strftime("%Y-%m-%d")
    if grain == "week":
        return p.dt.strftime("%G-W%V")
    return p.dt.strftime("%Y-%m")
