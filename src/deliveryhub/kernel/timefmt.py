"""Time and number formatting and parsing shared by every layer: ISO-8601 in and out, and values, targets,
dates and months as people read them in Korean or English."""

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


# Numbers as people read them: the unit a KPI is measured in, and its suffix in Korean and English.
_SUFFIX: dict[str, tuple[str, str]] = {
    "days": ("일", " days"),
    "hours": ("시간", " h"),
    "minutes": ("분", " min"),
    "count": ("건", ""),
    "currency": ("원", " KRW"),
    "score": ("점", ""),
    "kg": ("kg", " kg"),
}
_OPS: dict[str, tuple[str, str]] = {
    "<": ("{v} 미만", "below {v}"),
    "<=": ("{v} 이하", "at most {v}"),
    ">": ("{v} 초과", "above {v}"),
    ">=": ("{v} 이상", "at least {v}"),
}


def unit_suffix(unit: str, lang: str = "ko") -> str:
    """What follows a number of `unit`: "%", "일" / " days", "시간" / " h", "분" / " min", "건"."""
    if unit == "rate":
        return "%"
    return _SUFFIX.get(unit, ("", ""))[1 if lang == "en" else 0]


def format_number(value: float | None, unit: str = "", lang: str = "ko", trim: bool = False) -> str:
    """A measured value in its unit, with thousands separators: 11.6%, 2.4일 / 2.4 days, 1,234건, —
    (`trim`: no trailing zeros, for round numbers such as targets: 3%, not 3.0%)."""
    if value is None:
        return "—"
    v = float(value)
    if unit == "rate":
        pct = v * 100
        digits = 2 if 0 < abs(pct) < 1 else 1
        text = f"{pct:,.{digits}f}"
        return (text.rstrip("0").rstrip(".") if trim and "." in text else text) + "%"
    if unit in ("count", "currency"):
        text = f"{round(v):,}"
    else:
        text = f"{v:,.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    return text + unit_suffix(unit, lang)


def format_target(
    op: str | None,
    threshold: float | None,
    change_vs_previous: float | None,
    unit: str = "",
    lang: str = "ko",
) -> str:
    """A KPI target in the value's unit: "3% 미만" / "below 3%", "직전 기간 대비 40% 감소"; "" without one."""
    if change_vs_previous is not None:
        pct = f"{abs(change_vs_previous) * 100:.0f}%"
        if lang == "en":
            return f"{pct} {'lower' if change_vs_previous < 0 else 'higher'} than the previous period"
        return f"직전 기간 대비 {pct} {'감소' if change_vs_previous < 0 else '증가'}"
    if threshold is None:
        return ""
    shown = format_number(threshold, unit, lang, trim=True)
    if op not in _OPS:
        return shown
    return _OPS[op][1 if lang == "en" else 0].format(v=shown)


def format_date(value: Any, lang: str = "ko") -> str:
    """A calendar date as people write it: 2026년 11월 5일 (목) / Thu 5 Nov 2026; — when missing."""
    d = parse_date(value)
    if d is None:
        return "—"
    if lang == "en":
        return f"{d:%a} {d.day} {d:%b} {d.year}"
    return f"{d.year}년 {d.month}월 {d.day}일 ({'월화수목금토일'[d.weekday()]})"


def format_month(value: Any, lang: str = "ko") -> str:
    """A month as people write it: 2026년 11월 / November 2026."""
    d = parse_date(value if not isinstance(value, str) or len(value) > 7 else value + "-01")
    if d is None:
        return "—"
    return f"{d:%B} {d.year}" if lang == "en" else f"{d.year}년 {d.month}월"
