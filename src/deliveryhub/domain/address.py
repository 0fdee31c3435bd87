"""Korean delivery addresses: read what a customer typed into a 도로명주소 the hub can ship to (pure).

`check_address` takes free text ("서울 강남구 테헤란로 152 강남파이낸스센터 10층 06236") or parts (zip,
line1, line2) and answers an `AddressCheck`: the normalised address (5-digit 우편번호, 시/도 written out,
도로명 line, detail line, Jeju and 도서산간 flags) or the problems, each in Korean and English, so the bot or
the desk can ask again. It checks the shape only; a 도로명주소 API (adapters/outside/juso.py, behind the
`AddressLookup` port) can confirm that the address exists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from deliveryhub.contracts.outside import NormalisedAddress

Problem = tuple[str, str, str]  # (code, message_ko, message_en)

# 시/도: every way customers write them -> the official name (강원 since 2023-06-11 and 전북 since
# 2024-01-18 are 특별자치도; the old names are still accepted).
_SIDO: dict[str, tuple[str, ...]] = {
    "서울특별시": ("서울", "서울시", "서울특별시", "서울특별"),
    "부산광역시": ("부산", "부산시", "부산광역시"),
    "대구광역시": ("대구", "대구시", "대구광역시"),
    "인천광역시": ("인천", "인천시", "인천광역시"),
    "광주광역시": ("광주", "광주광역시"),
    "대전광역시": ("대전", "대전시", "대전광역시"),
    "울산광역시": ("울산", "울산시", "울산광역시"),
    "세종특별자치시": ("세종", "세종시", "세종특별자치시", "세종특별시"),
    "경기도": ("경기", "경기도"),
    "강원특별자치도": ("강원", "강원도", "강원특별자치도"),
    "충청북도": ("충북", "충청북도"),
    "충청남도": ("충남", "충청남도"),
    "전북특별자치도": ("전북", "전라북도", "전북특별자치도"),
    "전라남도": ("전남", "전라남도"),
    "경상북도": ("경북", "경상북도"),
    "경상남도": ("경남", "경상남도"),
    "제주특별자치도": ("제주", "제주도", "제주특별자치도"),
}
_SIDO_ALIASES: dict[str, str] = {alias: name for name, aliases in _SIDO.items() for alias in aliases}

# The first two digits of the 5-digit 우편번호 (국가기초구역번호, in use since 2015-08-01) by 시/도, as
# 행정안전부 assigned them: 서울 01-09, 경기 10-20, 인천 21-23, 강원 24-26, 충북 27-29, 세종 30, 충남 31-33,
# 대전 34-35, 경북 36-40, 대구 41-43, 울산 44-45, 부산 46-49, 경남 50-53, 전북 54-56, 전남 57-60, 광주 61-62,
# 제주 63; 00 and 64-99 are not in use in the south.
_ZIP_SIDO: tuple[tuple[int, int, str], ...] = (
    (1, 9, "서울특별시"),
    (10, 20, "경기도"),
    (21, 23, "인천광역시"),
    (24, 26, "강원특별자치도"),
    (27, 29, "충청북도"),
    (30, 30, "세종특별자치시"),
    (31, 33, "충청남도"),
    (34, 35, "대전광역시"),
    (36, 40, "경상북도"),
    (41, 43, "대구광역시"),
    (44, 45, "울산광역시"),
    (46, 49, "부산광역시"),
    (50, 53, "경상남도"),
    (54, 56, "전북특별자치도"),
    (57, 60, "전라남도"),
    (61, 62, "광주광역시"),
    (63, 63, "제주특별자치도"),
)

JEJU_ZIPS = (63000, 63644)

# 도서산간 (islands reached by ship; carriers charge extra and take longer), by 5-digit 우편번호. These are
# the ranges of the 도서산간 zip table Korean carriers and shop platforms publish for their extra-fee
# default (the list behind the 도서산간 추가배송비 settings of 네이버 스마트스토어 and 카페24, built on
# 우정사업본부's 우편번호 DB); Jeju is flagged on its own (JEJU_ZIPS). Not re-verified against a live copy in
# this change: a shop whose carrier uses a longer list should extend this table.
REMOTE_ZIPS: tuple[tuple[int, int, str], ...] = (
    (22386, 22388, "인천 중구 섬지역 (무의도 등)"),
    (23004, 23010, "인천 강화군 섬지역 (교동·삼산·서도면)"),
    (23100, 23116, "인천 옹진군 (북도·연평·백령·대청면)"),
    (23124, 23136, "인천 옹진군 (덕적·자월·영흥면)"),
    (31708, 31708, "충남 당진시 섬지역"),
    (32133, 32133, "충남 태안군 섬지역"),
    (33411, 33411, "충남 보령시 섬지역"),
    (40200, 40240, "경북 울릉군"),
    (46768, 46771, "부산 강서구 섬지역 (가덕도 등)"),
    (52570, 52571, "경남 사천시 섬지역"),
    (53031, 53033, "경남 통영시 섬지역"),
    (53089, 53104, "경남 통영시 섬지역 (욕지·한산·사량면)"),
    (54000, 54000, "전북 군산시 섬지역"),
    (56347, 56349, "전북 부안군 섬지역 (위도면)"),
    (57068, 57069, "전남 영광군 섬지역"),
    (58760, 58762, "전남 목포시 섬지역"),
    (58800, 58810, "전남 신안군"),
    (58816, 58818, "전남 신안군"),
    (58826, 58826, "전남 신안군"),
    (58828, 58866, "전남 신안군"),
    (58953, 58958, "전남 진도군 섬지역 (조도면 등)"),
    (59102, 59103, "전남 완도군 섬지역"),
    (59106, 59106, "전남 완도군 섬지역"),
    (59127, 59129, "전남 완도군 섬지역"),
    (59137, 59166, "전남 완도군 섬지역 (청산·소안·노화·보길면 등)"),
    (59650, 59650, "전남 보성군 섬지역"),
    (59766, 59766, "전남 여수시 섬지역"),
    (59781, 59790, "전남 여수시 섬지역 (삼산·남면 등)"),
)

_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("주소를 적어 주세요.", "Please enter an address."),
    "too_short": (
        "주소가 너무 짧아요. 시/도, 시/군/구, 도로명과 건물번호까지 적어 주세요.",
        "The address is too short: give the province/city, district, road name and building number.",
    ),
    "not_korean": (
        "주소를 한글 도로명주소로 적어 주세요. (예: 서울 강남구 테헤란로 152)",
        "Please write the address as a Korean road-name address (e.g. 서울 강남구 테헤란로 152).",
    ),
    "no_zip": (
        "우편번호 5자리를 함께 적어 주세요.",
        "Please add the 5-digit postal code.",
    ),
    "old_zip": (
        "예전 6자리 우편번호(123-456)예요. 지금 쓰는 5자리 우편번호로 적어 주세요.",
        "That is an old 6-digit postal code (123-456); please give the current 5-digit one.",
    ),
    "bad_zip": (
        "우편번호는 숫자 5자리예요. 다시 확인해 주세요.",
        "The postal code must be 5 digits in use in Korea; please check it.",
    ),
    "zip_region_mismatch": (
        "우편번호와 시/도가 서로 맞지 않아요. 둘 중 하나를 다시 확인해 주세요.",
        "The postal code does not belong to the province/city given; please check one of them.",
    ),
    "no_sido": (
        "시/도(예: 서울, 경기)를 앞에 적어 주세요.",
        "Please start with the province or metropolitan city (e.g. 서울, 경기).",
    ),
    "no_sigungu": (
        "시/군/구(예: 강남구, 성남시 분당구)를 적어 주세요.",
        "Please add the city, county or district (e.g. 강남구, 성남시 분당구).",
    ),
    "jibun": (
        "지번 주소(…동 123)로 보여요. 도로명주소(…로/…길 + 건물번호)로 적어 주세요.",
        "This looks like a lot-number (jibun) address; please give the road-name address (…로/…길 + number).",
    ),
    "no_road": (
        "도로명(…로, …길)을 찾지 못했어요. 도로명과 건물번호를 적어 주세요.",
        "No road name (…로/…길) was found; please give the road name and building number.",
    ),
    "no_building_no": (
        "건물번호를 찾지 못했어요. 도로명 뒤에 건물번호(예: 테헤란로 152)를 적어 주세요.",
        "No building number was found after the road name (e.g. 테헤란로 152).",
    ),
}


def problem(code: str) -> Problem:
    """The (code, Korean, English) triple of a problem code."""
    ko, en = _MESSAGES[code]
    return (code, ko, en)


@dataclass(frozen=True)
class AddressCheck:
    """The result: `ok` with the normalised address, or the problems (code, Korean, English)."""

    ok: bool
    address: NormalisedAddress | None
    problems: list[Problem] = field(default_factory=list)
    sido: str | None = None
    sigungu: str | None = None
    road: str | None = None
    building_no: str | None = None
    detail: str = ""  # the detail line read (동·호·층), also when the address is not ok: keep it for a lookup

    @property
    def codes(self) -> list[str]:
        """The problem codes, in order."""
        return [p[0] for p in self.problems]


def normalise_sido(name: str) -> str | None:
    """The official 시/도 name for what a customer wrote (서울 -> 서울특별시); None when it is none."""
    return _SIDO_ALIASES.get(name.strip().rstrip(",."))


def sido_of_zip(zip_code: str) -> str | None:
    """The 시/도 a 5-digit 우편번호 belongs to (None when the prefix is not in use)."""
    if not re.fullmatch(r"\d{5}", zip_code):
        return None
    head = int(zip_code[:2])
    return next((name for lo, hi, name in _ZIP_SIDO if lo <= head <= hi), None)


def is_jeju(zip_code: str) -> bool:
    """Whether the 우편번호 is on Jeju (63000–63644)."""
    return zip_code.isdigit() and len(zip_code) == 5 and JEJU_ZIPS[0] <= int(zip_code) <= JEJU_ZIPS[1]


def remote_area(zip_code: str) -> str | None:
    """The 도서산간 area a 우편번호 is in (None when it is not an island zip of REMOTE_ZIPS)."""
    if not (zip_code.isdigit() and len(zip_code) == 5):
        return None
    n = int(zip_code)
    return next((name for lo, hi, name in REMOTE_ZIPS if lo <= n <= hi), None)


# ------------------------------------------------------------------------------------------ parsing
_OLD_ZIP = re.compile(r"(?<![\d-])(\d{3})\s*-\s*(\d{3})(?![\d-])")
_OLD_ZIP_BARE = re.compile(r"(?:^|(?<=\s))[(\[]?\d{6}[)\]]?(?=\s|$)")  # 135080 at either end
_ZIP = re.compile(r"(?<![\d-])(\d{5})(?![\d-])")
_ZIP_LABEL = re.compile(r"(우편번호|우\)|\(우\)|zip|우편)\s*[:：]?", re.IGNORECASE)
_HANGUL = re.compile(r"[가-힣]")
_LATIN = re.compile(r"[A-Za-z]")
# A road: a name ending in 로/길, optionally numbered (테헤란로7길, 중앙로12번길, 월드컵북로4길).
_ROAD_NAME = r"[가-힣A-Za-z0-9·.]*[가-힣](?:로|길)(?:\d{1,4}(?:번)?(?:길|가길))?"
_ROAD = re.compile(rf"^({_ROAD_NAME})$")
_ROAD_NO = re.compile(rf"^({_ROAD_NAME})(\d{{1,5}}(?:-\d{{1,4}})?)$")
_BUILDING_NO = re.compile(r"^(\d{1,5}(?:-\d{1,4})?)(번지|번)?$")
_NUMBERED_ROAD = re.compile(r"^\d{1,4}(?:번)?(?:길|가길)$")  # "테헤란로 7길": the 길 part written apart
_SIGUNGU = re.compile(r"^[가-힣]{1,6}(시|군|구)$")
_EUPMYEON = re.compile(r"^[가-힣0-9]{1,6}(읍|면)$")
_JIBUN_DONG = re.compile(r"^[가-힣0-9]{1,8}(동|리|가)$")
_JIBUN_NO = re.compile(r"^(산\s*)?\d{1,5}(-\d{1,4})?(번지)?$")


def _clean(text: str) -> str:
    """NFC, emoji and symbols removed, separators made spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("So", "Sk", "Cs", "Co", "Cn") or ch in "\u200d\ufe0f\u20e3":
            continue  # emoji, pictographs, modifiers, joiners
        kept.append(" " if cat.startswith("C") or cat == "Zs" else ch)
    text = "".join(kept)
    text = text.replace(",", " , ").replace("，", " , ")
    text = re.sub(r"\s*\(\s*", " (", text)
    text = re.sub(r"\s*\)\s*", ") ", text)
    return re.sub(r"\s+", " ", text).strip()


def _take_zip(text: str) -> tuple[str, str | None, bool]:
    """(text without the zip, the 5-digit zip or None, whether an old 6-digit zip was there)."""
    text = _ZIP_LABEL.sub(" ", text)
    old = _OLD_ZIP.search(text) or _OLD_ZIP_BARE.search(text)
    if old:
        text = (text[: old.start()] + " " + text[old.end() :]).strip()
    # A 5-digit number that is a whole token is the zip (building numbers have at most four digits); the
    # ends of the text first, where customers put it.
    tokens = text.split(" ")
    for i in [0, len(tokens) - 1, *range(1, len(tokens) - 1)]:
        if 0 <= i < len(tokens):
            bare = tokens[i].strip("()[]<>")
            if _ZIP.fullmatch(bare):
                rest = tokens[:i] + tokens[i + 1 :]
                return " ".join(rest).strip(), bare, bool(old)
    return text, None, bool(old)


_REFERENCE = re.compile(r"^\([가-힣0-9]{1,10}(동|가|리)\)$")


def _split_tokens(text: str) -> list[str]:
    """Tokens, with a 참고항목 in brackets ("(역삼동)") dropped: the road line is enough to deliver."""
    return [t for t in text.split(" ") if t and not _REFERENCE.match(t)]


@dataclass
class _Parsed:
    sido: str | None = None
    sigungu: list[str] = field(default_factory=list)
    eupmyeon: str | None = None
    road: str | None = None
    building_no: str | None = None
    detail: list[str] = field(default_factory=list)
    jibun: bool = False
    underground: bool = False


def _parse(tokens: list[str]) -> _Parsed:
    """Walk the tokens: 시/도, 시/군/구, 읍/면, 도로명, 건물번호, then the detail."""
    out = _Parsed()
    i = 0
    n = len(tokens)
    while i < n and tokens[i] == ",":
        i += 1
    if i < n and (sido := normalise_sido(tokens[i])):
        out.sido = sido
        i += 1
    while i < n and _SIGUNGU.match(tokens[i]) and not _ROAD.match(tokens[i]) and len(out.sigungu) < 2:
        out.sigungu.append(tokens[i])
        i += 1
    if i < n and _EUPMYEON.match(tokens[i]):
        out.eupmyeon = tokens[i]
        i += 1
    while i < n and tokens[i] == ",":
        i += 1
    if i < n and (m := _ROAD_NO.match(tokens[i])):
        out.road, out.building_no = m.group(1), m.group(2)
        i += 1
    elif i < n and _ROAD.match(tokens[i]):
        out.road = tokens[i]
        i += 1
        if i < n and _NUMBERED_ROAD.match(tokens[i]):  # "테헤란로 7길 12"
            out.road += tokens[i]
            i += 1
        if i < n and tokens[i] == "지하":
            out.underground = True
            i += 1
        if i < n and (b := _BUILDING_NO.match(tokens[i])):
            out.building_no = b.group(1)
            i += 1
    elif i + 1 < n and _JIBUN_DONG.match(tokens[i]):
        # 역삼동 737, 정자동 3-2, 역삼동 산 12: a lot-number (지번) address
        out.jibun = bool(_JIBUN_NO.match(tokens[i + 1])) or tokens[i + 1] == "산"
    out.detail = list(tokens[i:]) if out.road else []
    while out.detail and out.detail[0] == ",":
        out.detail.pop(0)
    return out


def _detail_text(parts: list[str]) -> str:
    text = " ".join(parts).replace(" , ", ", ").replace(" ,", ",").strip(" ,")
    return re.sub(r"\s+", " ", text)


def check_address(
    text: str | None = None,
    *,
    zip_code: str | None = None,
    line1: str | None = None,
    line2: str | None = None,
) -> AddressCheck:
    """Check and normalise a Korean delivery address given as free text or as parts (zip, line1, line2)."""
    raw = " ".join(p for p in (text, line1) if p) if (text or line1) else ""
    cleaned = _clean(raw)
    extra_detail = _clean(line2 or "")
    if not cleaned and not (zip_code or "").strip():
        return AddressCheck(False, None, [problem("empty")])
    problems: list[Problem] = []
    body, found_zip, old = _take_zip(cleaned)
    given_zip = re.sub(r"\s", "", zip_code or "")
    if given_zip:
        if _OLD_ZIP.fullmatch(given_zip) or re.fullmatch(r"\d{6}", given_zip):
            old, found_zip = True, None
        elif re.fullmatch(r"\d{5}", given_zip):
            found_zip = given_zip
        else:
            problems.append(problem("bad_zip"))
    if _LATIN.search(body) and not _HANGUL.search(body):
        return AddressCheck(False, None, [problem("not_korean")])
    if len(re.sub(r"[\s,]", "", body)) < 6:
        return AddressCheck(False, None, [*problems, problem("too_short")])

    parsed = _parse(_split_tokens(body))
    zip_sido = sido_of_zip(found_zip) if found_zip else None
    if found_zip and zip_sido is None:
        problems.append(problem("bad_zip"))
    elif found_zip is None and not any(p[0] == "bad_zip" for p in problems):
        problems.append(problem("old_zip" if old else "no_zip"))
    sido = parsed.sido or zip_sido
    if parsed.sido and zip_sido and parsed.sido != zip_sido:
        problems.append(problem("zip_region_mismatch"))
    if sido is None:
        problems.append(problem("no_sido"))
    if parsed.jibun:
        problems.append(problem("jibun"))
    elif parsed.road is None:
        problems.append(problem("no_road"))
    elif parsed.building_no is None:
        problems.append(problem("no_building_no"))
    if not parsed.sigungu and sido != "세종특별자치시" and not parsed.jibun and parsed.road:
        problems.append(problem("no_sigungu"))

    sigungu = " ".join(parsed.sigungu) or None
    detail = _detail_text([*parsed.detail, *([extra_detail] if extra_detail else [])])
    check_parts: dict[str, Any] = {
        "sido": sido,
        "sigungu": sigungu,
        "road": parsed.road,
        "building_no": parsed.building_no,
        "detail": detail,
    }
    if problems or not (sido and parsed.road and parsed.building_no and found_zip):
        return AddressCheck(False, None, problems, **check_parts)
    words = [sido, *parsed.sigungu]
    if parsed.eupmyeon:
        words.append(parsed.eupmyeon)
    words.append(parsed.road)
    if parsed.underground:
        words.append("지하")
    words.append(parsed.building_no)
    address = NormalisedAddress(
        zip=found_zip,
        line1=" ".join(words),
        line2=detail,
        jeju=is_jeju(found_zip),
        remote=remote_area(found_zip) is not None,
        source="format",
    )
    return AddressCheck(True, address, [], **check_parts)


def confirm_text(address: NormalisedAddress) -> tuple[str, str]:
    """The address as the bot reads it back to confirm, (Korean, English), with the Jeju/island note."""
    line = f"[{address.zip}] {address.line1}" + (f", {address.line2}" if address.line2 else "")
    ko, en = line, line
    if address.jeju:
        ko += " (제주 지역이라 배송이 하루 이틀 더 걸리고 추가 배송비가 있을 수 있어요)"
        en += " (Jeju: delivery takes a day or two longer and may cost extra)"
    elif address.remote:
        ko += " (도서산간 지역이라 배송이 더 걸리고 추가 배송비가 있을 수 있어요)"
        en += " (remote island area: delivery takes longer and may cost extra)"
    return ko, en
