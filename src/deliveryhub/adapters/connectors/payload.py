"""Reading untrusted vendor JSON: scalars as strings, containers or nothing, timestamps with an offset.

Every helper answers for any input (None, numbers, nested junk) and never raises: mappers build on them to
keep their promise of reporting, never raising.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

# Korea has had no DST since 1988: a fixed offset is exact for carrier timestamps.
KST = timezone(timedelta(hours=9), "KST")


_NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y%m%d%H%M%S",
)


def to_rfc3339(value: object, *, default_tz: timezone | None = None) -> str | None:
    """Parse a vendor timestamp into RFC 3339 with offset; None when unparseable or naive without a zone.

    ``default_tz`` is only for importers that declare their zone (Korean carriers report KST wall time).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        for fmt in _NAIVE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        if default_tz is None:
            return None
        parsed = parsed.replace(tzinfo=default_tz)
    try:
        return parsed.isoformat()
    except (ValueError, OverflowError):  # pragma: no cover - extreme offsets
        return None


def as_str(value: object) -> str | None:
    """A scalar as a stripped string (ids arrive as int or str); None for empty/other types."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def truncate(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
