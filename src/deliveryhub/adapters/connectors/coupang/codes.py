"""Coupang's delivery company codes (deliveryCompanyCode) as data: hub carrier code <-> Coupang code.

Source (every code below unless noted): Coupang's own developer portal page "택배사 코드"
(distribution-center-api, lookup-delivery-code), as in the portal's source mirror
github.com/optionalg/coupang-developers.github.io
assets/docs/season-2/distribution-center-api/ko/lookup-delivery-code.document.ts (CODE / NAME table;
struck-through rows are merged or closed carriers). The data folder's real ordersheet and invoice
examples (coupang_wing__*.json) use CJGLS and KDEXP.

Coupang keeps the historical codes: 롯데택배 is HYUNDAI (ex-현대택배) and 로젠택배 is KGB. KGBPS
("KGB택배") is a different, closed carrier and is deliberately not mapped to logen. Anything not
listed is unknown: the mapper quarantines the ordersheet naming the code, never guesses.
"""

from __future__ import annotations

# hub carrier code -> Coupang deliveryCompanyCode (송장 업로드)
HUB_TO_COUPANG: dict[str, str] = {
    "cj": "CJGLS",  # CJ대한통운
    "lotte": "HYUNDAI",  # 롯데택배
    "hanjin": "HANJIN",  # 한진택배
    "epost": "EPOST",  # 우체국
    "post": "EPOST",  # alias of epost
    "logen": "KGB",  # 로젠택배
    "kdexp": "KDEXP",  # 경동택배
    "kyungdong": "KDEXP",  # alias of kdexp
    "daesin": "DAESIN",  # 대신택배
    "ilyang": "ILYANG",  # 일양택배
    "cvsnet": "CVS",  # CVS택배 (was "CVSNET", which is not in Coupang's list; fixed)
    "chunil": "CHUNIL",  # 천일택배
    "hdexp": "HDEXP",  # 합동택배
    "hapdong": "HDEXP",  # alias of hdexp
    "kunyoung": "KUNYOUNG",  # 건영택배
    "honam": "HONAM",  # 호남택배
    "coupang": "COUPANG",  # 쿠팡자체배송
    "direct": "DIRECT",  # 업체직송
}

_ALIASES = frozenset({"post", "kyungdong", "hapdong"})

# Coupang deliveryCompanyCode -> hub carrier code
COUPANG_TO_HUB: dict[str, str] = {
    **{code: hub for hub, code in HUB_TO_COUPANG.items() if hub not in _ALIASES},
    # KOREX = 대한통운, struck through in Coupang's table as merged ("[합병]") into CJ대한통운.
    "KOREX": "cj",
    # DONGBU (드림택배, ex-KG로지스, closed) was mapped to kdexp here before: wrong, removed (unknown).
}

# deliveryCompanyName as an ordersheet shows it (spaces removed) -> hub carrier code. The names in
# Coupang's table first (우체국, 일양택배, CVS택배 ...), then the usual spellings of the same carriers.
NAME_TO_HUB: dict[str, str] = {
    "CJ대한통운": "cj",
    "대한통운": "cj",
    "롯데택배": "lotte",
    "현대택배": "lotte",
    "한진택배": "hanjin",
    "우체국": "epost",
    "우체국택배": "epost",
    "로젠택배": "logen",
    "경동택배": "kdexp",
    "대신택배": "daesin",
    "일양택배": "ilyang",
    "일양로지스": "ilyang",
    "CVS택배": "cvsnet",
    "CVSnet편의점택배": "cvsnet",
    "천일택배": "chunil",
    "합동택배": "hdexp",
    "건영택배": "kunyoung",
    "호남택배": "honam",
    "쿠팡자체배송": "coupang",
    "업체직송": "direct",
}


def hub_carrier(code: object = None, name: object = None) -> str | None:
    """The hub's carrier code for a Coupang delivery company code or name; None when unknown."""
    if isinstance(code, str) and code.strip().upper() in COUPANG_TO_HUB:
        return COUPANG_TO_HUB[code.strip().upper()]
    if isinstance(name, str):
        return NAME_TO_HUB.get(name.replace(" ", ""))
    return None


def coupang_code(carrier: str) -> str | None:
    """Coupang's deliveryCompanyCode for a hub carrier code; None when Coupang has none."""
    return HUB_TO_COUPANG.get(carrier.strip().lower())
