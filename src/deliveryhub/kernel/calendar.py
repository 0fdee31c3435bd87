"""Business-time arithmetic for Korean shops: public holidays (incl. 설날/추석 and substitute days),
working hours and the daily cut-off after which an order ships the next business day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Korean public holidays 2024–2027 (관공서의 공휴일에 관한 규정), as data. Lunar dates (설날, 부처님오신날,
# 추석) are pre-computed; 대체공휴일 follow the 2021/2023 rules (설날·추석 only for Sundays; the others
# for Saturdays and Sundays); election days and one-off temporary holidays are included as announced.
KOREAN_HOLIDAYS: dict[date, str] = {
    # 2024
    date(2024, 1, 1): "신정",
    date(2024, 2, 9): "설날 연휴",
    date(2024, 2, 10): "설날",
    date(2024, 2, 11): "설날 연휴",
    date(2024, 2, 12): "대체공휴일(설날)",
    date(2024, 3, 1): "삼일절",
    date(2024, 4, 10): "제22대 국회의원선거",
    date(2024, 5, 5): "어린이날",
    date(2024, 5, 6): "대체공휴일(어린이날)",
    date(2024, 5, 15): "부처님오신날",
    date(2024, 6, 6): "현충일",
    date(2024, 8, 15): "광복절",
    date(2024, 9, 16): "추석 연휴",
    date(2024, 9, 17): "추석",
    date(2024, 9, 18): "추석 연휴",
    date(2024, 10, 1): "국군의 날(임시공휴일)",
    date(2024, 10, 3): "개천절",
    date(2024, 10, 9): "한글날",
    date(2024, 12, 25): "성탄절",
    # 2025
    date(2025, 1, 1): "신정",
    date(2025, 1, 27): "임시공휴일",
    date(2025, 1, 28): "설날 연휴",
    date(2025, 1, 29): "설날",
    date(2025, 1, 30): "설날 연휴",
    date(2025, 3, 1): "삼일절",
    date(2025, 3, 3): "대체공휴일(삼일절)",
    date(2025, 5, 5): "어린이날·부처님오신날",
    date(2025, 5, 6): "대체공휴일(부처님오신날)",
    date(2025, 6, 3): "제21대 대통령선거",
    date(2025, 6, 6): "현충일",
    date(2025, 8, 15): "광복절",
    date(2025, 10, 3): "개천절",
    date(2025, 10, 5): "추석 연휴",
    date(2025, 10, 6): "추석",
    date(2025, 10, 7): "추석 연휴",
    date(2025, 10, 8): "대체공휴일(추석)",
    date(2025, 10, 9): "한글날",
    date(2025, 12, 25): "성탄절",
    # 2026
    date(2026, 1, 1): "신정",
    date(2026, 2, 16): "설날 연휴",
    date(2026, 2, 17): "설날",
    date(2026, 2, 18): "설날 연휴",
    date(2026, 3, 1): "삼일절",
    date(2026, 3, 2): "대체공휴일(삼일절)",
    date(2026, 5, 5): "어린이날",
    date(2026, 5, 24): "부처님오신날",
    date(2026, 5, 25): "대체공휴일(부처님오신날)",
    date(2026, 6, 3): "제9회 전국동시지방선거",
    date(2026, 6, 6): "현충일",
    date(2026, 8, 15): "광복절",
    date(2026, 8, 17): "대체공휴일(광복절)",
    date(2026, 9, 24): "추석 연휴",
    date(2026, 9, 25): "추석",
    date(2026, 9, 26): "추석 연휴",
    date(2026, 10, 3): "개천절",
    date(2026, 10, 5): "대체공휴일(개천절)",
    date(2026, 10, 9): "한글날",
    date(2026, 12, 25): "성탄절",
    # 2027
    date(2027, 1, 1): "신정",
    date(2027, 2, 6): "설날 연휴",
    date(2027, 2, 7): "설날",
    date(2027, 2, 8): "설날 연휴",
    date(2027, 2, 9): "대체공휴일(설날)",
    date(2027, 3, 1): "삼일절",
    date(2027, 5, 5): "어린이날",
    date(2027, 5, 13): "부처님오신날",
    date(2027, 6, 6): "현충일",
    date(2027, 8, 15): "광복절",
    date(2027, 8, 16): "대체공휴일(광복절)",
    date(2027, 9, 14): "추석 연휴",
    date(2027, 9, 15): "추석",
    date(2027, 9, 16): "추석 연휴",
    date(2027, 10, 3): "개천절",
    date(2027, 10, 4): "대체공휴일(개천절)",
    date(2027, 10, 9): "한글날",
    date(2027, 10, 11): "대체공휴일(한글날)",
    date(2027, 12, 25): "성탄절",
    date(2027, 12, 27): "대체공휴일(성탄절)",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class BusinessCalendar:
    """Working days and hours of one shop in its time zone."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Seoul"))
    start: time = time(9, 0)
    end: time = time(18, 0)
    cutoff: time = time(14, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: dict[date, str] = field(default_factory=lambda: dict(KOREAN_HOLIDAYS))

    def is_business_day(self, day: date) -> bool:
        """A working weekday that is not a holiday."""
        return day.weekday() in self.workdays and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        day += timedelta(days=1)
        for _ in range(400):
            if self.is_business_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no business day within 400 days; check the calendar")

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start` (time outside working hours does not count)."""
        local = start.astimezone(self.tz)
        remaining = timedelta(hours=hours)
        day = local.date()
        cursor = local
        for _ in range(800):
            if self.is_business_day(day):
                open_at, close_at = self._at(day, self.start), self._at(day, self.end)
                begin = max(cursor, open_at)
                if begin < close_at:
                    available = close_at - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day = day + timedelta(days=1)
            cursor = self._at(day, time(0, 0))
        raise ValueError("business-hours horizon exceeded")

    def business_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours elapsed from `a` to `b` (0 when b <= a)."""
        if b <= a:
            return 0.0
        la, lb = a.astimezone(self.tz), b.astimezone(self.tz)
        total = timedelta()
        day = la.date()
        while day <= lb.date():
            if self.is_business_day(day):
                lo = max(la, self._at(day, self.start))
                hi = min(lb, self._at(day, self.end))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def ship_by(self, paid_at: datetime) -> datetime:
        """Dispatch deadline: paid on a business day before the cut-off → end of that day, else the end
        of the next business day."""
        local = paid_at.astimezone(self.tz)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.cutoff:
            return self._at(day, self.end)
        return self._at(self.next_business_day(day), self.end)

    def end_of_day(self, day: date) -> datetime:
        """Midnight after `day` in the shop's zone (a promised date is kept until then)."""
        return self._at(day + timedelta(days=1), time(0, 0))

    def local_date(self, when: datetime) -> date:
        """The calendar date of an instant in the shop's zone."""
        return when.astimezone(self.tz).date()
