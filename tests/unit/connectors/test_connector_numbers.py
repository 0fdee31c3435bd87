"""Tracking-number validation and carrier detection."""

from __future__ import annotations

import pytest

from deliveryhub.adapters.connectors import numbers


def lotte_number(first11: str) -> str:
    return first11 + str(int(first11) % 7)


@pytest.mark.parametrize(
    ("carrier", "number", "valid"),
    [
        ("cj", "553825406594", True),  # real CJ number (korean_tracking/): 12 digits, no mod-7 check
        ("cj", "1234567890", True),
        ("cj", "12345678901", False),
        ("cj", "12345678901a", False),
        ("lotte", lotte_number("30912345678"), True),
        ("lotte", "309123456780" if int("30912345678") % 7 != 0 else "309123456781", False),
        ("lotte", "1234567890", False),
        ("hanjin", "1234567890", True),
        ("hanjin", "123456789012", True),
        ("hanjin", "12345678901234", True),
        ("hanjin", "1234567890123", False),
        ("epost", "6078921007831", True),  # real epost number (korean_tracking/)
        ("epost", "607892100783", False),
        ("logen", "12345678901", True),
        ("logen", "1234567890", False),
        ("nosuch", "1234567890", False),
        ("cj", "５５３８２５４０６５９４", False),  # full-width digits are not accepted
    ],
)
def test_is_valid(carrier: str, number: str, valid: bool) -> None:
    assert numbers.is_valid(carrier, number) is valid


def test_hyphens_and_spaces_are_ignored() -> None:
    assert numbers.is_valid("epost", "6078-9210-07831")
    assert numbers.is_valid("cj", " 5538 2540 6594 ")


def test_lotte_check_digit() -> None:
    assert numbers.mod7_check("309123456784") is (int("30912345678") % 7 == 4)
    assert not numbers.mod7_check("")


@pytest.mark.parametrize(
    ("number", "candidates"),
    [
        ("553825406594", ["cj", "hanjin"]),
        (lotte_number("30912345678"), ["lotte", "cj", "hanjin"]),
        ("6078921007831", ["epost"]),
        ("12345678901", ["logen"]),
        ("12345678901234", ["hanjin"]),
        ("1234", []),
        ("", []),
    ],
)
def test_detect_carrier(number: str, candidates: list[str]) -> None:
    assert numbers.detect_carrier(number) == candidates
