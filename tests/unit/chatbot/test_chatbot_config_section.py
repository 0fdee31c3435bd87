"""The `chatbot:` section through the one config loader: the SLA calendar closes on public holidays and
on the configured extra closures (pure: the YAML is parsed from text)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from deliveryhub.chatbot.config import ChatbotCfg, apply, sla_calendar
from deliveryhub.chatbot.settings import CsConfig
from deliveryhub.kernel.configfile import parse_config

KST = ZoneInfo("Asia/Seoul")
TEXT = """\
chatbot:
  business_hours:
    timezone: Asia/Seoul
    workdays: [mon, tue, wed, thu, fri]
    start: "09:00"
    end: "18:00"
    extra_closures: ["2026-12-31"]
"""


def test_sla_calendar_closes_on_holidays_and_extra_closures():
    section = parse_config(TEXT, "c.yaml").section("chatbot", ChatbotCfg)
    cal = sla_calendar(section)
    assert cal.holiday_name(date(2026, 12, 31)) == "휴무일"
    assert not cal.is_business_day(date(2026, 9, 25))  # 추석
    # Wed 30 Dec 17:00 + 2 h: 1 h that day, the 31st closed, 1 Jan 신정, so Monday 4 Jan 10:00.
    due = cal.add_business_minutes(datetime(2026, 12, 30, 17, 0, tzinfo=KST), 120)
    assert due == datetime(2027, 1, 4, 10, 0, tzinfo=KST)
    cfg = apply(CsConfig(), section)
    assert cfg.business_hours is not None
    assert cfg.business_hours.extra_closures == frozenset({date(2026, 12, 31)})


def test_without_business_hours_the_sla_calendar_runs_around_the_clock_but_not_on_holidays():
    cal = sla_calendar(ChatbotCfg())
    assert cal.is_open(datetime(2026, 11, 21, 3, 0, tzinfo=KST))
    assert not cal.is_open(datetime(2027, 2, 8, 12, 0, tzinfo=KST))
