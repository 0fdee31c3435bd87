"""우체국택배 status texts, as data (epost reports texts, not codes).

Sources: spec/EVENTS.md and tracker.delivery ``kr.epost`` via guide/PRODUCT-ANCHORS.md 13.1.
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

INFO = TrackingStatus("info_received")
TRANSIT = TrackingStatus("in_transit")
OFD = TrackingStatus("out_for_delivery")
FAIL = TrackingStatus("attempt_fail")
DELIVERED = TrackingStatus("delivered")
CANCELLED = TrackingStatus("exception", "cancelled")

# Keys are compared with all whitespace and a trailing "." removed.
TEXTS: StatusTable = {
    "운송장출력": INFO,
    "접수": INFO,
    "접수마감후접수(익일발송)": INFO,
    "운송장등록": INFO,
    "인수완료": TRANSIT,  # picked up
    "집하완료": TRANSIT,
    "발송": TRANSIT,
    "도착": TRANSIT,
    "이동중": TRANSIT,
    "배달준비": OFD,
    "배송출발": OFD,
    "미배달": FAIL,
    "배달완료": DELIVERED,
    "배송완료": DELIVERED,
    "신청취소": CANCELLED,
    "접수취소": CANCELLED,
}

CODES: StatusTable = {}

KEYWORDS: KeywordRules = (
    ("취소", CANCELLED),
    ("미배달", FAIL),
    ("배달완료", DELIVERED),
    ("배달준비", OFD),
    ("접수", INFO),
)
