"""ETA windows, personal-data masking, push format details."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from deliveryhub.adapters.connectors import tracking

KST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("고객님의 상품을 배송할 예정입니다.(14~16시)", 14, 16),
        ("배송출발 (9~11시)", 9, 11),
        ("배송출발(20시~22시)", 20, 22),
        ("배송출발 (22~24시)", 22, 24),
    ],
)
def test_eta_window(text: str, start: int, end: int) -> None:
    window = tracking.eta_window(text, date(2024, 5, 2))
    base = datetime(2024, 5, 2, tzinfo=KST)
    assert window == (base + timedelta(hours=start), base + timedelta(hours=end))


@pytest.mark.parametrize("text", ["배송출발", "(16~14시)", "(25~26시)", "", None])
def test_eta_window_absent(text: str | None) -> None:
    assert tracking.eta_window(text, date(2024, 5, 2)) is None


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("배송기사 홍길동", "배송기사 홍*동"),
        ("배송기사 홍길동 010-1234-5678", "배송기사 홍*동 010-****-5678"),
        ("담당기사: 김철수님 (010.9876.5432)", "담당기사: 김*수님 (010-****-5432)"),
        ("이순신 010-1111-2222 배송예정", "이*신 010-****-2222 배송예정"),
        ("연락처 01012345678", "연*처 010-****-5678"),
        ("집배원 남궁민수", "집배원 남**수"),
        ("택배기사 김수 02-123-4567", "택배기사 김* 02-****-4567"),
        ("운송장 553825406594 간선상차", "운송장 553825406594 간선상차"),  # tracking numbers untouched
        ("고객님의 상품을 배송할 예정입니다.(14~16시)", "고객님의 상품을 배송할 예정입니다.(14~16시)"),
    ],
)
def test_mask_personal(raw: str, masked: str) -> None:
    assert tracking.mask_personal(raw) == masked


def test_push_format_cj_with_window_and_masking() -> None:
    body = {
        "tracking_no": "553825406594",
        "order_id": "ORD-1",
        "events": [
            {"time": "2024-05-02 08:00", "code": "11", "status": "집화처리", "location": "곤지암Hub"},
            {
                "time": "2024-05-02T12:30:00+09:00",
                "code": "82",
                "status": "배송출발",
                "location": "천안불당",
                "message": "고객님의 상품을 배송할 예정입니다.(14~16시) 배송기사 홍길동 010-1234-5678",
            },
            {"time": "2024-05-02 15:10:00", "code": "91", "status": "배송완료", "location": "천안불당"},
        ],
    }
    result = tracking.map_korean_payload("cj", body)
    assert result.unmapped == []
    assert [(e["type"], e["data"].get("status")) for e in result.events] == [
        ("shipment.tracking", "in_transit"),
        ("shipment.tracking", "out_for_delivery"),
        ("shipment.tracking", "delivered"),
        ("shipment.eta_updated", None),
        ("shipment.handed_over", None),
        ("shipment.delivered", None),
    ]
    ofd = result.events[1]
    assert (
        ofd["data"]["message"] == "고객님의 상품을 배송할 예정입니다.(14~16시) 배송기사 홍*동 010-****-5678"
    )
    eta = result.events[3]
    assert (eta["data"]["eta_min"], eta["data"]["eta_max"]) == (
        "2024-05-02T14:00:00+09:00",
        "2024-05-02T16:00:00+09:00",
    )
    assert result.events[0]["occurred_at"] == "2024-05-02T08:00:00+09:00"


def test_push_format_problems_are_listed() -> None:
    body = {
        "tracking_no": "6078921007831",
        "events": [{"time": "yesterday", "status": "접수"}, {"time": "2024-01-01 10:00"}, 5],
    }
    result = tracking.map_korean_payload("epost", body)
    assert result.events == []
    assert len(result.unmapped) == 4  # no order id, bad time, no status, not an object
