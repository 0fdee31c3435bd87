"""Real tracking payloads from ../shared/data/carrier_shop_api_payloads, expected tags written out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from deliveryhub.adapters.connectors import aftership, easypost, tracking
from deliveryhub.adapters.connectors.base import get_connector

cj = get_connector("cj")
epost = get_connector("epost")


def scans(events: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [
        (e["occurred_at"], e["data"]["status"], e["data"]["raw_status"])
        for e in events
        if e["type"] == "shipment.tracking"
    ]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def assert_envelopes(events: list[dict[str, Any]], source: str) -> None:
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids))
    for e in events:
        assert e["source"] == source
        assert 1 <= len(e["event_id"]) <= 128
        assert e["occurred_at"][-6] in "+-" or e["occurred_at"].endswith("Z")


# ------------------------------------------------------------------------------------------- Korean


def test_cj_search_post_553825406594(payload) -> None:  # type: ignore[no-untyped-def]
    result = cj.map_payload(payload("korean_tracking/search-post_553825406594.json"))
    assert scans(result.events) == [
        ("2021-12-28T11:05:00+09:00", "in_transit", "집화처리"),
        ("2021-12-29T03:26:00+09:00", "in_transit", "간선상차"),
        ("2021-12-29T07:52:00+09:00", "in_transit", "간선하차"),
        ("2021-12-29T08:02:00+09:00", "out_for_delivery", "배달출발"),
        ("2021-12-29T09:20:00+09:00", "delivered", "배달완료"),
    ]
    assert types(result.events)[-2:] == ["shipment.handed_over", "shipment.delivered"]
    handed = result.events[-2]
    assert handed["occurred_at"] == "2021-12-28T11:05:00+09:00"
    assert result.events[0]["data"]["location"] == "[집화]케이비"
    assert {e["order_id"] for e in result.events} == {"unknown:553825406594"}
    assert {e["shipment_id"] for e in result.events} == {"553825406594"}
    assert result.unmapped == [
        "cj 553825406594: no order_id in payload; order_id set to unknown:553825406594"
    ]
    assert_envelopes(result.events, "carrier:cj")


def test_cj_search_post_with_known_order_and_redelivery_dedupes(payload) -> None:  # type: ignore[no-untyped-def]
    body = payload("korean_tracking/search-post_553825406594.json")
    first = cj.map_payload(body, order_id="ORD-1")
    again = cj.map_payload(body, order_id="ORD-1")
    assert [e["event_id"] for e in first.events] == [e["event_id"] for e in again.events]
    assert {e["order_id"] for e in first.events} == {"ORD-1"}
    assert first.unmapped == []


def test_epost_search_post_6078921007831(payload) -> None:  # type: ignore[no-untyped-def]
    result = epost.map_payload(payload("korean_tracking/search-post_6078921007831.json"))
    assert scans(result.events) == [
        ("2021-08-04T19:25:00+09:00", "info_received", "접수"),
        ("2021-08-04T19:48:00+09:00", "in_transit", "발송"),
        ("2021-08-04T19:50:00+09:00", "in_transit", "도착"),
        ("2021-08-04T20:59:00+09:00", "in_transit", "발송"),
        ("2021-08-04T23:50:00+09:00", "in_transit", "도착"),
        ("2021-08-05T02:42:00+09:00", "in_transit", "발송"),
        ("2021-08-05T03:59:00+09:00", "in_transit", "도착"),
        ("2021-08-05T06:25:00+09:00", "in_transit", "발송"),
        ("2021-08-05T06:26:00+09:00", "in_transit", "도착"),
        ("2021-08-05T07:47:00+09:00", "out_for_delivery", "배달준비"),
        ("2021-08-05T09:57:00+09:00", "delivered", "배달완료"),
    ]
    handed_over = [e for e in result.events if e["type"] == "shipment.handed_over"]
    assert [e["occurred_at"] for e in handed_over] == ["2021-08-04T19:48:00+09:00"]
    assert_envelopes(result.events, "carrier:epost")


def test_search_post_wrong_carrier_reports_instead_of_mapping(payload) -> None:  # type: ignore[no-untyped-def]
    result = cj.map_payload(payload("korean_tracking/search-post_6078921007831.json"))
    assert result.events == []
    assert result.unmapped == ["cj: search-post result for 'epost' ignored (use map_search_post)"]


def test_map_search_post_dispatches_by_company(payload) -> None:  # type: ignore[no-untyped-def]
    result = tracking.map_search_post(
        payload("korean_tracking/search-post_6078921007831.json"), order_id="o-9"
    )
    assert {e["source"] for e in result.events} == {"carrier:epost"}
    assert len(scans(result.events)) == 11


# ---------------------------------------------------------------------------------------- AfterShip

POSTNL = [
    ("2021-03-20T15:29:27+01:00", "info_received", "InfoReceived"),
    ("2021-03-20T15:29:56+01:00", "info_received", "InfoReceived"),
    ("2021-03-20T15:32:37+01:00", "in_transit", "InTransit"),
    ("2021-03-22T18:33:57+01:00", "in_transit", "InTransit"),
    ("2021-03-22T18:36:04+01:00", "in_transit", "InTransit"),
    ("2021-03-25T10:59:00+01:00", "in_transit", "InTransit"),
]

FEDEX_CN_JP = [
    ("2018-07-23T01:21:39-05:00", "info_received", "InfoReceived"),
    ("2018-07-23T16:58:00+08:00", "in_transit", "InTransit"),
    ("2018-07-23T20:45:00+08:00", "in_transit", "InTransit"),
    ("2018-07-23T23:13:00+08:00", "in_transit", "InTransit"),
    ("2018-07-23T23:14:00+08:00", "in_transit", "InTransit"),
    ("2018-07-23T23:14:00+08:00", "in_transit", "InTransit"),
    ("2018-07-24T03:26:00+08:00", "in_transit", "InTransit"),
    ("2018-07-24T04:01:00+08:00", "in_transit", "InTransit"),
    ("2018-07-24T04:03:00+08:00", "in_transit", "InTransit"),
    ("2018-07-24T08:27:00+09:00", "in_transit", "InTransit"),
    ("2018-07-24T09:35:00+09:00", "in_transit", "InTransit"),
    ("2018-07-24T11:12:00+09:00", "in_transit", "InTransit"),
    ("2018-07-24T13:02:00+09:00", "out_for_delivery", "OutForDelivery"),
    ("2018-07-25T10:10:00+09:00", "delivered", "Delivered"),
]


@pytest.mark.parametrize(
    "name",
    [
        "TrackingWithAdditionalFieldsTestCase.test_get_tracking__00.json",
        "TrackingWithAdditionalFieldsTestCase.test_get_tracking__01.json",
        "TrackingWithAdditionalFieldsTestCase.test_get_tracking_by_id__00.json",
    ],
)
def test_aftership_postnl_recorded(payload, name: str) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload(f"aftership/recorded_api_responses_sdk_python/{name}"))
    assert scans(result.events) == POSTNL
    assert types(result.events)[-1] == "shipment.handed_over"
    assert result.events[0]["data"]["carrier"] == "postnl-3s"
    assert result.events[-2]["data"]["raw_code"] == "InTransit_004"
    assert result.events[-2]["data"]["location"] == "ES, Spain"
    assert result.unmapped == [
        "aftership postnl-3s 3SKAAG5995399: no order_id/order_number; order_id set to unknown:3SKAAG5995399"
    ]
    assert_envelopes(result.events, "carrier:aftership")


@pytest.mark.parametrize(
    ("name", "expected_status", "expected_raw"),
    [
        ("TrackingTestCase.test_create_tracking__00.json", "pending", "Pending"),
        ("TrackingTestCase.test_get_tracking__00.json", "pending", "Pending"),
        ("TrackingTestCase.test_list_trackings__00.json", "pending", "Pending"),
        ("TrackingTestCase.test_list_trackings__01.json", "pending", "Pending"),
        ("TrackingTestCase.test_update_tracking__00.json", "pending", "Pending"),
    ],
)
def test_aftership_pending_trackings_give_one_summary(payload, name, expected_status, expected_raw) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload(f"aftership/recorded_api_responses_sdk_python/{name}"))
    assert [(e["data"]["status"], e["data"]["raw_status"], e["data"]["summary"]) for e in result.events] == [
        (expected_status, expected_raw, True)
    ]


def test_aftership_last_checkpoint_postnl(payload) -> None:  # type: ignore[no-untyped-def]
    body = payload(
        "aftership/recorded_api_responses_sdk_python/TrackingWithAdditionalFieldsTestCase.test_get_last_checkpoint__00.json"
    )
    result = aftership.map_payload(body)
    assert scans(result.events) == [("2021-03-25T10:59:00+01:00", "in_transit", "InTransit")]


def test_aftership_last_checkpoint_pending_has_no_time(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(
        payload(
            "aftership/recorded_api_responses_sdk_python/TrackingTestCase.test_get_last_checkpoint__00.json"
        )
    )
    assert result.events == []
    assert any("checkpoint #0" in u for u in result.unmapped)


def test_aftership_retrack_without_tag(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(
        payload("aftership/recorded_api_responses_sdk_python/TrackingTestCase.test_retrack__00.json")
    )
    assert result.events == []


@pytest.mark.parametrize(
    "name",
    [
        "recorded_api_responses_sdk_python/CourierTestCase.test_detect_courier__00.json",
        "recorded_api_responses_sdk_python/CourierTestCase.test_detect_courier__01.json",
        "recorded_api_responses_sdk_python/EstimatedDeliveryDateTestCase.test_batch_predict_estimated_delivery_date__00.json",
        "recorded_api_responses_sdk_python/TrackingWithAdditionalFieldsTestCase.test_get_tracking_with_internal_error__00.json",
        "sdk_java_test_resources/BatchPredictEstimatedDeliveryDateResult.json",
    ],
)
def test_aftership_non_tracking_responses_are_reported(payload, name: str) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload(f"aftership/{name}"))
    assert result.events == []
    assert result.unmapped and result.unmapped[0].startswith("aftership: no tracking in payload")


def test_aftership_java_get_tracking_delivered(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload("aftership/sdk_java_test_resources/GetTrackingResult.json"))
    assert scans(result.events) == FEDEX_CN_JP
    assert types(result.events)[-2:] == ["shipment.handed_over", "shipment.delivered"]
    assert result.events[-1]["occurred_at"] == "2018-07-25T10:10:00+09:00"


def test_aftership_java_mark_as_completed_lost(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload("aftership/sdk_java_test_resources/MarkAsCompletedResult.json"))
    summary = result.events[0]
    assert (summary["data"]["status"], summary["data"]["reason"], summary["data"]["raw_code"]) == (
        "exception",
        "lost",
        "Exception_013",
    )
    assert summary["occurred_at"] == "2018-08-17T05:10:46+00:00"
    assert scans(result.events)[1:] == FEDEX_CN_JP


def test_aftership_java_get_trackings_three(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload("aftership/sdk_java_test_resources/GetTrackingsResult.json"))
    by_number: dict[str, list[str | None]] = {}
    for e in result.events:
        if e["type"] == "shipment.tracking":
            by_number.setdefault(e["shipment_id"], []).append(e["data"]["status"])
    assert by_number == {
        "1111111111111": [
            "info_received",
            "in_transit",
            "in_transit",
            "in_transit",
            "exception",
            "in_transit",
            "in_transit",
            "in_transit",
            "in_transit",
            "out_for_delivery",
            "delivered",
        ],
        "2222222222222": ["expired"],
        "1231231231231": ["expired"],
    }
    exception = [e for e in result.events if e["data"].get("status") == "exception"][0]
    assert exception["data"]["message"] == "Shipment exception - Barcode label unreadable and replaced"
    assert exception["data"]["raw_code"] == "Exception_001"


def test_aftership_java_create_and_last_checkpoint(payload) -> None:  # type: ignore[no-untyped-def]
    created = aftership.map_payload(payload("aftership/sdk_java_test_resources/CreateTrackingResult.json"))
    assert [e["data"]["status"] for e in created.events] == ["pending"]
    last = aftership.map_payload(payload("aftership/sdk_java_test_resources/GetLastCheckpointResult.json"))
    assert scans(last.events) == [("2018-08-01T13:19:47-04:00", "delivered", "Delivered")]
    assert types(last.events) == ["shipment.tracking", "shipment.handed_over", "shipment.delivered"]


def test_aftership_java_update_tracking_naive_times_rejected(payload) -> None:  # type: ignore[no-untyped-def]
    result = aftership.map_payload(payload("aftership/sdk_java_test_resources/UpdateTrackingResult.json"))
    # All 11 checkpoint_time values lack an offset: rejected, not guessed; only the tracking tag remains.
    assert [(e["data"]["status"], e["data"]["summary"]) for e in result.events] == [("delivered", True)]
    assert sum("has no offset" in u for u in result.unmapped) == 11


def test_aftership_webhook_body_with_order_number() -> None:
    body = {
        "event": "tracking_update",
        "event_id": "2b0e0f7c-0000-4000-8000-000000000000",
        "msg": {
            "tracking_number": "553825406594",
            "slug": "cj-logistics",
            "order_id": "ORD-7",
            "tag": "AttemptFail",
            "subtag": "AttemptFail_002",
            "updated_at": "2024-05-02T12:00:00+00:00",
            "checkpoints": [
                {
                    "checkpoint_time": "2024-05-02T20:00:00+09:00",
                    "tag": "AttemptFail",
                    "subtag": "AttemptFail_002",
                    "message": "수취인 부재 - 배송기사 홍길동 010-1234-5678",
                    "location": "서울",
                }
            ],
        },
    }
    result = aftership.map_payload(body)
    assert result.unmapped == []
    [event, handed] = result.events
    assert (event["order_id"], event["data"]["status"], event["data"]["reason"]) == (
        "ORD-7",
        "attempt_fail",
        "recipient_not_available",
    )
    assert event["data"]["message"] == "수취인 부재 - 배송기사 홍*동 010-****-5678"
    assert handed["type"] == "shipment.handed_over"


# ----------------------------------------------------------------------------------------- EasyPost

# The scans EasyPost's own examples and recorded test responses carry, one list per recording session.
EZ_TEST = [
    ("2025-02-06T19:48:26+00:00", "info_received", "pre_transit"),
    ("2025-02-07T08:25:26+00:00", "info_received", "pre_transit"),
]
EZ_OFFICIAL = [
    ("2025-04-09T20:40:17+00:00", "info_received", "pre_transit"),
    ("2025-04-10T09:17:17+00:00", "info_received", "pre_transit"),
]
EZ_BATCH = [
    ("2025-10-05T21:59:07+00:00", "info_received", "pre_transit"),
    ("2025-10-06T10:36:07+00:00", "info_received", "pre_transit"),
]


def test_easypost_webhook_event_body(payload) -> None:  # type: ignore[no-untyped-def]
    result = easypost.map_payload(
        payload("easypost/official_examples/webhook_event_body_tracker_updated.json")
    )
    assert scans(result.events) == [
        ("2024-07-31T15:00:00+00:00", "info_received", "pre_transit"),
        ("2024-07-31T19:27:00+00:00", "in_transit", "in_transit"),
        ("2024-07-31T22:35:00+00:00", "in_transit", "in_transit"),
        ("2024-08-01T14:42:13+00:00", "in_transit", "in_transit"),
        ("2024-08-02T02:46:19+00:00", "in_transit", "in_transit"),
        ("2024-08-02T18:35:20+00:00", "in_transit", "in_transit"),
        ("2024-08-02T18:50:00+00:00", "in_transit", "in_transit"),
    ]
    assert types(result.events)[-1] == "shipment.handed_over"
    assert result.events[1]["data"]["location"] == "ORLANDO, FL, 32809, US"
    assert result.events[0]["data"]["carrier"] == "FedEx"
    assert result.unmapped == ["easypost FedEx 1: tracker has no order reference; order_id set to unknown:1"]
    assert_envelopes(result.events, "carrier:easypost")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("official_examples/trackers-create.json", EZ_OFFICIAL),
        ("official_examples/trackers-retrieve.json", EZ_OFFICIAL),
        ("official_examples/trackers-list.json", EZ_OFFICIAL),
        ("recorded_api_responses/test_tracker_create__00.json", EZ_TEST),
        ("recorded_api_responses/test_tracker_retrieve__00.json", EZ_TEST),
        ("recorded_api_responses/test_tracker_retrieve__01.json", EZ_TEST),
        ("recorded_api_responses/test_tracker_retrieve_batch__00.json", EZ_BATCH),
        ("recorded_api_responses/test_tracker_retrieve_batch__01.json", EZ_BATCH),
    ],
)
def test_easypost_single_tracker_files(payload, name: str, expected) -> None:  # type: ignore[no-untyped-def]
    result = easypost.map_payload(payload(f"easypost/{name}"))
    assert scans(result.events) == expected
    assert all(e["data"]["raw_code"] == "status_update" for e in result.events)


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        (
            "test_tracker_all__00.json",
            [
                "9400100208303109500782",
                "9400100208303109500775",
                "9400100208303109500768",
                "9400100208303109500751",
                "9400100208303109500744",
            ],
        ),
        (
            "test_tracker_get_next_page__00.json",
            [
                "9400100208303109500782",
                "9400100208303109500775",
                "9400100208303109500768",
                "9400100208303109500751",
                "9400100208303109500744",
            ],
        ),
        (
            "test_tracker_get_next_page__01.json",
            [
                "9400100208303109500737",
                "9400100208303109500720",
                "9400100208303109500713",
                "9434600208303109492683",
                "EZ1000000001",
            ],
        ),
    ],
)
def test_easypost_tracker_pages(payload, name: str, codes: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = easypost.map_payload(payload(f"easypost/recorded_api_responses/{name}"))
    per_code = [e["shipment_id"] for e in result.events]
    assert per_code == [c for c in codes for _ in range(2)]
    assert {e["data"]["status"] for e in result.events} == {"info_received"}
    shipment = result.events[0]["data"]["easypost_shipment_id"]
    assert shipment.startswith("shp_")


@pytest.mark.parametrize(
    "name",
    [
        "official_examples/events-list.json",
        "official_examples/events-retrieve.json",
        "official_examples/payloads-list.json",
        "official_examples/payloads-retrieve.json",
        "official_examples/webhooks-create.json",
        "recorded_api_responses/test_event_all__00.json",
        "recorded_api_responses/test_event_retrieve__00.json",
        "recorded_api_responses/test_event_retrieve_all_payloads__00.json",
        "recorded_api_responses/test_event_retrieve_all_payloads__01.json",
        "recorded_api_responses/test_event_retrieve_all_payloads__02.json",
        "recorded_api_responses/test_event_retrieve_all_payloads__03.json",
        "recorded_api_responses/test_event_retrieve_all_payloads__04.json",
        "recorded_api_responses/test_event_retrieve_payload__00.json",
        "recorded_api_responses/test_event_retrieve_payload__01.json",
        "recorded_api_responses/test_event_retrieve_payload__02.json",
        "recorded_api_responses/test_event_retrieve_payload__03.json",
        "recorded_api_responses/test_event_retrieve_payload__04.json",
    ],
)
def test_easypost_non_tracker_payloads_are_reported(payload, name: str) -> None:  # type: ignore[no-untyped-def]
    result = easypost.map_payload(payload(f"easypost/{name}"))
    assert result.events == []
    assert result.unmapped


def test_easypost_status_detail_reason_and_summary() -> None:
    tracker = {
        "object": "Tracker",
        "id": "trk_x",
        "tracking_code": "TRK1",
        "carrier": "UPS",
        "status": "return_to_sender",
        "status_detail": "return",
        "updated_at": "2024-01-03T00:00:00Z",
        "tracking_details": [
            {
                "datetime": "2024-01-02T10:00:00Z",
                "status": "failure",
                "status_detail": "damaged",
                "message": "x",
            },
        ],
    }
    result = easypost.map_payload(tracker, order_id="ORD-3")
    assert [
        (e["data"]["status"], e["data"].get("reason"), e["data"].get("summary")) for e in result.events
    ] == [
        ("exception", "returned_to_sender", True),
        ("exception", "damaged", None),
    ]
    assert result.unmapped == []
