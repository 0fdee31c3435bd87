"""Sweet Tracker mapper, per schema of the data folder (hand-asserted)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.sweettracker.codes import LEVELS, hub_carrier, t_code
from deliveryhub.adapters.connectors.sweettracker.mapper import map_payload

SCHEMA = "korean_commerce_payloads/sweettracker__trackingInfo_companylist_recommend__schema.md"


def _detail(when: str, level: int, kind: str, **more: Any) -> dict[str, Any]:
    return {"timeString": when, "level": level, "kind": kind, "where": "서울강남", **more}


def _answer(*details: dict[str, Any], code: str = "04") -> dict[str, Any]:
    return {"invoiceNo": "553825406594", "t_code": code, "complete": False, "trackingDetails": list(details)}


def test_levels_of_the_schema(shared_data: Path) -> None:
    text = (shared_data / SCHEMA).read_text(encoding="utf-8")
    block = text[text.index("export type Level") :]
    titles = {int(n): t for n, t in re.findall(r"Constant<\s*(\d),\s*\{\s*title: \"([^\"]+)\"", block)}
    assert titles == {
        1: "배송 준비 중",
        2: "집화 완료",
        3: "배송 중",
        4: "지점 도착",
        5: "배송 출발",
        6: "배송 완료",
    }
    expected = {
        "배송 준비 중": "info_received",
        "집화 완료": "in_transit",
        "배송 중": "in_transit",
        "지점 도착": "in_transit",
        "배송 출발": "out_for_delivery",
        "배송 완료": "delivered",
    }
    assert {n: LEVELS[n] for n in titles} == {n: expected[t] for n, t in titles.items()}


def test_tracking_info_maps_each_detail() -> None:
    result = map_payload(
        _answer(
            _detail("2024-04-24 15:26:13", 2, "집화처리"),
            _detail(
                "2024-04-25 13:02:00",
                5,
                "배송출발",
                manName="박지성",
                telno2="01098765432",
                telno="0212345678",
            ),
            _detail("2024-04-25 18:40:00", 6, "배송완료", remark="문앞 배송 완료"),
        ),
        order_id="O-1",
    )
    tracking = [e for e in result.events if e["type"] == "shipment.tracking"]
    assert [(e["data"]["status"], e["data"]["raw_status"], e["data"]["level"]) for e in tracking] == [
        ("in_transit", "집화처리", 2),
        ("out_for_delivery", "배송출발", 5),
        ("delivered", "배송완료", 6),
    ]
    assert tracking[0]["occurred_at"] == "2024-04-24T15:26:13+09:00"
    assert tracking[1]["data"]["driver"] == {"name": "박*성", "phone": "010-****-5432"}
    assert tracking[2]["data"]["message"] == "문앞 배송 완료"
    assert all(e["data"]["carrier"] == "cj" and e["shipment_id"] == "553825406594" for e in tracking)
    assert [e["type"] for e in result.events][-2:] == ["shipment.handed_over", "shipment.delivered"]
    assert "박지성" not in json.dumps(result.events, ensure_ascii=False)
    assert result.unmapped == []


def test_epoch_millis_and_failed_attempts() -> None:
    result = map_payload(
        _answer(
            {"time": 1714023600000, "level": 5, "kind": "미배달(수취인부재)", "where": "서울강남"},
            {"timeString": "2024-04-26 10:00", "level": 9, "kind": "배송완료"},
            {"timeString": "2024-04-26 11:00", "level": 9, "kind": "무슨상태"},
        ),
        order_id="O-1",
    )
    tracking = [e for e in result.events if e["type"] == "shipment.tracking"]
    assert tracking[0]["occurred_at"] == "2024-04-25T14:40:00+09:00"
    assert tracking[0]["data"]["status"] == "attempt_fail"
    assert tracking[0]["data"]["reason"] == "recipient_not_available"
    assert tracking[1]["data"]["status"] == "delivered"  # unknown level: the carrier's words
    assert tracking[2]["data"]["status"] is None and tracking[2]["data"]["status_known"] is False
    assert len(result.unmapped) == 1


def test_last_state_only_and_unknown_carrier() -> None:
    payload = {"invoiceNo": "1", "lastStateDetail": _detail("2024-04-25 18:40:00", 6, "배송완료")}
    result = map_payload(payload, order_id="O")
    assert result.events[0]["data"]["carrier"] == "unknown"
    assert result.events[0]["data"]["status"] == "delivered"


def test_answers_without_scans_never_raise() -> None:
    assert map_payload({"status": False, "code": "104", "msg": "운송장 이력이 없습니다."}).unmapped == [
        "sweettracker: error answer code='104' msg='운송장 이력이 없습니다.'"
    ]
    assert (
        map_payload({"Company": [{"Code": "04", "Name": "CJ대한통운", "International": "false"}]}).events
        == []
    )
    assert map_payload({"Recommend": [{"Code": "04", "Name": "CJ대한통운"}]}).unmapped
    for junk in (
        None,
        3,
        {"x": 1},
        {"trackingDetails": "no"},
        {"invoiceNo": "1", "trackingDetails": [{"level": 2}]},
    ):
        result = map_payload(junk)
        assert result.events == [] and result.unmapped


def test_codes_and_registry() -> None:
    assert (
        t_code("cj") == "04"
        and t_code("hanjin") == "05"
        and t_code("08") == "08"
        and t_code("nobody") is None
    )
    assert hub_carrier("08") == "lotte" and hub_carrier("99") == "sweet-99"
    connector = get_connector("sweettracker")
    assert connector.source == "carrier:sweettracker" and connector.map_payload is map_payload
