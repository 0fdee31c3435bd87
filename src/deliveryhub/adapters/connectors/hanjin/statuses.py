"""한진택배 status texts, as data (Hanjin reports sentences, not codes).

Sources: spec/EVENTS.md (접수/운송장 등록, 집하완료, 이동중, 도착, 배달준비/배송출발, 미배달,
배달완료/배송완료)
and tracker.delivery ``kr.hanjin`` (sentence keywords, customs phrases, 배송준비중 = still in transit).
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

INFO = TrackingStatus("info_received")
TRANSIT = TrackingStatus("in_transit")
OFD = TrackingStatus("out_for_delivery")
FAIL = TrackingStatus("attempt_fail")
DELIVERED = TrackingStatus("delivered")

# Keys are compared with all whitespace and a trailing "." removed.
TEXTS: StatusTable = {
    "접수": INFO,
    "운송장등록": INFO,
    "운송장정보가등록되었습니다": INFO,
    "집하완료": TRANSIT,
    "이동중": TRANSIT,
    "도착": TRANSIT,
    "입고": TRANSIT,
    "터미널상차": TRANSIT,
    "터미널하차": TRANSIT,
    "배송준비중": TRANSIT,
    "배달준비": OFD,
    "배송출발": OFD,
    "미배달": FAIL,
    "배달완료": DELIVERED,
    "배송완료": DELIVERED,
}

CODES: StatusTable = {}

# Ordered: customs phrases contain "접수" but are transit, so they come first.
KEYWORDS: KeywordRules = (
    ("통관목록이 접수", TRANSIT),
    ("목록통관 심사가 완료", TRANSIT),
    ("하선신고가 수리", TRANSIT),
    ("선편으로 출발 대기", TRANSIT),
    ("수입신고가 접수", TRANSIT),
    ("수입통관이 완료", TRANSIT),
    ("수입신고가 수리", TRANSIT),
    ("수입신고 진행", TRANSIT),
    ("미배달", FAIL),
    ("배송완료", DELIVERED),
    ("배달완료", DELIVERED),
    ("배송출발", OFD),
    ("배달준비", OFD),
    ("배송을 준비중", TRANSIT),
    ("배송준비중", TRANSIT),
    ("로 이동중", TRANSIT),
    ("에 도착", TRANSIT),
    ("에 입고", TRANSIT),
    ("집하완료", TRANSIT),
    ("운송장 정보가 등록", INFO),
    ("접수", INFO),
)
