"""Business-time arithmetic for Korean shops: public and substitute holidays (computed for any year by
the `holidays` package), extra closures a shop configures, working hours and the daily cut-off after
which an order ships the next business day. Arithmetic walks whole days and working intervals, never
minutes."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXTRA_CLOSURE_NAME = "휴무일"
# A calendar with no working day at all would loop for ever; the horizon bounds every walk (~3 years).
_HORIZON_DAYS = 1100
_DEFAULT_TZ = "Asia/Seoul"
MIDNIGHT = time(0, 0)
ALL_WEEK = frozenset(range(7))


class _PublicHolidays:
    """Names of one country's public holidays by date, computed a year at a time and cached."""

    _lock = threading.Lock()
    _by_country: dict[tuple[str, str], dict[int, dict[date, str]]] = {}

    @classmethod
    def year(cls, country: str, year: int, language: str = "ko") -> dict[date, str]:
        """Every public (incl. substitute and election) holiday of `year`."""
        key = (country, language)
        cached = cls._by_country.get(key, {}).get(year)
        if cached is not None:
            return cached
        with cls._lock:
            # imported on first use: the package costs ~65 ms to import and most commands never ask
            import holidays as holidays_lib

            found = holidays_lib.country_holidays(country, years=year, language=language)
            table = {d: str(name) for d, name in found.items()}
            cls._by_country.setdefault(key, {})[year] = table
            return table


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours of one shop in its time zone."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(_DEFAULT_TZ))
    start: time = time(9, 0)
    end: time = time(18, 0)
    cutoff: time = time(14, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    extra_closures: frozenset[date] = frozenset()
    # ISO country whose public holidays close the shop; None = only weekends and extra closures.
    country: str | None = "KR"

    def __post_init__(self) -> None:
        # end 00:00 means midnight at the end of the day (start 00:00, end 00:00 = around the clock)
        if self.end <= self.start and self.end != MIDNIGHT:
            raise ValueError("business hours: the end must be after the start")
        # frozen: callers share one calendar; accept any iterable and keep it immutable
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "extra_closures", frozenset(self.extra_closures))

    # ------------------------------------------------------------ construction
    @classmethod
    def from_settings(cls, section: Any, *, tz: str | ZoneInfo | None = None) -> BusinessCalendar:
        """A calendar from a business-hours config section (object or mapping): start, end, cutoff,
        workdays (names or 0–6), extra_closures/extra_holidays, timezone/tz; missing keys keep defaults."""

        def get(*names: str) -> Any:
            for name in names:
                value = section.get(name) if isinstance(section, Mapping) else getattr(section, name, None)
                if value is not None:
                    return value
            return None

        zone = tz if tz is not None else get("timezone", "tz")
        kwargs: dict[str, Any] = {}
        if zone is not None:
            kwargs["tz"] = zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))
        for name in ("start", "end", "cutoff"):
            value = get(name)
            if value is not None:
                kwargs[name] = value if isinstance(value, time) else time.fromisoformat(str(value))
        days = get("workdays", "days")
        if days is not None:
            kwargs["workdays"] = frozenset(_weekday(d) for d in days)
        closures = [*(get("extra_closures") or ()), *(get("extra_holidays") or ())]
        if closures:
            kwargs["extra_closures"] = frozenset(_as_date(d) for d in closures)
        if isinstance(section, Mapping) and "country" in section:
            kwargs["country"] = section["country"]
        elif not isinstance(section, Mapping) and hasattr(section, "country"):
            kwargs["country"] = section.country
        return cls(**kwargs)

    @classmethod
    def around_the_clock(
        cls, tz: str | ZoneInfo = _DEFAULT_TZ, *, country: str | None = "KR"
    ) -> BusinessCalendar:
        """Every hour of every day except public holidays (e.g. SLA clocks without business hours)."""
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return cls(tz=zone, start=MIDNIGHT, end=MIDNIGHT, cutoff=MIDNIGHT, workdays=ALL_WEEK, country=country)

    # ------------------------------------------------------------ days
    def holiday_name(self, day: date) -> str | None:
        """The Korean name of the public holiday or closure on `day` (None on an ordinary day)."""
        if day in self.extra_closures:
            return EXTRA_CLOSURE_NAME
        if self.country is None:
            return None
        return _PublicHolidays.year(self.country, day.year).get(day)

    def holidays_in(self, year: int) -> dict[date, str]:
        """Every holiday and extra closure of `year`, by date."""
        out = dict(_PublicHolidays.year(self.country, year)) if self.country else {}
        out.update({d: EXTRA_CLOSURE_NAME for d in self.extra_closures if d.year == year})
        return dict(sorted(out.items()))

    def is_business_day(self, day: date) -> bool:
        """A working weekday that is not a holiday or closure."""
        return day.weekday() in self.workdays and self.holiday_name(day) is None

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        for _ in range(_HORIZON_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError(f"no business day within {_HORIZON_DAYS} days; check the calendar")

    def business_day_on_or_after(self, day: date) -> date:
        """`day` when it is a business day, else the next one."""
        return day if self.is_business_day(day) else self.next_business_day(day)

    # ------------------------------------------------------------ instants
    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz)

    def _close(self, day: date) -> datetime:
        """When `day`'s working hours end (midnight after it when `end` is 00:00)."""
        if self.end == MIDNIGHT:
            return self._at(day + timedelta(days=1), MIDNIGHT)
        return self._at(day, self.end)

    def local_date(self, when: datetime) -> date:
        """The calendar date of an instant in the shop's zone."""
        return when.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """Midnight after `day` in the shop's zone (a promised date is kept until then)."""
        return self._at(day + timedelta(days=1), time(0, 0))

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls inside working hours on a business day."""
        local = at.astimezone(self.tz)
        return (
            self.is_business_day(local.date())
            and local >= self._at(local.date(), self.start)
            and local < self._close(local.date())
        )

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the next instant the shop opens (aware, in the shop's zone)."""
        local = at.astimezone(self.tz)
        day = local.date()
        if self.is_business_day(day):
            if local.time() < self.start:
                return self._at(day, self.start)
            if local < self._close(day):
                return at
        return self._at(self.next_business_day(day), self.start)

    def _intervals(self, since: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working intervals (open, close) from `since` on, the first one clipped to start at `since`."""
        local = since.astimezone(self.tz)
        day = local.date()
        for _ in range(_HORIZON_DAYS):
            if self.is_business_day(day):
                open_at, close_at = self._at(day, self.start), self._close(day)
                begin = max(local, open_at)
                if begin < close_at:
                    yield begin, close_at
            day += timedelta(days=1)
        raise ValueError("business-hours horizon exceeded; check the calendar")

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant `delta` of working time after `start` (time outside working hours does not count)."""
        remaining = max(delta, timedelta(0))  # zero time lands on the next opening, as it always did
        for begin, close_at in self._intervals(start):
            available = close_at - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _intervals raises at its horizon

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start` (time outside working hours does not count)."""
        return self.add_business_time(start, timedelta(hours=hours))

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` working minutes after `start`."""
        return self.add_business_time(start, timedelta(minutes=minutes))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time elapsed from `a` to `b` (zero when b <= a)."""
        total = timedelta()
        if b <= a:
            return total
        la, lb = a.astimezone(self.tz), b.astimezone(self.tz)
        day = la.date()
        while day <= lb.date():
            if self.is_business_day(day):
                lo = max(la, self._at(day, self.start))
                hi = min(lb, self._close(day))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def business_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours elapsed from `a` to `b` (0 when b <= a)."""
        return self.business_time_between(a, b).total_seconds() / 3600

    def ship_by(self, paid_at: datetime) -> datetime:
        """Dispatch deadline: paid on a business day before the cut-off → end of that day, else the end
        of the next business day."""
        local = paid_at.astimezone(self.tz)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.cutoff:
            return self._close(day)
        return self._close(self.next_business_day(day))


def _weekday(value: Any) -> int:
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"weekday {value!r}: expected 0 (Monday) to 6 (Sunday)")
        return value
    name = str(value).strip().lower()[:3]
    if name not in WEEKDAYS:
        raise ValueError(f"weekday {value!r}: expected one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(name)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


_DEFAULT: BusinessCalendar | None = None


def default_calendar() -> BusinessCalendar:
    """The shop's calendar with Korean defaults: weekdays 09:00–18:00, cut-off 14:00, KR holidays."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = BusinessCalendar()
    return _DEFAULT
