"""Tracking-number validation per carrier and carrier detection from a number.

Rules (digits only, after removing spaces and hyphens):

=========  =================  ====================================================================
carrier    lengths            check
=========  =================  ====================================================================
cj         10 or 12           none (tracker.delivery ``kr.cjlogistics``: ``^\\d{10}(\\d{2})?$``; the real
                              CJ number 553825406594 fails a Lotte-style mod-7 check, so none is applied)
lotte      12                 last digit == int(first 11 digits) % 7
hanjin     10, 12 or 14       none (brief: 10/12; tracker.delivery ``kr.hanjin``: 12/14)
epost      13                 none
logen      11                 none
=========  =================  ====================================================================

``detect_carrier`` only proposes candidates; an operator's manual choice is handled by the caller.
"""

from __future__ import annotations

import re

LENGTHS: dict[str, frozenset[int]] = {
    "cj": frozenset({10, 12}),
    "lotte": frozenset({12}),
    "hanjin": frozenset({10, 12, 14}),
    "epost": frozenset({13}),
    "logen": frozenset({11}),
}

# Most specific first: a check-digit match is stronger evidence than a length match.
DETECTION_ORDER: tuple[str, ...] = ("lotte", "epost", "logen", "cj", "hanjin")


def clean(tracking_no: str) -> str:
    """Strip spaces and hyphens ("6078-9210-07831" -> "6078921007831")."""
    return re.sub(r"[\s\-]", "", tracking_no) if isinstance(tracking_no, str) else ""


def mod7_check(digits: str) -> bool:
    """Lotte check digit: the last digit equals the preceding digits as an integer mod 7."""
    if len(digits) < 2 or not digits.isdigit():
        return False
    return int(digits[:-1]) % 7 == int(digits[-1])


def is_valid(carrier: str, tracking_no: str) -> bool:
    """Whether ``tracking_no`` is well-formed for ``carrier`` (unknown carrier -> False)."""
    digits = clean(tracking_no)
    lengths = LENGTHS.get(carrier)
    if lengths is None or not digits.isdigit() or not digits.isascii() or len(digits) not in lengths:
        return False
    if carrier == "lotte":
        return mod7_check(digits)
    return True


def detect_carrier(tracking_no: str) -> list[str]:
    """Carriers whose rules accept ``tracking_no``, most likely first; empty if none."""
    return [carrier for carrier in DETECTION_ORDER if is_valid(carrier, tracking_no)]
