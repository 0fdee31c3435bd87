"""The one rule for identifiers (order, event, shipment and customer ids, tracking numbers, SKUs).

An id may not carry NUL, C0/C1 control characters or invisible Unicode format characters (bidi
embeddings/overrides/isolates, zero-width characters, the BOM, line/paragraph separators): they make two
ids that look the same differ, hide a reversed id in a screen or a CSV export (U+202E), break
PostgreSQL (NUL) and terminal output. Everything else is left to the field's own length rules.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, StringConstraints

# C0, DEL, C1; soft hyphen; Arabic letter mark; Mongolian vowel separator; zero-width space/joiners and
# LRM/RLM (U+200B–U+200F); line/paragraph separators, bidi embeddings and overrides (U+2028–U+202E);
# word joiner, invisible operators, bidi isolates and deprecated format controls (U+2060–U+206F); BOM;
# interlinear annotation controls; Unicode tag characters.
_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x61C, 0x61C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0000, 0xE007F),
)
# Lone surrogates too on the Python side (pydantic already refuses them as invalid strings).
_CLASS = "".join(f"{chr(a)}-{chr(b)}" if a != b else re.escape(chr(a)) for a, b in _RANGES)
FORBIDDEN_ID_CHARS = re.compile(f"[{_CLASS}\ud800-\udfff]")
# The same rule as a pattern for pydantic's Rust regex engine: checked inside validation, no Python call.
SAFE_ID_PATTERN = (
    "^[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" if a != b else f"\\x{{{a:X}}}" for a, b in _RANGES) + "]*$"
)
ID_ERROR_CODE = "invalid_id"
# Field names that hold ids wherever they appear (CSV mapping targets, query parameters).
ID_FIELDS = frozenset(
    {
        "event_id",
        "order_id",
        "shipment_id",
        "tracking_no",
        "sku",
        "expected_sku",
        "scanned_sku",
        "external_id",
        "customer_id",
        "ticket_id",
    }
)


def id_problem(value: str) -> str | None:
    """Why `value` is not acceptable as an id (Korean first, then English), or None when it is."""
    found = FORBIDDEN_ID_CHARS.search(value)
    if found is None:
        return None
    char = f"U+{ord(found.group(0)):04X}"
    return (
        f"ID에는 제어 문자나 보이지 않는 서식 문자({char})를 쓸 수 없습니다 / "
        f"ids may not contain control or invisible formatting characters (found {char})"
    )


# JSON Schema (OpenAPI) readers use ECMA-262 or Python regexes, not Rust's \\x{...}: the same rule in
# \\uXXXX escapes for the Basic Multilingual Plane (tag characters are checked, just not described here).
_SCHEMA_PATTERN = (
    "^[^"
    + "".join(f"\\u{a:04X}-\\u{b:04X}" if a != b else f"\\u{a:04X}" for a, b in _RANGES if b <= 0xFFFF)
    + "]*$"
)


def _portable(schema: dict[str, Any]) -> None:
    if schema.get("pattern") == SAFE_ID_PATTERN:
        schema["pattern"] = _SCHEMA_PATTERN
        schema.setdefault("description", "no control or invisible format characters (the id rule)")


# Use as a field type wherever an id enters a pydantic model (events, request bodies, path parameters);
# a violation is the error type "string_pattern_mismatch" with this pattern (see `is_id_error`).
SafeId = Annotated[str, StringConstraints(pattern=SAFE_ID_PATTERN), Field(json_schema_extra=_portable)]


def is_id_error(error: dict[str, Any]) -> bool:
    """Whether a pydantic error dict is a violation of the id rule."""
    ctx = error.get("ctx") or {}
    return error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == SAFE_ID_PATTERN


def visible(value: str) -> str:
    """`value` with every forbidden character written out as <U+XXXX> (for quarantine rows and logs)."""
    if FORBIDDEN_ID_CHARS.search(value) is None:
        return value
    return FORBIDDEN_ID_CHARS.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", value)
