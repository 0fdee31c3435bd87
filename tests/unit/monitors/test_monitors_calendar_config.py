"""The automation config builds the monitors' business calendar from its `business_hours` section
(BusinessCalendar.from_settings): hours, cut-off, workdays, extra holidays, and Korean public holidays."""

from __future__ import annotations

from datetime import date, time

from deliveryhub.kernel.configfile import merge, parse_config, read_config, validate
from deliveryhub.monitors.config import DEFAULT_FILE, AutomationConfig

TEXT = """\
timezone: Asia/Seoul
business_hours:
  start: "08:30"
  end: "17:30"
  cutoff: "13:00"
  workdays: [mon, tue, wed, thu, fri, sat]
  extra_holidays: ["2026-11-18"]
"""


def test_calendar_from_the_business_hours_section():
    doc = parse_config(TEXT, "c.yaml")
    cfg = validate(AutomationConfig, merge(read_config(DEFAULT_FILE).data, doc.data), doc)
    cal = cfg.calendar()
    assert (cal.start, cal.end, cal.cutoff) == (time(8, 30), time(17, 30), time(13, 0))
    assert cal.is_business_day(date(2026, 11, 21))  # Saturday is a workday here
    assert not cal.is_business_day(date(2026, 11, 18))  # the extra holiday
    assert cal.holiday_name(date(2026, 11, 18)) == "휴무일"
    assert not cal.is_business_day(date(2027, 2, 9))  # 설날 대체공휴일, computed
    assert str(cal.tz) == "Asia/Seoul"


def test_default_calendar_is_the_korean_default():
    cal = validate(AutomationConfig, read_config(DEFAULT_FILE).data, read_config(DEFAULT_FILE)).calendar()
    assert (cal.start, cal.end, cal.cutoff) == (time(9, 0), time(18, 0), time(14, 0))
    assert cal.workdays == frozenset(range(5))
