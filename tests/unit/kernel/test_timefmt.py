"""One ISO formatter and parser."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from deliveryhub.kernel.timefmt import iso, parse_date, parse_datetime, utc

KST = timezone(timedelta(hours=9))


def test_iso():
    assert iso(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02T03:04:00+00:00"
    assert iso(date(2026, 1, 2)) == "2026-01-02"
    assert iso(None) is None
    assert iso("x") == "x" and iso(5) == 5


def test_parse_datetime():
    assert parse_datetime("2026-01-02T03:04:00Z") == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_datetime("2026-01-02T12:04:00+09:00") == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    naive = parse_datetime("2026-01-02 03:04:00")
    assert naive == datetime(2026, 1, 2, 3, 4, tzinfo=UTC) and naive.tzinfo is not None
    dt = datetime(2026, 1, 2, tzinfo=KST)
    assert parse_datetime(dt) is dt
    for bad in (None, "", "  ", "garbage", 17, "2026-13-01"):
        assert parse_datetime(bad) is None


def test_parse_date():
    assert parse_date("2026-01-02") == date(2026, 1, 2)
    assert parse_date("2026-01-02T23:00:00+09:00") == date(2026, 1, 2)
    assert parse_date(datetime(2026, 1, 2, 5)) == date(2026, 1, 2)
    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)
    for bad in (None, "", "nope", 3):
        assert parse_date(bad) is None


def test_utc():
    assert utc(datetime(2026, 1, 2, 9, tzinfo=KST)) == datetime(2026, 1, 2, 0, tzinfo=UTC)
    assert utc(datetime(2026, 1, 2, 9)).tzinfo is UTC


def test_values_read_in_their_unit() -> None:
    from deliveryhub.kernel.timefmt import format_number

    assert format_number(0.1158, "rate") == "11.6%"
    assert format_number(0.0003, "rate") == "0.03%"
    assert format_number(2.349, "days") == "2.35일" and format_number(2.349, "days", "en") == "2.35 days"
    assert format_number(12345, "count") == "12,345건" and format_number(3, "hours") == "3시간"
    assert format_number(None, "rate") == "—"


def test_targets_read_in_the_values_unit() -> None:
    from deliveryhub.kernel.timefmt import format_target

    assert format_target("<", 0.03, None, "rate") == "3% 미만"
    assert format_target(">=", 0.98, None, "rate", "en") == "at least 98%"
    assert format_target("<", 10, None, "minutes") == "10분 미만"
    assert format_target(None, None, -0.4) == "직전 기간 대비 40% 감소"
    assert format_target(None, None, -0.4, lang="en") == "40% lower than the previous period"
    assert format_target(None, None, None) == ""


def test_dates_and_months_as_people_write_them() -> None:
    from deliveryhub.kernel.timefmt import format_date, format_month

    assert format_date("2026-11-05") == "2026년 11월 5일 (목)"
    assert format_date("2026-11-05", "en") == "Thu 5 Nov 2026"
    assert format_month("2026-11") == "2026년 11월" and format_month("2026-11-30", "en") == "November 2026"
    assert format_date(None) == "—"
