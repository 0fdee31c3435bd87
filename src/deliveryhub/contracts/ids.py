"""The one rule for identifiers (order, event, shipment and customer ids, tracking numbers, SKUs).

An id may not carry NUL, C0/C1 control characters or invisible Unicode format characters (bidi
embeddings/overrides/isolates, zero-width characters, the BOM, line/paragraph separators): they make two
ids that look the same differ, hide a reversed id in a screen or a CSV export (U+202E), break
PostgreSQL (NUL) and terminal output. Everything else is left to the field's own length rules.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# C0, DEL, C1; soft hyphen; Arabic letter mark; Mongolian vowel separator; zero-width space/joiners and
# LRM/RLM (U+200B–U+200F); line/paragraph separators, bidi embeddings and overrides (U+2028–U+202E);
# word joiner, invisible operators, bidi isolates and deprecated format controls (U+2060–U+206F); BOM;
# interlinear annotation controls; Unicode tag characters; lone surrogates.
FORBIDDEN_ID_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f\ud800-\udfff]"
)
ID_ERROR_CODE = "invalid_id"
# Field names that hold ids wherever they appear (CSV mapping targets, query parameters).
ID_FIELDS = frozenset(
    {"event_id", "order_id", "shipment_id", "tracking_no", "sku", "expected_sku", "scanned_sku",
     "external_id", "customer_id", "ticket_id"}
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


def _checked(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise PydanticCustomError(ID_ERROR_CODE, problem)
    return value


# Use as a field type wherever an id enters a pydantic model (events, request bodies, path parameters).
SafeId = Annotated[str, AfterValidator(_checked)]


def visible(value: str) -> str:
    """`value` with every forbidden character written out as <U+XXXX> (for quarantine rows and logs)."""
    if FORBIDDEN_ID_CHARS.search(value) is None:
        return value
    return FORBIDDEN_ID_CHARS.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", value)
