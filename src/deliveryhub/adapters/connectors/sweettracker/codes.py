"""Hub carrier code <-> Sweet Tracker company code (``t_code``; ``/api/v1/companylist`` lists them all).

Sources for the codes (the data folder has the companylist schema only, no codes:
sweettracker__trackingInfo_companylist_recommend__schema.md):
- A: a published companylist code table, gist.github.com/JunsikChoi/a834a2547769505107626c7658a07181
  ("deliveryProviderList": 04 CJ대한통운, 05 한진택배, 08 롯데택배, 01 우체국택배, 06 로젠택배,
  11 일양로지스, 22 대신택배, 23 경동택배, 32 합동택배, 46 CU 편의점택배, 24 GS Postbox 택배,
  17 천일택배, 18 건영택배 ...);
- B: public Sweet Tracker integrations found through the code index (the index names no repository):
  a companylist stub {"Code":"04","Name":"CJ대한통운"}, {"Code":"05","Name":"한진택배"} (file id
  67281578429), and enums with 01/04/05/06/08 for 우체국/CJ/한진/로젠/롯데 and 46 for CU 편의점택배.
Every code below agrees across the sources that list it; none was changed.
"""

from __future__ import annotations

HUB_TO_SWEET: dict[str, str] = {
    "epost": "01",  # 우체국택배 (A, B)
    "cj": "04",  # CJ대한통운 (A, B)
    "hanjin": "05",  # 한진택배 (A, B)
    "logen": "06",  # 로젠택배 (A, B)
    "lotte": "08",  # 롯데택배 (A, B)
    "ilyang": "11",  # 일양로지스 (A)
    "chunil": "17",  # 천일택배 (A)
    "kunyoung": "18",  # 건영택배 (A)
    "daesin": "22",  # 대신택배 (A)
    "kdexp": "23",  # 경동택배 (A)
    "cvsnet": "24",  # GS Postbox 택배 (CVSnet) (A)
    "hdexp": "32",  # 합동택배 (A; added)
    "cupost": "46",  # CU 편의점택배 (A, B; added)
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
    """The hub carrier code of a Sweet Tracker code; ``sweet-<code>`` when the hub has none."""
    return SWEET_TO_HUB.get(code, f"sweet-{code}")
