"""Every code and text named in spec/EVENTS.md (and PRODUCT-ANCHORS 13.1) maps to the documented tag."""

from __future__ import annotations

import pytest

from deliveryhub.adapters.connectors import tracking

# (carrier, raw_code, raw_status, expected tag, expected reason)
CASES = [
    # CJ대한통운 codes
    ("cj", "11", "집화처리", "in_transit", None),
    ("cj", "41", "간선상차", "in_transit", None),
    ("cj", "44", "간선상차", "in_transit", None),
    ("cj", "42", "간선하차", "in_transit", None),
    ("cj", "21", "SM입고", "in_transit", None),
    ("cj", "82", "배송출발", "out_for_delivery", None),
    ("cj", "91", "배송완료", "delivered", None),
    # CJ without code (text only), incl. the scraper's 배달출발/배달완료 and the window in the text
    ("cj", None, "집화처리", "in_transit", None),
    ("cj", None, "간선상차", "in_transit", None),
    ("cj", None, "간선하차", "in_transit", None),
    ("cj", None, "배송출발", "out_for_delivery", None),
    ("cj", None, "배달출발", "out_for_delivery", None),
    ("cj", None, "배송출발 (14~16시)", "out_for_delivery", None),
    ("cj", None, "배송완료", "delivered", None),
    ("cj", None, "배달완료", "delivered", None),
    # 롯데택배 codes
    ("lotte", "12", "운송장 등록", "info_received", None),
    ("lotte", "10", "집하", "in_transit", None),
    ("lotte", "20", "구간발송", "in_transit", None),
    ("lotte", "21", "구간도착", "in_transit", None),
    ("lotte", "24", "적입", "in_transit", None),
    ("lotte", "25", "해체", "in_transit", None),
    ("lotte", "40", "배달전", "out_for_delivery", None),
    ("lotte", "41", "배달완료", "delivered", None),
    ("lotte", "45", "인수자등록", "delivered", None),
    ("lotte", "09", "반품취소", "exception", "cancelled"),
    # 롯데택배 texts only
    ("lotte", None, "운송장 등록", "info_received", None),
    ("lotte", None, "집하", "in_transit", None),
    ("lotte", None, "구간발송", "in_transit", None),
    ("lotte", None, "구간도착", "in_transit", None),
    ("lotte", None, "배달전", "out_for_delivery", None),
    ("lotte", None, "배달완료", "delivered", None),
    # 한진택배 texts (EVENTS.md) and sentences (tracker.delivery)
    ("hanjin", None, "접수", "info_received", None),
    ("hanjin", None, "운송장 등록", "info_received", None),
    ("hanjin", None, "운송장 정보가 등록되었습니다.", "info_received", None),
    ("hanjin", None, "집하완료", "in_transit", None),
    ("hanjin", None, "이동중", "in_transit", None),
    ("hanjin", None, "도착", "in_transit", None),
    ("hanjin", None, "서울 강남 터미널로 이동중", "in_transit", None),
    ("hanjin", None, "대전HUB에 도착", "in_transit", None),
    ("hanjin", None, "통관목록이 접수되었습니다", "in_transit", None),
    ("hanjin", None, "배송준비중", "in_transit", None),
    ("hanjin", None, "배달준비", "out_for_delivery", None),
    ("hanjin", None, "배송출발", "out_for_delivery", None),
    ("hanjin", None, "미배달", "attempt_fail", None),
    ("hanjin", None, "배달완료", "delivered", None),
    ("hanjin", None, "배송완료", "delivered", None),
    # 우체국택배 texts
    ("epost", None, "운송장출력", "info_received", None),
    ("epost", None, "접수", "info_received", None),
    ("epost", None, "접수 마감 후 접수(익일발송)", "info_received", None),
    ("epost", None, "운송장 등록", "info_received", None),
    ("epost", None, "인수완료", "in_transit", None),
    ("epost", None, "집하완료", "in_transit", None),
    ("epost", None, "발송", "in_transit", None),
    ("epost", None, "도착", "in_transit", None),
    ("epost", None, "이동중", "in_transit", None),
    ("epost", None, "배달준비", "out_for_delivery", None),
    ("epost", None, "배송출발", "out_for_delivery", None),
    ("epost", None, "미배달", "attempt_fail", None),
    ("epost", None, "배달완료", "delivered", None),
    ("epost", None, "배송완료", "delivered", None),
    ("epost", None, "신청취소", "exception", "cancelled"),
    ("epost", None, "접수취소", "exception", "cancelled"),
    # 로젠택배 texts (EVENTS.md names none; tracker.delivery vocabulary)
    ("logen", None, "집하완료", "in_transit", None),
    ("logen", None, "집하출고", "in_transit", None),
    ("logen", None, "터미널입고", "in_transit", None),
    ("logen", None, "터미널출고", "in_transit", None),
    ("logen", None, "행낭적입", "in_transit", None),
    ("logen", None, "배송입고", "in_transit", None),
    ("logen", None, "배송출고", "out_for_delivery", None),
    ("logen", None, "배송완료", "delivered", None),
    ("logen", None, "배송완료 사진확인", "delivered", None),
]


@pytest.mark.parametrize(("carrier", "code", "text", "tag", "reason"), CASES)
def test_documented_vocabulary_maps_to_tag(
    carrier: str, code: str | None, text: str, tag: str, reason: str | None
) -> None:
    assert tracking.normalize_status(carrier, code, text) == (tag, reason, True)


def test_code_wins_over_text() -> None:
    assert tracking.normalize_status("cj", "91", "간선상차") == ("delivered", None, True)


@pytest.mark.parametrize(
    ("carrier", "text", "message", "reason"),
    [
        ("epost", "미배달", "수취인부재", "recipient_not_available"),
        ("hanjin", "미배달", "수취거절로 미배달", "refused"),
        ("cj", "미배달", "주소불명", "address_not_found"),
    ],
)
def test_attempt_fail_reason_from_message(carrier: str, text: str, message: str, reason: str) -> None:
    assert tracking.normalize_status(carrier, None, text, message=message) == ("attempt_fail", reason, True)


@pytest.mark.parametrize(
    ("carrier", "code", "text"),
    [
        ("cj", "99", "알수없는상태"),
        ("lotte", None, "뭔가"),
        ("nosuchcarrier", "11", "집화처리"),
        ("cj", None, None),
    ],
)
def test_unknown_is_reported_not_guessed(carrier: str, code: str | None, text: str | None) -> None:
    assert tracking.normalize_status(carrier, code, text) == (None, None, False)


def test_unknown_scan_is_kept_and_listed() -> None:
    result = tracking.map_korean_payload(
        "cj",
        {
            "tracking_no": "1234567890",
            "order_id": "o-1",
            "events": [{"time": "2024-05-02 10:00", "status": "???"}],
        },
    )
    assert [e["data"]["status"] for e in result.events] == [None]
    assert result.events[0]["data"]["status_known"] is False
    assert result.events[0]["data"]["raw_status"] == "???"
    assert any("unknown status" in u for u in result.unmapped)


def test_vocabulary_is_checked_when_read() -> None:
    from deliveryhub.adapters.connectors.statuses import parse_vocabulary, vocabulary

    shipped = vocabulary()
    assert list(shipped.korean) == ["cj", "lotte", "hanjin", "epost", "logen"]
    assert shipped.korean["lotte"].check == "mod7" and shipped.korean["cj"].lengths == {10, 12}
    doc = {
        "korean": {"x": {"name": "X", "lengths": [10], "texts": {"배송완료": "deliverd"}}},
        "korean_keywords": [],
        "korean_reasons": [],
        "aftership": {},
        "easypost": {},
        "shopify": {"carrier_aliases": {}},
    }
    with pytest.raises(ValueError, match="korean.x.texts.배송완료: 'deliverd' is not one of the tracking"):
        parse_vocabulary(doc)
    doc["korean"]["x"]["texts"] = {"반송": "exception/sent_back"}
    with pytest.raises(ValueError, match="'sent_back' is not a known reason"):
        parse_vocabulary(doc)
