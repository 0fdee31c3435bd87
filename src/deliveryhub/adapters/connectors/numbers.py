"""Tracking-number validation per carrier and carrier detection from a number.

Each Korean carrier's rule is data in ``carriers.yaml``: the digit counts of a valid number (after removing
spaces and hyphens) and an optional check (``mod7``: Lotte's last digit is the preceding digits mod 7).
``detect_carrier`` only proposes candidates; an operator's manual choice is handled by the caller.
"""

from __future__ import annotations

import re

from deliveryhub.adapters.connectors.statuses import vocabulary

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
    rule = vocabulary().korean.get(carrier)
    if rule is None or not digits.isdigit() or not digits.isascii() or len(digits) not in rule.lengths:
        return False
    if rule.check == "mod7":
        return mod7_check(digits)
    return True


def detect_carrier(tracking_no: str) -> list[str]:
    """Carriers whose rules accept ``tracking_no``, most likely first; empty if none."""
    return [carrier for carrier in DETECTION_ORDER if is_valid(carrier, tracking_no)]
