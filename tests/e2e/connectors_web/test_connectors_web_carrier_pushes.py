"""Every carrier push endpoint, fed a realistic signed payload, ends with the right parcel status on the
order; unsigned, the same push is refused for every carrier and stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.adapters.connectors.tracking import KOREAN_CARRIERS
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, make_hub
from e2e.connectors_web.connectors_kit import waybill_order

P = "carrier_shop_api_payloads"


def _push_format(tracking_no: str, scans: list[tuple[str, str | None, str | None, str]]) -> dict[str, Any]:
    """The documented Korean push format (tracking.py): time, code?, status text?, location."""
    return {
        "tracking_no": tracking_no,
        "events": [
            {
                "time": at,
                **({"code": code} if code else {}),
                **({"status": text} if text else {}),
                "location": where,
            }
            for at, code, text, where in scans
        ],
    }


# Lotte reports GODS_STAT_CD codes, Hanjin and Logen report Korean texts (EVENTS.md vocabulary).
LOTTE = _push_format(
    "309912345673",
    [
        ("2026-11-20 18:02", "12", "운송장 등록", "서울강남"),
        ("2026-11-20 21:40", "10", "집하", "서울강남"),
        ("2026-11-21 02:15", "20", "구간발송", "곤지암허브"),
        ("2026-11-21 06:30", "21", "구간도착", "부산"),
        ("2026-11-21 08:05", "40", "배달전", "부산해운대"),
    ],
)
HANJIN = _push_format(
    "512345678901",
    [
        ("2026-11-20 17:10", None, "접수", "대전"),
        ("2026-11-20 20:45", None, "집하완료", "대전"),
        ("2026-11-21 03:00", None, "이동중", "대전HUB"),
        ("2026-11-21 07:20", None, "도착", "광주"),
        ("2026-11-21 09:00", None, "배송출발", "광주북구"),
        ("2026-11-21 14:30", None, "배달완료", "광주북구"),
    ],
)
LOGEN = _push_format(
    "31234567890",
    [
        ("2026-11-20 16:00", None, "접수", "인천"),
        ("2026-11-20 19:30", None, "집하완료", "인천"),
        ("2026-11-21 01:10", None, "터미널입고", "대구터미널"),
        ("2026-11-21 08:40", None, "배송출고", "대구수성"),
        ("2026-11-21 13:10", None, "미배송", "대구수성"),
    ],
)


def _file(shared: Path, relative: str) -> Any:
    return json.loads((shared / P / relative).read_text())


CASES: list[tuple[str, str, str, str, Any]] = [
    # carrier endpoint, waybill carrier, tracking no, expected parcel status, payload (or a shared file)
    ("cj", "cj", "553825406594", "delivered", "korean_tracking/search-post_553825406594.json"),
    ("epost", "epost", "6078921007831", "delivered", "korean_tracking/search-post_6078921007831.json"),
    ("lotte", "lotte", "309912345673", "out_for_delivery", LOTTE),
    ("hanjin", "hanjin", "512345678901", "delivered", HANJIN),
    ("logen", "logen", "31234567890", "attempt_fail", LOGEN),
    (
        "aftership",
        "fedex",
        "111111111111",
        "delivered",
        "aftership/sdk_java_test_resources/GetTrackingResult.json",
    ),
    (
        "easypost",
        "FedEx",
        "1",
        "in_transit",
        "easypost/official_examples/webhook_event_body_tracker_updated.json",
    ),
]


@pytest.fixture
def web(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, TestClient, str]]:
    monkeypatch.setenv("DELIVERYHUB_AFTERSHIP_WEBHOOK_SECRET", "as-secret")
    monkeypatch.setenv("DELIVERYHUB_EASYPOST_WEBHOOK_SECRET", "ep-secret")
    for code in KOREAN_CARRIERS:
        monkeypatch.setenv(f"DELIVERYHUB_{code.upper()}_WEBHOOK_SECRET", f"{code}-shared-secret")
    hub = make_hub(tmp_path, master_key)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            yield hub, client, create_api_key(hub.db, "e2e-admin", "admin")
    finally:
        hub.close()


def _signed(carrier: str, body: bytes, hub: Any) -> dict[str, str]:
    if carrier == "aftership":
        return {
            "aftership-hmac-sha256": base64.b64encode(
                hmac.new(b"as-secret", body, hashlib.sha256).digest()
            ).decode()
        }
    if carrier == "easypost":
        return {
            "x-hmac-signature": "hmac-sha256-hex=" + hmac.new(b"ep-secret", body, hashlib.sha256).hexdigest()
        }
    return sign_push(f"{carrier}-shared-secret", body, int(hub.clock.now().timestamp()))


@pytest.mark.parametrize(
    ("carrier", "waybill_carrier", "tracking_no", "expected", "payload"), CASES, ids=[c[0] for c in CASES]
)
def test_carrier_push_ends_with_the_right_parcel_status(
    web: tuple[Any, TestClient, str],
    shared_data: Path,
    carrier: str,
    waybill_carrier: str,
    tracking_no: str,
    expected: str,
    payload: Any,
) -> None:
    hub, client, key = web
    auth = {"authorization": f"Bearer {key}"}
    order_id = f"ORD-{carrier.upper()}-1"
    seeded = client.post(
        "/v1/events",
        headers=auth,
        json={
            "events": waybill_order(
                order_id,
                waybill_carrier,
                tracking_no,
                created="2017-01-01T09:00:00+09:00",
                shipped="2017-01-01T10:00:00+09:00",
            )
        },
    )
    assert [r["status"] for r in seeded.json()["results"]] == ["accepted", "accepted"], seeded.text
    body_obj = _file(shared_data, payload) if isinstance(payload, str) else payload
    if carrier == "aftership":  # a webhook body wraps the same v4 Tracking object as GET /trackings
        body_obj = {
            "event": "tracking_update",
            "event_id": "evt-1",
            "msg": body_obj["data"]["tracking"],
            "ts": 1,
        }
    body = json.dumps(body_obj, ensure_ascii=False).encode()
    # No order id in any of these payloads: the hub finds the order by the parcel's tracking number.
    pushed = client.post(
        f"/v1/webhooks/carriers/{carrier}", content=body, headers=_signed(carrier, body, hub)
    )
    assert pushed.status_code == 200, pushed.text
    answer = pushed.json()
    assert answer["rejected"] == 0, answer
    assert answer["accepted"] >= 2
    assert not any("unknown:" in u for u in answer["unmapped"]), answer["unmapped"]
    drain(hub)
    detail = client.get(f"/v1/orders/{order_id}", headers=auth).json()
    parcels = {p["tracking_no"]: p for p in detail["parcels"]}
    assert parcels[tracking_no]["status"] == expected
    assert len(parcels[tracking_no]["tracking"]) >= 3
    # Nothing landed on a phantom "unknown:" order.
    listing = client.get("/v1/orders", headers=auth).json()
    ids = [o["order_id"] for o in listing["orders"]]
    assert ids == [order_id]
    assert not any(i.startswith("unknown:") for i in ids)
    if expected == "delivered":
        assert detail["stage"] == "delivered" and detail["delivered_at"]
    # The integration view shows the carrier source as heard from.
    sources = {s["source"] for s in client.get("/v1/integrations", headers=auth).json()["sources_seen"]}
    assert f"carrier:{carrier}" in sources


@pytest.mark.parametrize("carrier", [c[0] for c in CASES])
def test_anonymous_push_is_refused_for_every_carrier_even_with_secrets_elsewhere(
    tmp_path: Path, master_key: str, shared_data: Path, carrier: str
) -> None:
    """Default configuration (no secret, no allowlist): the push is 403 naming what to set; nothing stored."""
    hub = make_hub(tmp_path, master_key)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            payload = next(c[4] for c in CASES if c[0] == carrier)
            body_obj = _file(shared_data, payload) if isinstance(payload, str) else payload
            body = json.dumps(body_obj, ensure_ascii=False).encode()
            for query in ("", "?order_id=ORD-VICTIM"):
                refused = client.post(f"/v1/webhooks/carriers/{carrier}{query}", content=body)
                assert refused.status_code == 403, refused.text
                error = refused.json()["error"]
                assert error["code"] == "webhook_not_configured"
                assert f"DELIVERYHUB_{carrier.upper()}_WEBHOOK_SECRET" in error["message"]
                assert "설정" in error["message"].split(" / ")[0]  # Korean first, then English
            with hub.db.read() as conn:
                for table in (t.inbox, t.orders, t.quarantine):
                    assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0
    finally:
        hub.close()
