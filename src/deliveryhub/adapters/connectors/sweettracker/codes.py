"""Hub carrier code <-> Sweet Tracker company code (``t_code``; ``/api/v1/companylist`` lists them all)."""

from __future__ import annotations

HUB_TO_SWEET: dict[str, str] = {
    "epost": "01",  # 우체국택배
    "cj": "04",  # CJ대한통운
    "hanjin": "05",  # 한진택배
    "logen": "06",  # 로젠택배
    "lotte": "08",  # 롯데택배
    "ilyang": "11",  # 일양로지스
    "chunil": "17",  # 천일택배
    "kunyoung": "18",  # 건영택배
    "daesin": "22",  # 대신택배
    "kdexp": "23",  # 경동택배
    "cvsnet": "24",  # GS Postbox 택배 (CVSnet)
}
SWEET_TO_HUB: dict[str, str] = {code: hub for hub, code in HUB_TO_SWEET.items()}

# Progress stage (Level 1-6 of the trackingInfo schema) -> tag.
LEVELS: dict[int, str] = {
    1: "info_received",  # 배송 준비 중
    2: "in_transit",  # 집화 완료
    3: "in_transit",  # 배송 중
    4: "in_transit",  # 지점 도착
    5: "out_for_delivery",  # 배송 출발
    6: "delivered",  # 배송 완료
}

# A failed attempt is reported inside a level (the driver's note), in the carrier's words.
ATTEMPT_FAIL_WORDS: tuple[str, ...] = ("미배달", "미배송", "배달실패", "배송실패", "부재")


def t_code(carrier: str) -> str | None:
    """Sweet Tracker's code of a hub carrier (a 2-digit code given as is); None if unknown."""
    if carrier in HUB_TO_SWEET:
        return HUB_TO_SWEET[carrier]
    return carrier if carrier.isdigit() else None


def hub_carrier(code: str) -> str:
    """The hub carrier code of a Sweet Tracker code; ``sweet:<code>`` when the hub has none."""
    return SWEET_TO_HUB.get(code, f"sweet-{code}")
