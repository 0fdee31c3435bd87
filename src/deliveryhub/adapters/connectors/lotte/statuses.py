"""롯데택배 status table (``GODS_STAT_CD`` codes and texts), as data.

Sources: spec/EVENTS.md; tracker.delivery ``kr.lotte`` via guide/PRODUCT-ANCHORS.md 13.1.
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

INFO = TrackingStatus("info_received")
TRANSIT = TrackingStatus("in_transit")
OFD = TrackingStatus("out_for_delivery")
DELIVERED = TrackingStatus("delivered")
RETURN_CANCELLED = TrackingStatus("exception", "cancelled")

CODES: StatusTable = {
    "12": INFO,  # 운송장 등록
    "10": TRANSIT,  # 집하 (picked up)
    "20": TRANSIT,  # 구간발송
    "21": TRANSIT,  # 구간도착
    "24": TRANSIT,  # 적입
    "25": TRANSIT,  # 해체
    "40": OFD,  # 배달전
    "41": DELIVERED,  # 배달완료
    "45": DELIVERED,  # 인수자등록
    "09": RETURN_CANCELLED,  # 반품취소
}

TEXTS: StatusTable = {
    "운송장등록": INFO,
    "집하": TRANSIT,
    "구간발송": TRANSIT,
    "구간도착": TRANSIT,
    "적입": TRANSIT,
    "해체": TRANSIT,
    "배달전": OFD,
    "배달완료": DELIVERED,
    "인수자등록": DELIVERED,
    "반품취소": RETURN_CANCELLED,
    "미배달": TrackingStatus("attempt_fail"),
}

KEYWORDS: KeywordRules = (
    ("배달완료", DELIVERED),
    ("배달전", OFD),
    ("운송장", INFO),
)
