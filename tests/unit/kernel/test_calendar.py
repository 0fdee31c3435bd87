"""The business calendar: Korean public and substitute holidays computed for any year, extra closures,
interval arithmetic across holiday weekends."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from deliveryhub.kernel.calendar import BusinessCalendar, default_calendar

KST = ZoneInfo("Asia/Seoul")
CAL = BusinessCalendar()


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


def test_seollal_2027_with_its_substitute_day():
    # 2027-02-06 Sat 설날 전날, 02-07 Sun 설날, 02-08 Mon 설날 다음날, 02-09 Tue 대체공휴일
    for day in (date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8), date(2027, 2, 9)):
        assert not CAL.is_business_day(day), day
        assert CAL.holiday_name(day)
    assert "대체" in (CAL.holiday_name(date(2027, 2, 9)) or "")
    assert CAL.is_business_day(date(2027, 2, 10))
    assert CAL.next_business_day(date(2027, 2, 5)) == date(2027, 2, 10)


def test_chuseok():
    days = (date(2026, 9, 24), date(2026, 9, 25), date(2027, 9, 14), date(2027, 9, 15), date(2027, 9, 16))
    for day in days:
        assert not CAL.is_business_day(day), day
        assert "추석" in (CAL.holiday_name(day) or "")
    assert CAL.holiday_name(date(2025, 10, 8)) is not None  # 2025 추석 대체공휴일
    assert CAL.is_business_day(date(2027, 9, 17))


def test_years_after_2027_are_computed():
    assert "설날" in (CAL.holiday_name(date(2030, 2, 3)) or "")
    assert not CAL.is_business_day(date(2030, 2, 5))  # 2030 설날 대체공휴일 (Tue)
    assert "추석" in (CAL.holiday_name(date(2031, 10, 1)) or "")
    assert CAL.holiday_name(date(2035, 12, 25)) is not None
    assert CAL.holiday_name(date(2040, 3, 1)) is not None
    assert CAL.is_business_day(date(2031, 10, 6))


def test_ordinary_days_and_weekends():
    assert CAL.is_business_day(date(2026, 11, 18))  # Wednesday
    assert CAL.holiday_name(date(2026, 11, 18)) is None
    assert not CAL.is_business_day(date(2026, 11, 21))  # Saturday
    assert CAL.holidays_in(2027)[date(2027, 2, 9)]


def test_extra_closure():
    cal = BusinessCalendar(extra_closures=frozenset({date(2026, 11, 18)}))
    assert not cal.is_business_day(date(2026, 11, 18))
    assert cal.holiday_name(date(2026, 11, 18)) == "휴무일"
    assert cal.next_business_day(date(2026, 11, 17)) == date(2026, 11, 19)
    assert CAL.is_business_day(date(2026, 11, 18))  # other calendars untouched


def test_add_business_hours_across_a_holiday_weekend():
    # Fri 2027-02-05 16:00: 2 h left that day; Sat–Tue are 설날 (incl. 대체공휴일); Wed 10th resumes.
    due = CAL.add_business_hours(kst(2027, 2, 5, 16, 0), 4)
    assert due == kst(2027, 2, 10, 11, 0)
    assert CAL.business_hours_between(kst(2027, 2, 5, 16, 0), due) == pytest.approx(4)
    # Chuseok 2026: Wed 23rd 17:00, Thu–Sun closed, Mon 28th.
    assert CAL.add_business_hours(kst(2026, 9, 23, 17, 0), 4) == kst(2026, 9, 28, 12, 0)


def test_add_business_hours_zero_lands_on_the_next_opening_and_long_spans_work():
    assert CAL.add_business_hours(kst(2026, 11, 21, 10, 0), 0) == kst(2026, 11, 23, 9, 0)
    start = kst(2026, 11, 16, 9, 0)  # Monday, an ordinary week
    assert CAL.add_business_hours(start, 45) == kst(2026, 11, 20, 18, 0)
    far = CAL.add_business_hours(start, 9 * 300)
    assert CAL.business_hours_between(start, far) == pytest.approx(9 * 300)


def test_business_time_between_ignores_nights_weekends_holidays():
    assert CAL.business_hours_between(kst(2027, 2, 5, 17, 0), kst(2027, 2, 10, 10, 0)) == pytest.approx(2)
    assert CAL.business_hours_between(kst(2027, 2, 10, 10, 0), kst(2027, 2, 5, 17, 0)) == 0.0
    early = CAL.business_time_between(kst(2026, 11, 18, 8, 0), kst(2026, 11, 18, 9, 30))
    assert early == timedelta(minutes=30)


def test_is_open_and_next_opening():
    assert CAL.is_open(kst(2026, 11, 18, 10, 0))
    assert not CAL.is_open(kst(2026, 11, 18, 18, 0))
    at = kst(2026, 11, 18, 10, 0)
    assert CAL.next_opening(at) == at
    assert CAL.next_opening(kst(2026, 11, 18, 7, 0)) == kst(2026, 11, 18, 9, 0)
    assert CAL.next_opening(kst(2026, 11, 21, 12, 0)) == kst(2026, 11, 23, 9, 0)  # Saturday
    assert CAL.next_opening(kst(2027, 2, 8, 12, 0)) == kst(2027, 2, 10, 9, 0)  # 설날 다음날
    utc_input = datetime(2027, 2, 5, 12, 0, tzinfo=ZoneInfo("UTC"))  # 21:00 KST Friday
    assert CAL.next_opening(utc_input) == kst(2027, 2, 10, 9, 0)
    assert CAL.next_opening(utc_input).tzinfo is not None


def test_ship_by_cutoff():
    assert CAL.ship_by(kst(2026, 11, 18, 13, 59)) == kst(2026, 11, 18, 18, 0)
    assert CAL.ship_by(kst(2026, 11, 18, 14, 0)) == kst(2026, 11, 19, 18, 0)
    assert CAL.ship_by(kst(2027, 2, 5, 15, 0)) == kst(2027, 2, 10, 18, 0)


def test_local_date_and_end_of_day():
    assert CAL.local_date(datetime(2026, 11, 18, 16, 0, tzinfo=ZoneInfo("UTC"))) == date(2026, 11, 19)
    assert CAL.end_of_day(date(2026, 11, 18)) == kst(2026, 11, 19, 0, 0)


def test_from_settings_object_and_mapping():
    section = SimpleNamespace(
        start=time(10, 0),
        end=time(19, 0),
        cutoff=time(15, 0),
        workdays=["mon", "tue", "wed", "thu", "fri", "sat"],
        extra_holidays=[date(2026, 11, 18)],
    )
    cal = BusinessCalendar.from_settings(section, tz="Asia/Seoul")
    assert cal.start == time(10, 0) and cal.cutoff == time(15, 0)
    assert cal.is_business_day(date(2026, 11, 21))  # Saturday works here
    assert not cal.is_business_day(date(2026, 11, 18))
    cal2 = BusinessCalendar.from_settings(
        {"timezone": "Asia/Seoul", "workdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00",
         "extra_closures": ["2026-12-31"]}
    )
    assert not cal2.is_business_day(date(2026, 12, 31))
    assert BusinessCalendar.from_settings({}) == BusinessCalendar()


def test_invalid_calendars_are_refused():
    with pytest.raises(ValueError):
        BusinessCalendar(start=time(18, 0), end=time(9, 0))
    with pytest.raises(ValueError):
        BusinessCalendar.from_settings({"workdays": ["funday"]})
    with pytest.raises(ValueError):
        BusinessCalendar(workdays=frozenset()).next_business_day(date(2026, 1, 1))


def test_default_calendar_is_korean():
    cal = default_calendar()
    assert cal.start == time(9, 0) and cal.end == time(18, 0) and cal.cutoff == time(14, 0)
    assert str(cal.tz) == "Asia/Seoul"
    assert not cal.is_business_day(date(2027, 2, 9))


def test_around_the_clock_still_closes_on_holidays():
    cal = BusinessCalendar.around_the_clock()
    assert cal.is_open(kst(2026, 11, 21, 3, 0))  # a Saturday night counts
    assert not cal.is_open(kst(2027, 2, 8, 12, 0))  # 설날 does not
    # A 90-minute SLA from Friday 23:00 before 설날: 60 minutes that night, the rest on Wed the 10th.
    assert cal.add_business_minutes(kst(2027, 2, 5, 23, 0), 90) == kst(2027, 2, 10, 0, 30)
    assert cal.business_time_between(kst(2027, 2, 5, 23, 0), kst(2027, 2, 10, 0, 30)) == timedelta(minutes=90)
    assert cal.next_opening(kst(2027, 2, 7, 10, 0)) == kst(2027, 2, 10, 0, 0)
    assert cal.add_business_hours(kst(2026, 11, 18, 10, 0), 48) == kst(2026, 11, 20, 10, 0)
