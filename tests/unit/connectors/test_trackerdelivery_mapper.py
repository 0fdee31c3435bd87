"""tracker.delivery mapper, per payload of the data folder and per schema shape (hand-asserted)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.trackerdelivery.carriers import HUB_TO_TRACKER, hub_carrier, tracker_id
from deliveryhub.adapters.connectors.trackerdelivery.client import TRACK_QUERY
from deliveryhub.adapters.connectors.trackerdelivery.mapper import STATUS, map_payload
from deliveryhub.adapters.connectors.trackerdelivery.scans import mask_name, mask_phone

FOLDER = "korean_commerce_payloads"
DOCS = "tracker_delivery__webhook_callback_and_v1_examples__docs_excerpt.md"
EXAMPLE = "tracker_delivery__track_query_request_example.md"


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _node(time: str, code: str, name: str | None, text: str | None = None, **more: Any) -> dict[str, Any]:
    return {"node": {"time": time, "status": {"code": code, "name": name}, "description": text, **more}}


def _answer(*nodes: dict[str, Any], last: dict[str, Any] | None = None) -> dict[str, Any]:
    track = {"trackingNumber": "553825406594", "events": {"edges": list(nodes)}}
    if last is not None:
        track["lastEvent"] = last
    return {"carrierId": "kr.cjlogistics", "trackingNumber": "553825406594", "data": {"track": track}}


def test_carrier_ids_come_from_the_vendor_list(shared_data: Path) -> None:
    text = (shared_data / FOLDER / "tracker_delivery__carrier_ids.md").read_text(encoding="utf-8")
    ids = set(re.findall(r"^- (\S+)$", text, flags=re.M))
    assert {"kr.cjlogistics", "kr.lotte", "kr.hanjin", "kr.epost", "kr.logen"} <= ids
    assert set(HUB_TO_TRACKER.values()) <= ids  # every id the hub uses is one the vendor implements
    assert tracker_id("cj") == "kr.cjlogistics" and tracker_id("lotte") == "kr.lotte"
    assert hub_carrier("kr.cjlogistics") == "cj" and hub_carrier("kr.epost") == "epost"
    assert hub_carrier("jp.yamato") == "jp.yamato"  # no hub code: the vendor id is kept
    assert tracker_id("nobody") is None


def test_track_query_asks_for_what_the_example_asks(shared_data: Path) -> None:
    text = (shared_data / FOLDER / EXAMPLE).read_text(encoding="utf-8")
    variables = json.loads(text[text.index('{\n  "carrierId"') : text.rindex("}") + 1])
    assert variables == {"carrierId": "kr.cjlogistics", "trackingNumber": "1234567890"}
    for field in ("track(carrierId: $carrierId, trackingNumber: $trackingNumber)", "lastEvent", "edges"):
        assert field in TRACK_QUERY
    assert "status { code name }" in TRACK_QUERY and "description" in TRACK_QUERY


def test_v1_track_example_of_the_docs(shared_data: Path) -> None:
    """The deprecated v1 answer (truncated in the docs: its complete progresses are mapped)."""
    text = (shared_data / FOLDER / DOCS).read_text(encoding="utf-8")
    section = text[text.index("GET https://apis.tracker.delivery/carriers/:carrier_id/tracks/:track_id") :]
    body = section[section.index("{") :]
    body = body[: body.rindex("},\n{")] + "}]}"  # cut at the last complete progress
    payload = json.loads(body)
    result = map_payload(payload, order_id="O-1", tracking_no="1234567890")
    tracking = [e for e in result.events if e["type"] == "shipment.tracking"]
    assert [(e["data"]["status"], e["data"]["raw_status"], e["data"]["location"]) for e in tracking] == [
        ("in_transit", "간선상차", "용산1"),
        ("in_transit", "집화처리", "경기고양신삼송"),
    ]
    assert tracking[0]["data"]["message"] == "물류터미널로 상품이 이동중입니다."
    assert tracking[0]["data"]["raw_code"] == "in_transit" and tracking[0]["data"]["carrier"] == "cj"
    assert tracking[0]["source"] == "carrier:trackerdelivery" and tracking[0]["order_id"] == "O-1"
    assert tracking[1]["occurred_at"] == "2024-04-24T15:26:13+09:00"
    assert _types(result.events).count("shipment.handed_over") == 1
    assert result.unmapped == []


def test_webhook_callback_of_the_docs_carries_no_scans(shared_data: Path) -> None:
    text = (shared_data / FOLDER / DOCS).read_text(encoding="utf-8")
    start = text.index('{\n"carrierId"')
    template = text[start : text.index("\n}", start) + 2]
    body = json.loads(template.replace("{carrierId}", "kr.lotte").replace("{trackingNumber}", "309912345678"))
    result = map_payload(body)
    assert result.events == []
    assert result.unmapped == [
        "trackerdelivery: webhook callback for kr.lotte 309912345678 carries no scans (query track)"
    ]


def test_graphql_track_answer_maps_every_status_code() -> None:
    codes = [
        ("INFORMATION_RECEIVED", "info_received"),
        ("AT_PICKUP", "in_transit"),
        ("IN_TRANSIT", "in_transit"),
        ("OUT_FOR_DELIVERY", "out_for_delivery"),
        ("ATTEMPT_FAIL", "attempt_fail"),
        ("AVAILABLE_FOR_PICKUP", "available_for_pickup"),
        ("EXCEPTION", "exception"),
        ("DELIVERED", "delivered"),
    ]
    nodes = [_node(f"2024-04-2{i}T10:00:00+09:00", code, code.lower()) for i, (code, _) in enumerate(codes)]
    result = map_payload(_answer(*nodes), order_id="O-1")
    tracking = [e for e in result.events if e["type"] == "shipment.tracking"]
    assert [e["data"]["status"] for e in tracking] == [tag for _, tag in codes]
    assert set(STATUS) == {code for code, _ in codes}
    assert _types(result.events)[-2:] == ["shipment.handed_over", "shipment.delivered"]
    assert result.unmapped == []


def test_unknown_code_reads_the_carriers_words_or_is_kept_unknown() -> None:
    result = map_payload(
        _answer(
            _node("2024-04-24T20:00:00+09:00", "UNKNOWN", "간선하차"),
            _node("2024-04-24T21:00:00+09:00", "UNKNOWN", "알수없는상태"),
            _node("2024-04-24T22:00:00+09:00", "NEW_CODE", None),
        ),
        order_id="O-1",
    )
    tracking = [e["data"] for e in result.events if e["type"] == "shipment.tracking"]
    assert tracking[0]["status"] == "in_transit" and tracking[0]["status_known"] is True
    assert tracking[1]["status"] is None and tracking[1]["status_known"] is False
    assert tracking[1]["raw_status"] == "알수없는상태"
    assert tracking[2]["status"] is None and tracking[2]["raw_code"] == "NEW_CODE"
    assert len(result.unmapped) == 2 and "unknown status" in result.unmapped[0]


def test_driver_is_masked_and_the_eta_window_read() -> None:
    text = "고객님의 상품을 배송할 예정입니다.(14~16시) 배송기사 김민수 010-1234-5678"
    contact = {"name": "김민수", "phoneNumber": "+821012345678"}
    node = _node("2024-04-25T13:02:00+09:00", "OUT_FOR_DELIVERY", "배송출발", text, contact=contact)
    result = map_payload(_answer(node, last=node["node"]), order_id="O-1")
    tracking = [e for e in result.events if e["type"] == "shipment.tracking"]
    assert len(tracking) == 1  # lastEvent equals the last node: not repeated
    data = tracking[0]["data"]
    assert data["driver"] == {"name": "김*수", "phone": "010-****-5678"}
    assert data["message"] == "고객님의 상품을 배송할 예정입니다.(14~16시) 배송기사 김*수 010-****-5678"
    assert "김민수" not in json.dumps(result.events, ensure_ascii=False)
    assert "1234-5678" not in json.dumps(result.events, ensure_ascii=False)
    eta = [e for e in result.events if e["type"] == "shipment.eta_updated"]
    assert eta[0]["data"]["eta_min"] == "2024-04-25T14:00:00+09:00"
    assert eta[0]["data"]["eta_max"] == "2024-04-25T16:00:00+09:00"


def test_last_event_ahead_of_events_is_a_summary() -> None:
    last = {"time": "2024-04-26T09:00:00+09:00", "status": {"code": "DELIVERED", "name": "배송완료"}}
    result = map_payload(
        _answer(_node("2024-04-25T13:00:00+09:00", "IN_TRANSIT", "간선상차"), last=last), order_id="O"
    )
    statuses = [
        (e["data"]["status"], e["data"].get("summary"))
        for e in result.events
        if e["type"] == "shipment.tracking"
    ]
    assert statuses == [("in_transit", None), ("delivered", True)]
    assert "shipment.delivered" in _types(result.events)


def test_errors_and_garbage_never_raise() -> None:
    not_found = {"data": {"track": None}, "errors": [{"message": "no", "extensions": {"code": "NOT_FOUND"}}]}
    assert map_payload(not_found).unmapped[0] == "trackerdelivery: GraphQL error NOT_FOUND: no"
    junks: list[Any] = [None, [], "x", {"data": {"track": {"events": "nope"}}}, {"a": 1}]
    for junk in junks:
        result = map_payload(junk, tracking_no="1")
        assert result.events == [] and result.unmapped
    naive = map_payload(_answer(_node("2024-04-25 13:00", "IN_TRANSIT", "간선상차")), order_id="O")
    assert naive.events == [] and "without offset" in naive.unmapped[0]
    no_order = map_payload(_answer(_node("2024-04-25T13:00:00+09:00", "IN_TRANSIT", "x")))
    assert no_order.events[0]["order_id"] == "unknown:553825406594"


def test_masks() -> None:
    assert mask_name("김민수") == "김*수" and mask_name("이수") == "이*" and mask_name("남궁민수") == "남**수"
    assert mask_phone("+821012341234") == "010-****-1234"
    assert mask_phone("010-1234-5678") == "010-****-5678"
    assert mask_phone("+8210XXXX1234") == "010-****-1234"
    assert mask_phone("12") == "****" and mask_name(" ") is None


def test_registered_for_replay() -> None:
    connector = get_connector("trackerdelivery")
    assert connector.source == "carrier:trackerdelivery" and connector.polls is False
    assert connector.map_payload is map_payload
