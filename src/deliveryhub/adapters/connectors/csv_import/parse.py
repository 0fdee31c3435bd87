"""Cell parsers for Korean spreadsheet exports. Each raises CellError (a ValueError) with a plain reason."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

CARRIERS: dict[str, str] = {
    "cj대한통운": "cj",
    "대한통운": "cj",
    "cj": "cj",
    "cjlogistics": "cj",
    "롯데택배": "lotte",
    "롯데글로벌로지스": "lotte",
    "롯데": "lotte",
    "lotte": "lotte",
    "한진택배": "hanjin",
    "한진": "hanjin",
    "hanjin": "hanjin",
    "우체국택배": "epost",
    "우체국": "epost",
    "우편": "epost",
    "epost": "epost",
    "koreapost": "epost",
    "로젠택배": "logen",
    "로젠": "logen",
    "logen": "logen",
}

ACCEPTED_DATETIME = (
    "2024.11.03 14:05, 2024-11-03 14:05:00, 2024/11/03, 20241103, 2024년 11월 3일 14시 5분, "
    "2024-11-03 오후 2:05, ISO 8601 with offset, or an Excel serial number"
)


class CellError(ValueError):
    """A cell value that cannot be read as the declared type."""


_AMPM = {"오전": "am", "am": "am", "a.m.": "am", "오후": "pm", "pm": "pm", "p.m.": "pm"}
_AMPM_RE = r"(오전|오후|am|pm|a\.m\.|p\.m\.)"
_TIME = (
    rf"(?:{_AMPM_RE}\s*)?(\d{{1,2}}):(\d{{2}})(?::(\d{{2}})(?:[.,](\d{{1,6}}))?)?"
    rf"(?:\s*{_AMPM_RE})?\s*(z|[+-]\d{{2}}(?::?\d{{2}})?)?"
)
_SEPARATED = re.compile(rf"(\d{{4}})\s*([.\-/])\s*(\d{{1,2}})\s*\2\s*(\d{{1,2}})\.?(?:(?:\s+|t)\s*{_TIME})?")
_KOREAN = re.compile(
    r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"
    r"(?:\s*\([^)]*\))?"  # optional weekday: (일), (월요일)
    rf"(?:\s*{_AMPM_RE}?\s*(\d{{1,2}})\s*시(?:\s*(\d{{1,2}})\s*분)?(?:\s*(\d{{1,2}})\s*초)?)?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ t]?(\d{2})(\d{2})(\d{2})?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # 1954-10-03 .. 2119-01-10


def _hour(hour: int, ampm: str | None) -> int:
    if ampm is None:
        return hour
    if not 1 <= hour <= 12:
        raise CellError(f"hour {hour} with {ampm}")
    half = _AMPM[ampm]
    if half == "am":
        return 0 if hour == 12 else hour
    return 12 if hour == 12 else hour + 12


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise CellError(f"offset {text}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(
    y: str,
    mo: str,
    d: str,
    h: str | None = None,
    mi: str | None = None,
    s: str | None = None,
    frac: str | None = None,
    ampm: str | None = None,
    tz: timezone | None = None,
) -> datetime:
    try:
        hour = _hour(int(h), ampm) if h is not None else 0
        micro = int((frac or "0").ljust(6, "0")[:6])
        return datetime(int(y), int(mo), int(d), hour, int(mi or 0), int(s or 0), micro, tzinfo=tz)
    except ValueError as exc:
        raise CellError(str(exc)) from exc


def parse_datetime(value: str) -> tuple[datetime, bool]:
    """Korean/Excel date-time text → (datetime, has_time). The result is naive unless the text has an
    offset. Raises CellError."""
    text = " ".join(value.strip().lower().split())
    if not text:
        raise CellError("empty")
    m = _SEPARATED.fullmatch(text)
    if m:
        y, _sep, mo, d, ampm1, h, mi, s, frac, ampm2, off = m.groups()
        if ampm1 and ampm2:
            raise CellError("two AM/PM markers")
        return _build(y, mo, d, h, mi, s, frac, ampm1 or ampm2, _offset(off)), h is not None
    m = _KOREAN.fullmatch(text)
    if m:
        y, mo, d, ampm, h, mi, s = m.groups()
        return _build(y, mo, d, h, mi, s, None, ampm), h is not None
    m = _COMPACT.fullmatch(text)
    if m:
        y, mo, d, h, mi, s = m.groups()
        return _build(y, mo, d, h, mi, s), h is not None
    if _SERIAL.fullmatch(text):
        serial = float(text)
        if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
            raise CellError("number out of the Excel date range")
        at = _EXCEL_EPOCH + timedelta(days=serial)
        # Excel stores seconds as fractions of a day: round to the nearest second
        at = (at + timedelta(microseconds=500_000)).replace(microsecond=0)
        return at, "." in text
    raise CellError("not a recognised date/time")


def parse_date(value: str) -> date:
    at, _ = parse_datetime(value)
    return at.date()


_NUMBER_NOISE = re.compile(r"[\s,₩원\\]|krw")


def parse_number(value: str) -> int | float:
    """'12,900', '12,900원', '₩12,900', '1.5' → 12900 / 1.5 (ints stay ints). Raises CellError."""
    text = _NUMBER_NOISE.sub("", value.strip().lower())
    if not text:
        raise CellError("empty")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CellError("not a number") from exc
    if not number.is_finite():
        raise CellError("not a number")
    if number and not -15 <= number.adjusted() <= 15:
        raise CellError("number out of range")
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def parse_int(value: str) -> int:
    number = parse_number(value)
    if isinstance(number, float):
        raise CellError("not a whole number")
    return number


def parse_carrier(value: str, extra: dict[str, str] | None = None) -> str:
    key = re.sub(r"[\s()_\-.]", "", value.strip().lower())
    if extra:
        for name, extra_code in extra.items():
            if re.sub(r"[\s()_\-.]", "", name.lower()) == key:
                return extra_code
    code = CARRIERS.get(key)
    if code is None:
        raise CellError(
            "an unknown carrier (known: CJ대한통운, 롯데택배, 한진택배, 우체국택배, 로젠택배; "
            "add others under `carriers:` in the mapping)"
        )
    return code


def parse_tracking_no(value: str) -> str:
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?e\+?\d+", text.lower()):
        raise CellError("looks like a number Excel rewrote in exponent form; format the column as text")
    text = re.sub(r"[\s\-]", "", text)
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text:
        raise CellError("empty")
    return text


def parse_phone(value: str) -> str:
    text = re.sub(r"[\s\-.()]", "", value.strip())
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.startswith("+82"):
        text = "0" + text[3:].lstrip("0")
    if not re.fullmatch(r"\d{7,12}", text):
        raise CellError("not a phone number")
    # Excel drops the leading 0 of Korean numbers: 1012345678 → 01012345678
    if text.startswith("1") and len(text) in (9, 10):
        text = "0" + text
    return text


def parse_zip(value: str) -> str:
    text = value.strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    # Excel drops the leading 0 of five-digit postcodes (06236 → 6236)
    if re.fullmatch(r"\d{4}", text):
        text = text.zfill(5)
    return text
