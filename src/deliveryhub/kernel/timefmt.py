"""Time formatting and parsing shared by every layer (one copy of `_iso` and of ISO-8601 parsing)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def iso(value: Any) -> Any:
    """A datetime/date as ISO-8601 text; None stays None, anything else passes unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def utc(dt: datetime) -> datetime:
    """The same instant as an aware UTC datetime (a naive value is taken to be UTC already)."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_datetime(value: Any) -> datetime | None:
    """A datetime from a datetime or ISO-8601 text (trailing `Z` allowed; naive text is UTC); else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return utc(parsed) if parsed.tzinfo is None else parsed


def parse_date(value: Any) -> date | None:
    """A date from a date, a datetime (its own calendar date) or ISO-8601 text; else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
