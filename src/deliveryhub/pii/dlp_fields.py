"""DLP for structured payloads: free text and unknown vendor fields (`memo`, `gift_message`, `note`, …).

Strings are masked with `dlp.mask_text` (phones in any Korean form, e-mails, 주민등록번호, cards,
accounts, addresses, names in context) and cleaned of control and bidi-override characters. A field
whose *name* says what it holds (`receiver_phone`, `buyer_email`, `수령인`, `recipient.name`, `password`)
is masked whatever its value looks like, numbers included: a bare name cannot be recognised by its text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from deliveryhub.pii import dlp

MAX_DEPTH = 64
# C0/C1 controls (tab, newline and carriage return are text) and the bidi embeddings, overrides and
# isolates that can make stored text display reversed (a masked number shown as another one).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The same characters as orjson writes them: C0 escaped (\\u00XX, \\b, \\f; tab/newline/CR are text),
# DEL, C1 and the bidi controls as raw UTF-8.
_CONTROL_IN_JSON = re.compile(
    rb"\\u00[01][0-9a-f]|\\[bf]|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)
# Anything clean_text could change: a control/bidi character or a trigger of dlp's detectors.
_NOTHING_TO_DO = re.compile(f"{_CONTROL.pattern}|{dlp.QUICK.pattern}", re.IGNORECASE)
_TOKENS = re.compile(r"[_\-\s.:/]+|(?<=[a-z])(?=[A-Z])")
_PERSON = frozenset(
    {
        "recipient",
        "receiver",
        "buyer",
        "orderer",
        "sender",
        "customer",
        "driver",
        "contact",
        "consignee",
        "shipper",
        "courier",
        "member",
        "user",
        "holder",
        "owner",
        "first",
        "last",
        "full",
        "nick",
        "person",
    }
)
_PERSON_KO = re.compile(
    r"(?:수령인|수취인|받는(?:분|사람)|보내는(?:분|사람)|주문자|구매자|예금주|고객|(?:배송|택배)?기사)(?:님)?"
)
_NAME_KO = re.compile(r"이름|성명|성함|(?:수령인|수취인|받는분|보내는분|주문자|구매자|예금주|고객|기사)명")
_PHONE_WORDS = ("phone", "mobile", "연락처", "전화", "휴대", "핸드폰")
_ADDRESS_WORDS = ("address", "addr", "주소", "street", "zipcode", "postcode", "postal")
_NAME_PARTS = frozenset({"name", "first", "last", "full", "first_name", "last_name"})
_NUMBER_KINDS = frozenset({"phone", "email", "rrn", "card", "account", "secret", "name"})
_SECRET = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "cookie",
        "otp",
        "totp",
        "cvc",
        "cvv",
        "pin",
    }
)


@lru_cache(maxsize=4096)
def key_kind(key: str) -> str | None:
    """What a field name says its value is: phone, email, rrn, card, account, address, name, person,
    secret, or None (the value is judged by its text only)."""
    low = key.lower()
    tokens = {t for t in _TOKENS.split(key.strip()) if t}
    tokens = {t.lower() for t in tokens}
    flat = low.replace("_", "").replace("-", "").replace(" ", "")
    if tokens & _SECRET or flat in _SECRET or "password" in flat or "apikey" in flat:
        return "secret"
    if any(w in flat for w in _PHONE_WORDS) or tokens & {"tel", "hp", "cell", "fax"}:
        return "phone"
    if any(w in flat for w in ("email", "이메일", "메일")) or "mail" in tokens:
        return "email"
    if any(w in flat for w in ("rrn", "ssn", "주민", "resident", "jumin")):
        return "rrn"
    if ("card" in tokens and tokens & {"no", "number", "num"}) or "cardnumber" in flat or "카드번호" in flat:
        return "card"
    if ("account" in tokens and tokens & {"no", "number", "num"}) or any(
        w in flat for w in ("계좌", "iban", "bankaccount", "accountnumber")
    ):
        return "account"
    if any(w in flat for w in _ADDRESS_WORDS) or tokens & {"zip", "line1", "line2"}:
        return "address"
    if ("name" in tokens and tokens & _PERSON) or flat in ("fullname", "realname") or _NAME_KO.search(flat):
        return "name"
    if _PERSON_KO.fullmatch(flat) or (tokens and tokens <= _PERSON):
        return "person"
    return None


def clean_text(text: str) -> str:
    """Free text without control/bidi-override characters and with its personal data masked."""
    if _NOTHING_TO_DO.search(text) is None:  # the common case, answered by one scan
        return text
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return dlp.mask_text(text) or text


def strip_controls(value: Any, depth: int = 0) -> Any:
    """`value` with control and bidi-override characters removed from every string (nothing masked)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value) if _CONTROL.search(value) else value
    if depth > MAX_DEPTH:
        return None
    if depth == 0 and isinstance(value, dict | list):
        try:  # one C-speed pass over the JSON form: most objects have nothing to strip
            if _CONTROL_IN_JSON.search(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)) is None:
                return value
        except (TypeError, orjson.JSONEncodeError):
            pass
    if isinstance(value, dict):
        return {strip_controls(str(k)): strip_controls(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_controls(v, depth + 1) for v in value]
    return value


def _by_kind(kind: str, value: str) -> str:
    if kind == "secret":
        return "***" if value else value
    if kind == "name":
        return clean_text(value) if dlp.contains_personal_data(value) else (dlp.mask_name(value) or "")
    if kind == "address":
        return dlp.mask_address(value) if value.strip() else value
    masked = clean_text(value)
    if masked != value or not re.search(r"\d", value):
        return masked
    # A number under a phone/rrn/card/account key in a form no pattern knows: hide all but its end.
    digits = re.sub(r"\D", "", value)
    return "*" * max(0, len(digits) - 2) + digits[-2:] if len(digits) > 4 else "****"


def mask_unknown(key: str, value: Any, depth: int = 0, person: bool = False) -> Any:
    """`value` of the field `key` with every string masked (keys of nested objects too)."""
    if depth > MAX_DEPTH:
        return None
    kind = key_kind(key) if key else None
    if person and kind is None and key.lower() in _NAME_PARTS:
        kind = "name"
    if isinstance(value, str):
        if kind == "person" and _bare_name(value):
            return dlp.mask_name(value) or ""
        return clean_text(value) if kind in (None, "person") else _by_kind(kind, value)
    if isinstance(value, dict):
        inner = person or kind in ("person", "name")
        return {clean_text(str(k)): mask_unknown(str(k), v, depth + 1, inner) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_unknown(key, v, depth + 1, person) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and kind in _NUMBER_KINDS:
        return _by_kind(kind, str(value))
    return value


_BARE_NAME = re.compile(r"[가-힣]{2,4}|[A-Z][a-z'-]+(?: [A-Z][a-z.'-]*){1,2}")


def _bare_name(value: str) -> bool:
    return bool(_BARE_NAME.fullmatch(value.strip()))
