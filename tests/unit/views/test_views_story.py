"""The order story's pure rules: lateness against the promised date, ETA vs promise, scans in words,
evidence in words, notices per channel, carrier links."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from deliveryhub.views.story import (
    carrier_url,
    eta_vs_promise,
    evidence_rows,
    lateness,
    lateness_text,
    notice_story,
    parcel_story,
)

KST = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 26)


def test_lateness_states() -> None:
    def state(**d: object) -> tuple[str, int]:
        late = lateness({"promised_delivery_date": "2026-11-23", **d}, TODAY, KST)
        return late["state"], late["days_late"]

    assert state(stage="in_transit") == ("late", 3)
    assert (
        lateness({"promised_delivery_date": "2026-11-26", "stage": "in_transit"}, TODAY, KST)["state"]
        == "due_today"
    )
    assert (
        lateness({"promised_delivery_date": "2026-11-28", "stage": "handed_over"}, TODAY, KST)["state"]
        == "on_track"
    )
    # Delivered at 23:30 KST on the 23rd (14:30 UTC): on time in the shop's day, not late by UTC.
    assert state(stage="delivered", delivered_at="2026-11-23T14:30:00+00:00") == ("delivered_on_time", 0)
    assert state(stage="delivered", delivered_at="2026-11-24T15:30:00+00:00") == ("delivered_late", 2)
    assert state(stage="cancelled") == ("closed", 0)
    assert lateness({"stage": "in_transit"}, TODAY, KST)["state"] == "no_promise"
    assert (
        lateness_text(lateness({"promised_delivery_date": "2026-11-23"}, TODAY, KST), "ko")
        == "약속일보다 3일 늦음"
    )
    assert lateness_text(lateness({"promised_delivery_date": "2026-11-23"}, TODAY, KST), "en").startswith(
        "3 day"
    )


def test_eta_against_the_promise_in_the_shop_day() -> None:
    promised = date(2026, 11, 27)
    # Ends 23:00 KST on the 27th (14:00 UTC): within; ends 01:00 KST on the 28th: after.
    assert eta_vs_promise({"eta_max": "2026-11-27T14:00:00+00:00"}, promised, KST) == "within"
    assert eta_vs_promise({"eta_max": "2026-11-27T16:00:00+00:00"}, promised, KST) == "after"
    assert eta_vs_promise(None, promised, KST) is None and eta_vs_promise({"eta_max": "x"}, None, KST) is None


def test_parcel_scans_newest_first_in_words() -> None:
    handed = {"type": "shipment.handed_over", "occurred_at": "2026-11-20T08:00:00+00:00"}
    scan = dict(type="shipment.tracking", occurred_at="2026-11-21T03:00:00+00:00", status="exception")
    scan.update(raw_status="배송 지연", location="대전 HUB", reason="weather_delay")
    parcel = dict(shipment_id="P1", carrier="cj", tracking_no="5538-2540-6594", status="in_transit")
    eta = {"type": "shipment.eta_updated", "occurred_at": "2026-11-22T01:00:00+00:00"}
    parcel["tracking"] = [handed, scan, eta]
    story = parcel_story(parcel, "ko", KST)
    assert story["carrier_name"] == "CJ대한통운" and story["status_label"] == "이동 중"
    assert story["carrier_url"].endswith("wblNo=553825406594")
    texts = [s["text"] for s in story["scans"]]
    assert texts == ["도착 예정일 변경", "배송 이상 · 배송 지연 (기상 악화)", "택배사 인계"]
    # The last scan is where the parcel was last seen, not the ETA revision after it.
    assert story["last_scan"] == story["scans"][1] and story["last_scan"]["location"] == "대전 HUB"
    assert story["last_scan"]["at"] == "2026-11-21 12:00"
    assert carrier_url("unknown", "123") == "" and carrier_url("cj", None) == ""


def test_evidence_and_notices_in_words() -> None:
    rows = evidence_rows(
        {
            "promised_date": "2026-11-23",
            "stage": "in_transit",
            "days_late": 3,
            "late_probability": 0.82,
            "carrier": "logen",
            "due_at": "2026-11-23T15:00:00+00:00",
            "empty": None,
        },
        "ko",
        KST,
    )
    shown = {r["name"]: r["value"] for r in rows}
    assert shown == {
        "약속 배송일": "2026년 11월 23일 (월)",
        "단계": "배송 중",
        "지연 일수": "3",
        "지연 확률": "82%",
        "택배사": "로젠택배",
        "기한": "2026-11-24 00:00",
    }
    notices = notice_story(
        [
            {
                "audience": "customer",
                "template": "handed_over",
                "status": "sent",
                "channel": "kakao",
                "sent_at": "2026-11-20T08:01:00+00:00",
                "receipts": [{"status": "delivered", "channel": "kakao"}],
            },
            {"audience": "ops", "template": "ops_alert", "status": "sent", "channel": "console"},
            {
                "audience": "customer",
                "template": "delivery_delayed",
                "status": "failed",
                "channel": "sms",
                "last_error": "http 500",
                "created_at": "2026-11-24T01:00:00+00:00",
                "receipts": [],
            },
        ],
        "ko",
        KST,
    )
    assert [(n["template"], n["channel"], n["status_label"]) for n in notices["rows"]] == [
        ("배송 지연 안내", "문자", "실패"),
        ("발송 안내", "알림톡", "수신 확인"),
    ]
    assert notices["rows"][0]["error"] == "http 500"
    assert notices["per_channel"] == [
        {"channel": "문자", "counts": "실패 1"},
        {"channel": "알림톡", "counts": "수신 확인 1"},
    ]


def test_a_stale_estimate_is_not_read_as_on_time() -> None:
    # Promised 1 Dec, the carrier's last window ended 1 Dec 21:00, and it is now 6 Dec: not "within".
    window = {"eta_min": "2026-12-01T00:00:00+00:00", "eta_max": "2026-12-01T12:00:00+00:00"}
    promised = date(2026, 12, 1)
    assert eta_vs_promise(window, promised, KST, date(2026, 12, 6)) == "passed"
    assert eta_vs_promise(window, promised, KST, date(2026, 12, 1)) == "within"
    assert eta_vs_promise(window, promised, KST) == "within"  # no today given: the old comparison


def test_nested_evidence_is_named_not_a_repr() -> None:
    parcel = {"shipment_id": "S-1", "carrier": "cj", "tracking_no": "858732309539", "status": "in_transit"}
    parcel |= {"last_update": "2026-11-30T08:40:39+00:00", "hours_silent": 145.7}
    for lang, words in (
        ("ko", ("송장번호 858732309539", "CJ대한통운", "이동 중", "무소식 시간 145.7")),
        ("en", ("Tracking no. 858732309539", "in transit", "Hours without news 145.7")),
    ):
        value = evidence_rows({"parcels": [parcel, parcel]}, lang, KST)[0]["value"]
        assert (
            "{" not in value
            and "'" not in value
            and "in_transit" not in value
            and "hours_silent" not in value
        )
        assert all(w.lower() in value.lower() for w in words), value
        assert value.count("858732309539") == 2  # both parcels
