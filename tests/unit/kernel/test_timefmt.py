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
