"""Coupang's delivery company codes (deliveryCompanyCode) as data: hub carrier code <-> Coupang code."""

from __future__ import annotations

# hub carrier code -> Coupang deliveryCompanyCode (송장 업로드)
HUB_TO_COUPANG: dict[str, str] = {
    "cj": "CJGLS",
    "lotte": "HYUNDAI",
    "hanjin": "HANJIN",
    "post": "EPOST",
    "epost": "EPOST",
    "logen": "KGB",
    "kdexp": "KDEXP",
    "kyungdong": "KDEXP",
    "daesin": "DAESIN",
    "ilyang": "ILYANG",
    "cvsnet": "CVSNET",
    "chunil": "CHUNIL",
    "hapdong": "HDEXP",
    "direct": "DIRECT",
}

# Coupang deliveryCompanyCode -> hub carrier code
COUPANG_TO_HUB: dict[str, str] = {
    **{v: k for k, v in HUB_TO_COUPANG.items() if k not in ("epost", "kyungdong")},
    "KOREX": "cj",
    "DONGBU": "kdexp",
}

# deliveryCompanyName as an ordersheet shows it (spaces removed) -> hub carrier code
NAME_TO_HUB: dict[str, str] = {
    "CJ대한통운": "cj",
    "대한통운": "cj",
    "롯데택배": "lotte",
    "현대택배": "lotte",
    "한진택배": "hanjin",
    "우체국택배": "post",
    "로젠택배": "logen",
    "경동택배": "kdexp",
    "대신택배": "daesin",
    "일양로지스": "ilyang",
    "CVSnet편의점택배": "cvsnet",
    "GS편의점택배": "cvsnet",
    "천일택배": "chunil",
    "합동택배": "hapdong",
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
