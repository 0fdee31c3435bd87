"""로젠택배 status texts, as data.

EVENTS.md names no Logen vocabulary; this follows tracker.delivery ``kr.logen``
(배송완료 사진확인 = 배송완료).
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

INFO = TrackingStatus("info_received")
TRANSIT = TrackingStatus("in_transit")
OFD = TrackingStatus("out_for_delivery")
DELIVERED = TrackingStatus("delivered")

TEXTS: StatusTable = {
    "접수": INFO,
    "운송장등록": INFO,
    "집하완료": TRANSIT,
    "집하출고": TRANSIT,
    "터미널입고": TRANSIT,
    "터미널출고": TRANSIT,
    "행낭적입": TRANSIT,
    "배송입고": TRANSIT,
    "배송출고": OFD,
    "배송출발": OFD,
    "배송완료": DELIVERED,
    "배송완료사진확인": DELIVERED,
    "미배송": TrackingStatus("attempt_fail"),
    "미배달": TrackingStatus("attempt_fail"),
}

CODES: StatusTable = {}

KEYWORDS: KeywordRules = (("배송완료", DELIVERED),)
