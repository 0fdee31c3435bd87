"""Korean phone numbers on `phonenumbers`: one normal form (E.164, +8210…) for mobiles, 050x safe
numbers, 070 internet phones, landlines and 15xx/16xx representative numbers."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    text = raw.strip()
    if not text:
        return None
    # "8210…" without the plus is how some marketplaces export numbers: read it as international.
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith(("+", "0")) and digits.startswith("82") and len(digits) >= 10:
        text = "+" + digits
    try:
        return phonenumbers.parse(text, "KR")
    except NumberParseException:
        return None


def normalize_kr_phone(raw: str | None, *, allow_foreign: bool = False) -> str | None:
    """`raw` as E.164 (`+821012345678`) when it is a valid Korean number (foreign ones only when
    `allow_foreign`); None for anything else."""
    if not raw:
        return None
    number = _parse(str(raw))
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    if number.country_code != 82 and not allow_foreign:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether the number reaches a mobile phone (can get SMS/알림톡)."""
    number = _parse(e164)
    return number is not None and phonenumbers.number_type(number) in _MOBILE_TYPES


def is_safe_number(e164: str) -> bool:
    """Whether the number is a 050x personal safe number (안심번호) a marketplace hands out."""
    number = _parse(e164)
    return number is not None and number.country_code == 82 and str(number.national_number).startswith("50")


def format_kr(e164: str) -> str:
    """A number as Koreans write it (010-1234-5678, 02-123-4567, 0504-1234-5678); unparseable text as is."""
    number = _parse(e164)
    if number is None:
        return e164
    if number.country_code != 82:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = str(number.national_number)
    # phonenumbers writes 12-digit 050x safe numbers as 050-X1234-5678; they are read 050X-1234-5678.
    if national.startswith("50") and len(national) == 11:
        return f"0{national[:3]}-{national[3:7]}-{national[7:]}"
    return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
