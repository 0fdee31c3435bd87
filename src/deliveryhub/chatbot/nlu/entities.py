# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""Entity extraction from customer messages: order numbers, tracking numbers (+ carrier), phones,
dates and product options.

``extract_entities(text)`` returns only the keys it found, among:

* ``order_id`` -- ``"ORD-2024-000123"`` (upper-cased), ``"20241103-0001234"``, or bare digits that follow
  an order keyword (주문번호 / 주문 / order);
* ``tracking_no`` and ``carrier`` -- 10-13 digit waybill numbers (dashes allowed) after a tracking keyword
  (송장 / 운송장 / 트래킹 / tracking / 택배 번호) or standing alone; the carrier comes from a carrier name in
  the text, otherwise from :func:`detect_carrier`;
* ``phone`` -- ``"010-1234-5678"`` (normalised with dashes);  ``phone_last4`` -- when the whole message
  is just four digits, or four digits after 뒷자리 / 끝자리 / 끝번호 / last 4; also derived from ``phone``;
* ``dates`` -- list of ``"YYYY-MM-DD"``, ``"--MM-DD"`` (month/day without a year, ISO 8601) or relative
  words ``"today"``, ``"yesterday"``, ``"day_before_yesterday"``, ``"tomorrow"``, ``"day_after_tomorrow"``,
  ``"last_week"``, ``"this_week"``, ``"next_week"``, ``"weekend"`` or ``"N_days_ago"``;
* ``options`` -- list of colour / size words (``"블랙"``, ``"L"``, ``"260"``, ``"free"``...), in text order.
"""

from __future__ import annotations

import re
from typing import Any

from deliveryhub.chatbot.nlu.normalize import basic_clean, fold_width, rx_table

CARRIERS = ("cj", "lotte", "hanjin", "epost", "logen")

_CARRIER_NAMES = rx_table(
    {
        r"cj\s*대한통운|대한통운|씨제이|cj\s*(택배|logistics)?|cj": "cj",
        r"롯데\s*(택배|글로벌)?|lotte": "lotte",
        r"한진\s*(택배)?|hanjin": "hanjin",
        r"우체국\s*(택배)?|우편|epost|korea\s*post": "epost",
        r"로젠\s*(택배)?|logen": "logen",
    }
)


def _mod7_ok(digits: str) -> bool:
    return int(digits[:-1]) % 7 == int(digits[-1])


def detect_carrier(tracking_no: str) -> str | None:
    """Guess the Korean carrier from the shape of a waybill number (dashes and spaces ignored).

    Rules (simple on purpose): 13 digits -> ``epost``; 12 digits whose last digit is the first eleven
    mod 7 -> ``lotte``, other 12 digits -> ``cj`` (CJ also issues 10-12 digits; Hanjin 10/12 is
    indistinguishable and therefore never guessed from shape alone); 11 digits -> ``logen``;
    10 digits -> ``cj``. Anything else -> ``None``.
    """
    digits = re.sub(r"[\s-]", "", tracking_no)
    if not digits.isdigit():
        return None
    n = len(digits)
    if n == 13:
        return "epost"
    if n == 12:
        return "lotte" if _mod7_ok(digits) else "cj"
    if n == 11:
        return "logen"
    if n == 10:
        return "cj"
    return None


def carrier_from_text(text: str) -> str | None:
    """Carrier named in the text (``"CJ대한통운"``, ``"롯데택배"``, ``"우체국"``...), if any."""
    low = basic_clean(text)
    for pattern, name in _CARRIER_NAMES:
        if name == "cj":
            if re.search(r"(?<![a-z])cj(?![a-z])|대한통운|씨제이", low):
                return name
            continue
        if pattern.search(low):
            return name
    return None


# A letter prefix and digit groups joined by hyphens, taken whole: ORD-2024-000123, ORD-261204-7900123 (the
# demo's), A-2026-12-00042. At least six digits, so sizes and model names ("XL-100") are not order numbers.
_ORDER_CODE = re.compile(r"(?<![A-Za-z0-9-])([A-Za-z]{1,5}-?\d{2,14}(?:-\d{1,14}){0,3})(?![A-Za-z0-9]|-\d)")
_ORDER_CODE_MIN_DIGITS = 6
_ORDER_DATE_SEQ = re.compile(r"(?<!\d)((?:19|20)\d{6}-\d{4,10})(?![\d])")
_PHONE = re.compile(r"(?<!\d)(01[016789])[-. ]?(\d{3,4})[-. ]?(\d{4})(?!\d)")
_ORDER_KW = re.compile(
    r"(주문\s*번호|주문|order\s*(?:no\.?|number|id|#)?|오더)\s*[:#]?\s*(?:는|은|가|이)?\s*$"
)
_TRACK_KW = re.compile(
    r"(운송장|송장|트래킹|tracking|waybill|택배\s*번호|배송\s*번호|invoice)\s*(?:no\.?|number|번호)?\s*"
    r"[:#]?\s*(?:는|은|가|이)?\s*$"
)
_DIGIT_RUN = re.compile(r"(?<![\d-])(\d[\d-]{3,18}\d)(?![\d-])")
_LAST4_KW = re.compile(
    r"(뒷\s*자리|끝\s*자리|끝\s*번호|뒷\s*번호|뒤\s*4\s*자리|뒤\s*네\s*자리|last\s*(?:4|four))\D{0,8}(\d{4})(?!\d)"
)

_DATE_ISO = re.compile(r"(?<!\d)((?:19|20)\d{2})[-./년\s]\s*(\d{1,2})[-./월\s]\s*(\d{1,2})\s*일?(?!\d)")
_DATE_MD = re.compile(r"(?<!\d)(\d{1,2})\s*월\s*(\d{1,2})\s*일")
_DATE_SLASH = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})(?![\d/])")
_DAYS_AGO = re.compile(r"(\d{1,2}|한|두|세|네|닷새|사흘|나흘|이틀)\s*(일|날)\s*(전|째)")
_REL_DATES = rx_table(
    {
        r"그저께|그제": "day_before_yesterday",
        r"어제|어저께|yesterday|ontem": "yesterday",
        r"오늘|금일|today|hoje": "today",
        r"내일|tomorrow|amanha": "tomorrow",
        r"모레|모래까지|day after tomorrow": "day_after_tomorrow",
        r"지난\s*주|저번\s*주|last week": "last_week",
        r"이번\s*주|this week": "this_week",
        r"다음\s*주|담주|next week": "next_week",
        r"주말|weekend": "weekend",
    }
)
_KO_NUM = {"한": 1, "두": 2, "세": 3, "네": 4, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5}

_COLOURS = [
    "블랙",
    "화이트",
    "네이비",
    "베이지",
    "그레이",
    "회색",
    "차콜",
    "아이보리",
    "카키",
    "브라운",
    "레드",
    "빨간색",
    "핑크",
    "블루",
    "파란색",
    "스카이블루",
    "민트",
    "그린",
    "초록색",
    "옐로우",
    "노란색",
    "퍼플",
    "보라색",
    "오렌지",
    "실버",
    "골드",
    "검정색",
    "검은색",
    "검정",
    "흰색",
    "하얀색",
    "크림",
    "와인",
    "멜란지",
    "연청",
    "중청",
    "진청",
    "black",
    "white",
    "navy",
    "beige",
    "grey",
    "gray",
    "red",
    "pink",
    "blue",
    "green",
    "ivory",
    "khaki",
    "brown",
]
_COLOUR_RE = re.compile("|".join(sorted((re.escape(c) for c in _COLOURS), key=len, reverse=True)))
_SIZE_LETTER = re.compile(
    r"(?<![a-z0-9])(xxs|xs|s|m|l|xl|xxl|2xl|3xl|xxxl|free|프리)\s*(?:사이즈|size|싸이즈)"
)
_SIZE_BARE = re.compile(r"(?<![a-z0-9])(xxs|xs|xl|xxl|2xl|3xl|xxxl)(?![a-z0-9])")
_SIZE_WORD = re.compile(
    r"(?:사이즈|size|싸이즈)\s*(?:는|를|가|은|이|을)?\s*(xxs|xs|s|m|l|xl|xxl|2xl|3xl|free|\d{2,3})(?![a-z0-9])"
)
_SIZE_CODES = frozenset({"xxs", "xs", "s", "m", "l", "xl", "xxl", "2xl", "3xl", "xxxl"})
_SIZE_KO = {
    "스몰": "s",
    "미디움": "m",
    "미디엄": "m",
    "라지": "l",
    "엑스라지": "xl",
    "투엑스라지": "xxl",
    "프리": "free",
}
_SIZE_KO_RE = re.compile(r"(투엑스라지|엑스라지|스몰|미디움|미디엄|라지)(?:\s*사이즈)?")
_SHOE = re.compile(r"(?<![\d-])(2[2-9][05]|300)(?:\s*(mm|미리|사이즈|size|호))?(?![\d-])")


def _to_ko_digit(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _KO_NUM.get(word)


def _find_dates(low: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_ISO.finditer(low):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            found.append((m.start(), f"{y:04d}-{mo:02d}-{d:02d}"))
            taken.append(m.span())
    for rx in (_DATE_MD, _DATE_SLASH):  # month-day forms, never inside a full date already found
        for m in rx.finditer(low):
            if any(a <= m.start() < b for a, b in taken):
                continue
            mo, d = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12 and 1 <= d <= 31:
                found.append((m.start(), f"--{mo:02d}-{d:02d}"))
                taken.append(m.span())
    for m in _DAYS_AGO.finditer(low):
        n = _to_ko_digit(m.group(1))
        if n is not None and m.group(3) == "전":
            found.append((m.start(), f"{n}_days_ago"))
    for pattern, value in _REL_DATES:
        for m in pattern.finditer(low):
            found.append((m.start(), value))
    found.sort()
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for pos, value in found:
        if value not in seen:
            seen.add(value)
            out.append((pos, value))
    return out


def _find_options(low: str, number_spans: list[tuple[int, int]]) -> list[str]:
    found: list[tuple[int, str]] = []
    for m in _COLOUR_RE.finditer(low):
        found.append((m.start(), m.group(0)))
    for rx in (_SIZE_LETTER, _SIZE_WORD):
        for m in rx.finditer(low):
            found.append((m.start(1), m.group(1).replace("프리", "free")))
    for m in _SIZE_BARE.finditer(low):
        found.append((m.start(1), m.group(1)))
    for m in _SIZE_KO_RE.finditer(low):
        found.append((m.start(1), _SIZE_KO[m.group(1)]))
    for m in _SHOE.finditer(low):
        if any(a <= m.start() < b for a, b in number_spans):
            continue
        after = low[m.end() : m.end() + 2]
        # "260" but not "260원", "260개", "260만"
        if after[:1] in {"원", "개", "만", "건", "번", "%", "일", "시", "분", "명", "g", "k"}:
            continue
        found.append((m.start(1), m.group(1)))
    found.sort()
    out: list[str] = []
    for _pos, raw in found:
        value = raw.upper() if raw in _SIZE_CODES else raw
        if value not in out:
            out.append(value)
    return out


def extract_entities(text: str) -> dict[str, Any]:
    """Entities found in one message; keys are present only when something was found."""
    low = basic_clean(text)
    ents: dict[str, Any] = {}
    spans: list[tuple[int, int]] = []

    m = _PHONE.search(low)
    if m:
        ents["phone"] = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        ents["phone_last4"] = m.group(3)
        spans.append(m.span())

    dates = _find_dates(low)
    for dm in _DATE_ISO.finditer(low):
        spans.append(dm.span())

    for m in _ORDER_CODE.finditer(low):
        code = m.group(1)
        if sum(ch.isdigit() for ch in code) < _ORDER_CODE_MIN_DIGITS:
            continue
        if not (code.startswith(("cj", "kr")) and not re.search(r"ord|주문", low)):
            ents["order_id"] = code.upper()
            spans.append(m.span())
        break
    if "order_id" not in ents:
        m = _ORDER_DATE_SEQ.search(low)
        if m:
            ents["order_id"] = m.group(1)
            spans.append(m.span())

    for m in _DIGIT_RUN.finditer(low):
        if any(a <= m.start() < b for a, b in spans):
            continue
        raw = m.group(1)
        digits = raw.replace("-", "")
        if not digits.isdigit() or len(digits) < 6:
            continue
        if len(raw) - len(digits) > 3:  # looks like a date or something else with many dashes
            continue
        before = low[max(0, m.start() - 24) : m.start()]
        if _ORDER_KW.search(before) and "order_id" not in ents:
            ents["order_id"] = digits
            spans.append(m.span())
        elif _TRACK_KW.search(before) or (10 <= len(digits) <= 13 and not digits.startswith("01")):
            if "tracking_no" not in ents and 9 <= len(digits) <= 14:
                ents["tracking_no"] = digits
                spans.append(m.span())
        elif (
            6 <= len(digits) <= 9
            and "order_id" not in ents
            and not re.search(r"원|won", low[m.end() : m.end() + 2])
        ):
            ents["order_id"] = digits
            spans.append(m.span())

    if "tracking_no" in ents:
        carrier = carrier_from_text(low) or detect_carrier(ents["tracking_no"])
        if carrier:
            ents["carrier"] = carrier
    else:
        carrier = carrier_from_text(low)
        if carrier:
            ents["carrier"] = carrier

    stripped = re.sub(r"[\s.!?~]", "", low)
    if re.fullmatch(r"\d{4}", stripped):
        ents["phone_last4"] = stripped
    else:
        m = _LAST4_KW.search(low)
        if m:
            ents["phone_last4"] = m.group(2)
            spans.append(m.span(2))

    if dates:
        ents["dates"] = [v for _p, v in dates]
        spans.extend((p, p + 10) for p, v in dates if v[:1].isdigit() or v.startswith("--"))

    options = _find_options(low, spans)
    if options:
        ents["options"] = options
    return ents


# Any run of letters, digits and hyphens: Korean particles (ORD-…이고, …로) are never part of one.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_CANDIDATE_MIN_DIGITS = 5
_CANDIDATE_MAX_LEN = 64
_FOUR = re.compile(
    r"(?<![A-Za-z0-9-])(\d{4})(?![A-Za-z0-9-])(?!\s*(?:년|원|개|건|명|월|일|시|분|호|번|mm|미리))"
)


def order_candidates(text: str) -> list[str]:
    """Tokens of `text` that may be an order number in any shop's format (full-width folded, case kept),
    in text order: runs of letters, digits and hyphens with at least five digits. The hub decides by
    looking them up among the orders it holds (chatbot.verify.find_order)."""
    out: list[str] = []
    for m in _TOKEN.finditer(fold_width(text)):
        token = m.group(0)
        digits = sum(ch.isdigit() for ch in token)
        if len(token) <= _CANDIDATE_MAX_LEN and digits >= _CANDIDATE_MIN_DIGITS and token not in out:
            out.append(token)
    return out


def unheld_order_like(token: str) -> bool:
    """Whether a candidate no order matched still reads as an order number: eight digits or more and not
    a mobile number (010…)."""
    digits = re.sub(r"\D", "", token)
    return len(digits) >= 8 and not (token.replace("-", "").isdigit() and _PHONE.fullmatch(token) is not None)


def loose_last4(text: str, numbers: list[str]) -> str | None:
    """The one bare four-digit group in a message that also names an order ("ORD-… / 6709"), if exactly
    one stands apart from the `numbers` typed (not a year, an amount or a count)."""
    rest = fold_width(text)
    for number in numbers:
        rest = rest.replace(number, " ")
    found = {m.group(1) for m in _FOUR.finditer(rest)}
    return found.pop() if len(found) == 1 else None
