"""Detect and mask personal data in free text (tickets, chats, carrier messages, logs)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PHONE = re.compile(r"(?<!\d)(01[016789])[-. ]?(\d{3,4})[-. ]?(\d{4})(?!\d)|(?<!\d)(\+82)[-. ]?(1[016789])[-. ]?(\d{3,4})[-. ]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_RRN = re.compile(r"(?<!\d)(\d{6})[- ]?([1-8]\d{6})(?!\d)")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){13,19}(?!\d)")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text."""

    kind: str
    start: int
    end: int


def rrn_valid(digits13: str) -> bool:
    """Checksum of a Korean resident registration number (weights 2..9,2..5, mod 11)."""
    if len(digits13) != 13 or not digits13.isdigit():
        return False
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(digits13[:12], weights, strict=True))
    return (11 - total % 11) % 10 == int(digits13[12])


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_personal_data(text: str) -> list[Finding]:
    """Every span of personal data in `text` (RRNs and cards only with valid checksums)."""
    found: list[Finding] = []
    for m in _RRN.finditer(text):
        if rrn_valid(m.group(1) + m.group(2)):
            found.append(Finding("rrn", m.start(), m.end()))
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and not _overlaps(found, m.start(), m.end()):
            found.append(Finding("card", m.start(), m.end()))
    for m in _PHONE.finditer(text):
        if not _overlaps(found, m.start(), m.end()):
            found.append(Finding("phone", m.start(), m.end()))
    for m in _EMAIL.finditer(text):
        found.append(Finding("email", m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _overlaps(found: list[Finding], start: int, end: int) -> bool:
    return any(f.start < end and start < f.end for f in found)


def _mask_span(kind: str, value: str) -> str:
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return f"{digits[:3]}-****-{digits[-4:]}" if not value.startswith("+") else "+82-**-****-" + digits[-4:]
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "rrn":
        return value[:6] + "-*******"
    if kind == "card":
        digits = re.sub(r"\D", "", value)
        return "****-****-****-" + digits[-4:]
    return "*" * len(value)


def mask_text(text: str | None) -> str | None:
    """`text` with every personal-data span masked."""
    if not text:
        return text
    out, last = [], 0
    for f in find_personal_data(text):
        out.append(text[last : f.start])
        out.append(_mask_span(f.kind, text[f.start : f.end]))
        last = f.end
    out.append(text[last:])
    return "".join(out)


def mask_name(name: str | None) -> str | None:
    """Korean-style name masking: 홍길동 → 홍*동, 김철 → 김*."""
    if not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    """010-1234-5678 → 010-****-5678."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    return f"{digits[:3]}-****-{digits[-4:]}" if len(digits) >= 8 else "****"
