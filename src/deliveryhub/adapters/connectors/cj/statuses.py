"""CJ대한통운 status table (``crgSt`` codes and their scan names), as data.

Sources: spec/EVENTS.md; tracker.delivery ``kr.cjlogistics`` (11/21/41/42/44/82/91) and the code labels
quoted in guide/PRODUCT-ANCHORS.md 13.1 (01, 12, R1, 43, 84). The public tracking page and the
search-post scraper say
배달출발/배달완료 where the API says 배송출발/배송완료.
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

INFO = TrackingStatus("info_received")
TRANSIT = TrackingStatus("in_transit")
OFD = TrackingStatus("out_for_delivery")
DELIVERED = TrackingStatus("delivered")

CODES: StatusTable = {
    "01": INFO,  # 배송준비
    "11": TRANSIT,  # 집화처리 (picked up)
    "12": TRANSIT,  # 집화처리
    "R1": TRANSIT,  # 행낭포장
    "21": TRANSIT,  # SM입고
    "41": TRANSIT,  # 간선상차 (next API)
    "44": TRANSIT,  # 간선상차 (old API)
    "42": TRANSIT,  # 간선하차
    "43": TRANSIT,  # 간선이동중
    "82": OFD,  # 배송출발, text often carries the two-hour window "(14~16시)"
    "84": OFD,  # 배송중
    "91": DELIVERED,  # 배송완료
}

# Keys are compared with all whitespace removed.
TEXTS: StatusTable = {
    "배송준비": INFO,
    "집화처리": TRANSIT,
    "집화": TRANSIT,
    "행낭포장": TRANSIT,
    "SM입고": TRANSIT,
    "간선상차": TRANSIT,
    "간선하차": TRANSIT,
    "간선이동중": TRANSIT,
    "배송출발": OFD,
    "배달출발": OFD,
    "배송중": OFD,
    "배송완료": DELIVERED,
    "배달완료": DELIVERED,
    "미배달": TrackingStatus("attempt_fail"),
    "미배송": TrackingStatus("attempt_fail"),
}

KEYWORDS: KeywordRules = (
    ("배송출발", OFD),
    ("배달출발", OFD),
    ("배송완료", DELIVERED),
    ("배달완료", DELIVERED),
    ("집화처리", TRANSIT),
    ("간선", TRANSIT),
)
