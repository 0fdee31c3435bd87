"""Data-loss prevention: find and mask personal data in free text (tickets, chats, carrier messages, logs).

Detected kinds: Korean resident/foreigner registration numbers (valid date; checksum when written
without the hyphen), card numbers (Luhn, real issuer prefixes), phone numbers (mobile, +82, landline,
050x/070), bank account numbers (grouped digits, or a long digit run next to a bank word), e-mail
addresses and street addresses (Korean road-name and lot-number addresses, common English forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from deliveryhub.logs import RewritingFilter, masking_processor

# Separators people (and evaders) write between digit groups: "-", ".", "/", spaces, or a dash with spaces.
_SEP = r"(?:[ \t]{0,2}[-./][ \t]{0,2}|[ \t]{1,2})?"
_PHONE = re.compile(
    rf"(?<![\d-])\(?(01[016789])\)?{_SEP}(\d{{3,4}}){_SEP}(\d{{4}})(?![\d-])"
    rf"|(?<![\d+])(\+82|0082|82){_SEP}\(?0?\)?(1[016789]|2|[3-6][1-5]|70){_SEP}(\d{{3,4}}){_SEP}(\d{{4}})(?![\d-])"
    rf"|(?<![\d-])\(?(02|0[3-6][1-5]|070|050\d)(?:\)[ \t]*|[ \t]{{0,2}}[-./][ \t]{{0,2}}|[ \t]{{1,2}})"
    rf"(\d{{3,4}}){_SEP}(\d{{4}})(?![\d-])"
)
# A mobile number read out in Korean digit words ("공일공 일이삼사 오육칠팔"), possibly mixed with digits.
_KO_DIGIT = "공영일이삼사오육륙칠팔구"
_KO_DIGIT_VALUE = str.maketrans("공영일이삼사오육륙칠팔구", "001234566789")
_PHONE_KO = re.compile(
    rf"[0공영][ \t.-]?[1일][ \t.-]?[016789공영일육칠팔구](?:[ \t.-]{{0,3}}[0-9{_KO_DIGIT}]){{7,8}}(?![0-9])"
)
# Every pattern starts only where a run of its characters starts and bounds its repeats: on a long run
# without "@" (100,000 digits in a memo) an unanchored "[…]+@" retries from every position (quadratic).
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
# "kim (at) example (dot) com", "kim[at]example.com": the usual ways to dodge a filter.
_EMAIL_OBF = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}\s?[\[(]\s?at\s?[\])]\s?[A-Za-z0-9-]{1,63}"
    r"(?:\s?(?:\.|[\[(]\s?dot\s?[\])])\s?[A-Za-z]{2,24}){1,8}",
    re.IGNORECASE,
)
_RRN = re.compile(r"(?<![\d-])(\d{2})(\d{2})(\d{2})(\s?-\s?|\s)?([1-8])(\d{6})(?![\d-])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_ACCOUNT_GROUPED = re.compile(r"(?<![\w-])\d{2,6}-\d{2,6}-\d{1,7}(?:-\d{1,3})?(?![\w-])")
_DIGIT_RUN = re.compile(r"(?<![\w-])\d{10,14}(?![\w-])")
_BANK_WORDS = re.compile(
    r"(계좌|은행|입금|송금|예금주|농협|국민|신한|우리|하나|기업|"
    r"카카오뱅크|토스뱅크|새마을|우체국|수협|account|bank|iban)",
    re.IGNORECASE,
)
_PROVINCE = (
    r"(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주)"
    r"(?:특별시|광역시|특별자치시|특별자치도|도)?"
)
_CITY = r"[가-힣]{1,6}(?:시|군|구)"
_ROAD = (
    rf"(?:{_PROVINCE}\s*)?(?:{_CITY}\s+){{0,2}}"
    r"[가-힣0-9]{1,12}(?:대로|로|길)\s?\d{1,4}(?:-\d{1,4})?(?:번길\s?\d{1,4})?"
    r"(?:\s*,?\s*(?:[가-힣A-Za-z0-9]{1,15}\s*)?(?:\d{1,4}\s?동\s*)?\d{1,5}\s?(?:호|층))?"
)
_LOT = (
    rf"(?:{_PROVINCE}\s*)?(?:{_CITY}\s+){{1,2}}[가-힣0-9]{{1,10}}(?:동|읍|면|리|가)\s?"
    r"(?:산\s?)?\d{1,5}(?:-\d{1,5})?(?:\s?번지)?(?:\s*,?\s*(?:\d{1,4}\s?동\s*)?\d{1,5}\s?호)?"
)
_ADDRESS_KO = re.compile(rf"(?:{_ROAD})|(?:{_LOT})")
_ADDRESS_EN = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z]+\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|"
    r"Court|Ct|Way|Place|Pl)\b\.?(?:,?\s*(?:Apt|Suite|Unit|#)\s*[\w-]+)?"
)
_SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우"
    "구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉"
    "나빈피승태감호가상시아영온운창초판평필학해형후"
)
_SUR = f"[{_SURNAMES}]"
# Names are found by context only (a bare Korean word cannot be told from a name): after a label
# (수령인, 이름은, 예금주, …), as a self-introduction (…입니다 at the start), or before 님/씨.
_ROLE = r"(?:(?:배송|택배|배달|담당)\s?기사(?:님)?|기사(?:님)?|담당자|배달원|집배원)"
_NAME_CTX = re.compile(
    rf"(?:이름(?:은|:)|수령인|받는\s?분|보내는\s?분|주문자|예금주|성명)\s*:?\s*({_SUR}[가-힣]{{1,3}}?)"
    rf"(?=\s|$|[,.)]|님|씨|입니다|이에요|예요|이고)"
    rf"|(?:^|안녕하세요[,.!]?\s*|저는\s*)({_SUR}[가-힣]{{2}})(?=입니다|이에요|예요|이고)"
    rf"|(?<![가-힣])({_SUR}[가-힣]{{2}})(?=\s?(?:님|씨))"
    # a driver or person in charge (carrier texts): only when a phone, 님/씨, "(" or 기사 follows the
    # name, or a three-syllable name ends the text ("담당자 연결해 주세요" and "기사 배정" are no names)
    rf"|{_ROLE}\s*:?\s*({_SUR}[가-힣]{{1,2}})(?=\s*(?:님|씨|\(|0\d|\+82|입니다|이에요|예요|이고|기사))"
    rf"|{_ROLE}\s*:?\s*({_SUR}[가-힣]{{2}})(?=\s*$)"
)
_NOT_NAMES = (
    "기사",
    "고객",
    "택배",
    "배송",
    "담당",
    "상담",
    "사장",
    "선생",
    "관리자",
    "매니저",
    "판매자",
    "회원",
    "부장",
    "과장",
    "대리",
    "팀장",
    "실장",
    "차장",
    "이사",
    "원장",
    "교수",
    "주임",
    "소장",
    "반장",
    "점장",
    "사모",
    "완료",
    "예정",
    "도착",
    "출발",
    "문의",
    "접수",
    "이름",
    # words that follow 기사/담당자 in carrier texts and start with a surname syllable
    "연락",
    "전화",
    "배정",
    "방문",
    "정보",
    "변경",
    "확인",
    "안내",
    "조회",
    "성함",
    "전달",
    "요청",
    "부재",
    "지연",
    "호출",
    "번호",
    "휴대",
    "위치",
    "차량",
    "현재",
    "오늘",
    "내일",
    "금일",
    "명일",
    "배달",
    "출동",
)
_CARD_PREFIX = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|35|36|30|6|9)")


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


def _rrn_date_ok(yy: str, mm: str, dd: str, gender: str) -> bool:
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}[gender]
    try:
        date(century + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    return True


def _rrn_findings(text: str) -> list[Finding]:
    found = []
    for m in _RRN.finditer(text):
        yy, mm, dd, sep, gender, rest = m.groups()
        if not _rrn_date_ok(yy, mm, dd, gender):
            continue
        digits = yy + mm + dd + gender + rest
        # Numbers issued since October 2020 carry no checksum, so the written form "YYMMDD-G######"
        # with a real date is enough; a bare 13-digit run must also pass the checksum.
        if (sep and "-" in sep) or rrn_valid(digits):
            found.append(Finding("rrn", m.start(), m.end()))
    return found


def _card_ok(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if not (13 <= len(digits) <= 19) or not luhn_valid(digits) or not _CARD_PREFIX.match(digits):
        return False
    groups = re.split(r"[ -]", raw)
    if len(groups) > 1:  # written in groups: 4-4-4-4, 4-6-5 (Amex), 4-4-4-4-3
        return all(len(g) in (3, 4, 5, 6) for g in groups) and len(groups[0]) == 4
    return len(digits) in (15, 16)  # unseparated: only real card lengths (13-digit waybills are common)


def _account_ok(raw: str, text: str, start: int) -> bool:
    digits = re.sub(r"\D", "", raw)
    if not (10 <= len(digits) <= 14):
        return False
    if "-" not in raw:
        return bool(_BANK_WORDS.search(text[max(0, start - 20) : start]))
    groups = raw.split("-")
    # 2026-11-22-style dates and 3-group phone shapes are excluded by length; order numbers by \w-.
    return not (
        len(groups[0]) == 4
        and groups[0].startswith(("19", "20"))
        and len(groups) == 3
        and len(groups[1]) == 2
    )


# Every detector needs a digit, an "@", a name context or a Korean digit word: most strings have none and
# are answered by this one scan (ingest runs DLP over every free-text and unknown field of every event).
QUICK = re.compile(
    r"[\d@＠]|\(\s?at\s?\)|\[\s?at\s?\]|이름|수령인|받는|보내는|주문자|예금주|성명|입니다|이에요|예요|이고|님|씨"
    r"|기사|담당자|배달원|집배원|[공영][ \t.-]?일",
    re.IGNORECASE,
)
# Look-alikes folded one character for one character (so spans map back to the original text):
# full-width digits and signs, other dashes, and invisible characters read as a plain separator.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "＠": "@",
        "．": ".",
        "－": "-",
        "（": "(",
        "）": ")",
        "＋": "+",
        "／": "/",
        "\u3000": " ",
        **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\u30fc"},
        **{c: " " for c in "\u00a0\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"},
        **{c: " " for c in "\u202a\u202b\u202c\u202d\u202e"},
    }
)
_NEEDS_FOLD = re.compile(
    "[\uff10-\uff19＠．－（）＋／\u3000\u2010-\u2015\u2212\ufe63\u30fc"
    "\u00a0\u00ad\u200b-\u200f\u2060\ufeff\u202a-\u202e]"
)


def _folded(text: str) -> str:
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text


def find_personal_data(text: str) -> list[Finding]:
    """Every span of personal data in `text` (RRNs and cards only when their checks pass)."""
    if not QUICK.search(text):
        return []
    text = _folded(text)
    found: list[Finding] = _rrn_findings(text)
    # Characters already claimed by a finding: the overlap test costs the span's length, not the number
    # of findings (a memo of 20,000 addresses would otherwise take minutes).
    taken = bytearray(len(text))
    for f in found:
        taken[f.start : f.end] = b"\x01" * (f.end - f.start)

    def add(kind: str, start: int, end: int) -> None:
        if not any(taken[start:end]):
            found.append(Finding(kind, start, end))
            taken[start:end] = b"\x01" * (end - start)

    for rx in (_EMAIL, _EMAIL_OBF):
        for m in rx.finditer(text):
            add("email", m.start(), m.end())
    for m in _CARD.finditer(text):
        if _card_ok(m.group(0)):
            add("card", m.start(), m.end())
    for m in _PHONE.finditer(text):
        add("phone", m.start(), m.end())
    for m in _PHONE_KO.finditer(text):
        if any(c in _KO_DIGIT for c in m.group(0)):
            add("phone", m.start(), m.end())
    for m in _ACCOUNT_GROUPED.finditer(text):
        if _account_ok(m.group(0), text, m.start()):
            add("account", m.start(), m.end())
    for m in _DIGIT_RUN.finditer(text):
        if _account_ok(m.group(0), text, m.start()):
            add("account", m.start(), m.end())
    for m in _NAME_CTX.finditer(text):
        group = next(g for g in (1, 2, 3, 4, 5) if m.group(g))
        name = m.group(group)
        if not any(name.startswith(w) or name.endswith(w) for w in _NOT_NAMES):
            add("name", m.start(group), m.end(group))
    for rx in (_ADDRESS_KO, _ADDRESS_EN):
        for m in rx.finditer(text):
            if re.search(r"\d", m.group(0)):
                add("address", m.start(), m.end())
    return sorted(found, key=lambda f: f.start)


def mask_address(value: str) -> str:
    """Keep the province/city/district (useful for operations), mask the street and number."""
    parts = value.split()
    kept = []
    for p in parts:
        if re.fullmatch(rf"{_PROVINCE}|{_CITY}", p):
            kept.append(p)
        else:
            break
    return (" ".join(kept) + " ***").strip() if kept else "***"


def _mask_span(kind: str, value: str) -> str:
    if kind == "phone":
        masked = mask_phone(value.translate(_KO_DIGIT_VALUE)) or "****"
        # "(010-1234-5678)": keep the opening parenthesis the text's closing one belongs to
        return "(" + masked if value.startswith("(") and ")" not in value else masked
    if kind == "email":
        local, at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}" if at else f"{local[:1]}***"
    if kind == "rrn":
        return value[:6] + "-*******"
    if kind == "card":
        digits = re.sub(r"\D", "", value)
        return "****-****-****-" + digits[-4:]
    if kind == "account":
        digits = re.sub(r"\D", "", value)
        return "***-****-" + digits[-3:]
    if kind == "address":
        return mask_address(value)
    if kind == "name":
        return mask_name(value) or "*"
    return "*" * len(value)


def mask_text(text: str | None) -> str | None:
    """`text` with every personal-data span masked."""
    if not text:
        return text
    found = find_personal_data(text)
    if not found:
        return text
    folded = _folded(text)  # masks are built from the folded span ("０１０" masks like "010")
    out, last = [], 0
    for f in found:
        out.append(text[last : f.start])
        out.append(_mask_span(f.kind, folded[f.start : f.end]))
        last = f.end
    out.append(text[last:])
    return "".join(out)


def contains_personal_data(text: str | None) -> bool:
    """Whether `text` holds any detectable personal data."""
    return bool(text) and bool(find_personal_data(text or ""))


def mask_name(name: str | None) -> str | None:
    """Korean-style name masking: 홍길동 → 홍*동, 김철 → 김*."""
    if not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    """010-1234-5678 → 010-****-****: never the last four digits (the chatbot asks for them)."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:
        return "****"
    if phone.strip().startswith("+") or digits.startswith(("82", "0082")):
        return "+82-**-****-****"
    head = "02" if digits.startswith("02") else digits[:3]
    return f"{head}-****-****"


# ---------------------------------------------------------------------- logs
# Keys whose values are personal data whatever they look like.
SENSITIVE_KEYS = frozenset(
    {
        "name",
        "phone",
        "email",
        "address",
        "customer_name",
        "recipient",
        "password",
        "token",
        "authorization",
        "cookie",
        "totp",
        "line1",
        "line2",
        "zip",
        "rrn",
    }
)


# structlog processor: structured logs never carry personal data.
structlog_processor = masking_processor(
    lambda text: mask_text(text) or "",
    SENSITIVE_KEYS,
    "***",
    skip=frozenset({"timestamp", "level", "logger", "exc_info"}),
    max_depth=8,
)


class PiiLogFilter(RewritingFilter):
    """stdlib logging filter: masks personal data in the formatted message and its arguments."""

    def __init__(self) -> None:
        super().__init__(lambda text: mask_text(text) or "")
