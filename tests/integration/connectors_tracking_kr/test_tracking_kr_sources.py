"""Korean tracking sources against local servers speaking their APIs: tracker.delivery GraphQL (auth checked
server-side, one 429 with Retry-After, the tracking webhook) and Sweet Tracker (t_key checked, recommend).

A tracking update from each source moves the order's stage (GET /v1/orders/{id}); a callback with a wrong
token is 401 and stores nothing. No timed assertions: the poller's wall clock is a test clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deliveryhub.adapters.connectors.base import UpstreamError
from deliveryhub.adapters.connectors.sweettracker import SweetTrackerSettings
from deliveryhub.adapters.connectors.sweettracker.client import SweetTrackerClient
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors import trackerdelivery_webhook as webhook
from deliveryhub.connectors.polling import Poller
from deliveryhub.connectors.tracking_sources import tracking_sources
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, make_hub, serving, waybill

CLIENT_ID, CLIENT_SECRET, TOKEN, T_KEY = "cid-1", "csecret-1", "cb-token-1", "tkey-1"


def _node(time: str, code: str, name: str, text: str = "") -> dict[str, Any]:
    return {
        "time": time,
        "status": {"code": code, "name": name},
        "description": text,
        "location": {"name": "용산"},
    }


@dataclass
class FakeTracker:
    """tracker.delivery: POST /graphql; tracks by (carrierId, number); the first track call is a 429."""

    tracks: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    registered: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    unauthorized: int = 0
    throttle_once: bool = True

    async def graphql(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"TRACKQL-API-KEY {CLIENT_ID}:{CLIENT_SECRET}":
            self.unauthorized += 1
            return JSONResponse({"errors": [{"message": "unauthorized"}]}, status_code=401)
        body = await request.json()
        variables = body.get("variables") or {}
        if "carrier(id:" in body.get("query", ""):
            return JSONResponse({"data": {"carrier": {"id": "kr.cjlogistics"}}})
        if "registerTrackWebhook" in body.get("query", ""):
            self.registered.append(variables["input"])
            return JSONResponse({"data": {"registerTrackWebhook": True}})
        self.calls += 1
        if self.throttle_once:
            self.throttle_once = False
            return JSONResponse(
                {"errors": [{"message": "slow down"}]}, status_code=429, headers={"Retry-After": "30"}
            )
        nodes = self.tracks.get((str(variables.get("carrierId")), str(variables.get("trackingNumber"))))
        if nodes is None:
            return JSONResponse(
                {"data": {"track": None}, "errors": [{"message": "no", "extensions": {"code": "NOT_FOUND"}}]}
            )
        track = {
            "trackingNumber": variables["trackingNumber"],
            "lastEvent": nodes[-1],
            "events": {"edges": [{"node": n, "cursor": str(i)} for i, n in enumerate(nodes)]},
        }
        return JSONResponse({"data": {"track": track}})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self.graphql, methods=["POST"])])


@dataclass
class FakeSweet:
    """Sweet Tracker: trackingInfo / recommend with t_key checked."""

    details: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    recommended: dict[str, list[str]] = field(default_factory=dict)

    def _key_ok(self, request: Request) -> bool:
        return request.query_params.get("t_key") == T_KEY

    async def tracking_info(self, request: Request) -> JSONResponse:
        if not self._key_ok(request):
            return JSONResponse({"status": False, "code": "101", "msg": "유효하지 않은 키값 입니다."})
        key = (request.query_params.get("t_code", ""), request.query_params.get("t_invoice", ""))
        if key not in self.details:
            return JSONResponse({"status": False, "code": "104", "msg": "운송장 이력이 없습니다."})
        details = self.details[key]
        return JSONResponse(
            {
                "invoiceNo": key[1],
                "level": details[-1]["level"],
                "complete": False,
                "trackingDetails": details,
            }
        )

    async def companies(self, request: Request) -> JSONResponse:
        if not self._key_ok(request):
            return JSONResponse({"status": False, "code": "101", "msg": "유효하지 않은 키값 입니다."})
        return JSONResponse({"Company": [{"Code": "04", "Name": "CJ대한통운", "International": "false"}]})

    async def recommend(self, request: Request) -> JSONResponse:
        if not self._key_ok(request):
            return JSONResponse({"status": False, "code": "101", "msg": "유효하지 않은 키값 입니다."})
        codes = self.recommended.get(request.query_params.get("t_invoice", ""), [])
        return JSONResponse({"Recommend": [{"Code": c, "Name": f"택배{c}"} for c in codes]})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/trackingInfo", self.tracking_info),
                Route("/api/v1/recommend", self.recommend),
                Route("/api/v1/companylist", self.companies),
            ]
        )


class Clock:
    """The poller's wall clock (the vendors' time), moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def servers() -> Iterator[tuple[FakeTracker, str, FakeSweet, str]]:
    tracker, sweet = FakeTracker(), FakeSweet()
    with serving(tracker.app()) as tracker_url, serving(sweet.app()) as sweet_url:
        yield tracker, tracker_url, sweet, sweet_url


@pytest.fixture
def hub(
    tmp_path: Path,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
    servers: tuple[FakeTracker, str, FakeSweet, str],
) -> Iterator[Any]:
    _, tracker_url, _, sweet_url = servers
    for name, value in {
        "DELIVERYHUB_TRACKERDELIVERY_BASE_URL": f"{tracker_url}/graphql",
        "DELIVERYHUB_TRACKERDELIVERY_CLIENT_ID": CLIENT_ID,
        "DELIVERYHUB_TRACKERDELIVERY_CLIENT_SECRET": CLIENT_SECRET,
        "DELIVERYHUB_TRACKERDELIVERY_CARRIERS": "cj,lotte",
        "DELIVERYHUB_TRACKERDELIVERY_CALLBACK_URL": "https://hub.example.com/v1/webhooks/trackerdelivery",
        "DELIVERYHUB_TRACKERDELIVERY_CALLBACK_TOKEN": TOKEN,
        "DELIVERYHUB_SWEETTRACKER_BASE_URL": sweet_url,
        "DELIVERYHUB_SWEETTRACKER_API_KEY": T_KEY,
        "DELIVERYHUB_SWEETTRACKER_CARRIERS": "hanjin,unknown",
    }.items():
        monkeypatch.setenv(name, value)
    built = make_hub(tmp_path, master_key)
    try:
        yield built
    finally:
        built.close()


def _order(hub: Any, order_id: str, carrier: str, number: str) -> None:
    at = "2030-01-01T09:00:00+09:00"
    customer = {"name": "김고객", "phone": "010-2222-3333"}
    created = event(
        f"{order_id}-c", "order.created", order_id, at, {"customer": customer, "items": [], "total": 0}
    )
    results = hub.ingest.ingest([created, waybill(f"{order_id}-w", order_id, at, carrier, number)])
    assert [r.status for r in results] == ["accepted", "accepted"], [r.as_dict() for r in results]
    drain(hub)


def _stage(client: TestClient, key: str, order_id: str) -> str:
    response = client.get(f"/v1/orders/{order_id}", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return str(response.json()["stage"])


def _inbox(hub: Any) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.inbox)).scalar_one())


def test_routing_picks_the_configured_source_per_carrier(hub: Any) -> None:
    routed = tracking_sources(hub)
    assert sorted(routed) == ["cj", "hanjin", "lotte", "unknown"]
    assert type(routed["cj"].proxy).__name__ == "TrackerDeliveryProxy"
    assert type(routed["hanjin"].proxy).__name__ == "SweetTrackerProxy"


def test_trackerdelivery_poll_moves_the_stage_after_a_429(
    hub: Any, servers: tuple[FakeTracker, str, FakeSweet, str]
) -> None:
    tracker = servers[0]
    _order(hub, "T-100", "cj", "553825406594")
    tracker.tracks[("kr.cjlogistics", "553825406594")] = [
        _node("2030-01-01T15:00:00+09:00", "AT_PICKUP", "집화처리"),
        _node(
            "2030-01-02T09:00:00+09:00",
            "OUT_FOR_DELIVERY",
            "배송출발",
            "배송기사 김민수 010-1234-5678 (14~16시)",
        ),
    ]
    clock = Clock()
    poller = Poller(hub, carriers=tracking_sources(hub), wall=clock, sleep=lambda _s: None, budget_s=60.0)
    with TestClient(create_app(hub, run_worker=False)) as client:
        key = create_api_key(hub.db, "t-admin", "admin")
        before = _stage(client, key, "T-100")
        first = poller.run()
        assert first.errors == {"cj": 1} and tracker.calls == 1  # the 429
        assert poller.run().polled == {}  # backing off: Retry-After 30 s on the vendor's clock
        clock.now += timedelta(minutes=20)
        second = poller.run()
        assert second.polled == {"cj": 1} and second.accepted_events > 0
        drain(hub)
        after = _stage(client, key, "T-100")
        assert after != before and after == "out_for_delivery", (before, after)
        order = client.get("/v1/orders/T-100", headers={"authorization": f"Bearer {key}"}).json()
        assert "김민수" not in str(order) and "1234-5678" not in str(order)
    assert tracker.unauthorized == 0


def test_trackerdelivery_webhook_registration_and_callback(
    hub: Any, servers: tuple[FakeTracker, str, FakeSweet, str]
) -> None:
    tracker = servers[0]
    tracker.throttle_once = False
    _order(hub, "T-200", "lotte", "309912345678")
    renewer = webhook.WebhookRenewer(hub)
    assert renewer.run() == 1
    registered = tracker.registered[-1]
    assert registered["carrierId"] == "kr.lotte" and registered["trackingNumber"] == "309912345678"
    assert registered["callbackUrl"] == f"https://hub.example.com/v1/webhooks/trackerdelivery?token={TOKEN}"
    expires = datetime.fromisoformat(registered["expirationTime"])
    assert timedelta(hours=47) < expires - datetime.now(UTC) <= timedelta(hours=48)
    assert renewer.run() == 0  # far from expiry: nothing to renew
    renewer.expires[("lotte", "309912345678")] = datetime.now(UTC) + timedelta(hours=1)
    assert renewer.run() == 1 and len(tracker.registered) == 2  # renewed before it expires

    tracker.tracks[("kr.lotte", "309912345678")] = [
        _node("2030-01-01T15:00:00+09:00", "IN_TRANSIT", "구간발송"),
        _node("2030-01-02T11:00:00+09:00", "DELIVERED", "배달완료"),
    ]
    app = create_app(hub, run_worker=False)  # the callback route is one of the app's own
    callback = {"carrierId": "kr.lotte", "trackingNumber": "309912345678"}
    with TestClient(app) as client:
        key = create_api_key(hub.db, "t-admin", "admin")
        stored = _inbox(hub)
        for bad in ("/v1/webhooks/trackerdelivery", "/v1/webhooks/trackerdelivery?token=wrong"):
            refused = client.post(bad, json=callback)
            assert refused.status_code == 401, refused.text
        header_wrong = client.post(
            "/v1/webhooks/trackerdelivery", json=callback, headers={"x-deliveryhub-token": "nope"}
        )
        assert header_wrong.status_code == 401
        assert _inbox(hub) == stored and tracker.calls == 0  # nothing stored, nothing asked
        ok = client.post(f"/v1/webhooks/trackerdelivery?token={TOKEN}", json=callback)
        assert ok.status_code == 200, ok.text
        assert ok.json()["accepted"] > 0
        again = client.post(
            "/v1/webhooks/trackerdelivery", json=callback, headers={"x-deliveryhub-token": TOKEN}
        )
        assert again.status_code == 200 and again.json()["accepted"] == 0  # a replay has one effect
        drain(hub)
        assert _stage(client, key, "T-200") == "delivered"


def test_sweettracker_recommends_the_carrier_and_moves_the_stage(
    hub: Any, servers: tuple[FakeTracker, str, FakeSweet, str]
) -> None:
    sweet = servers[2]
    _order(hub, "S-300", "unknown", "512345678901")
    sweet.recommended["512345678901"] = ["04", "05"]
    sweet.details[("05", "512345678901")] = [
        {"timeString": "2030-01-01 15:00:00", "level": 2, "kind": "집하완료", "where": "대전HUB"},
        {
            "timeString": "2030-01-02 18:00:00",
            "level": 6,
            "kind": "배송완료",
            "where": "서울강남",
            "manName": "이기사",
        },
    ]
    poller = Poller(hub, carriers=tracking_sources(hub), wall=Clock(), sleep=lambda _s: None, budget_s=60.0)
    with TestClient(create_app(hub, run_worker=False)) as client:
        key = create_api_key(hub.db, "t-admin", "admin")
        report = poller.run()
        assert report.polled == {"unknown": 1} and report.errors == {}
        drain(hub)
        assert _stage(client, key, "S-300") == "delivered"
        parcels = client.get("/v1/orders/S-300", headers={"authorization": f"Bearer {key}"}).json()
        assert "이기사" not in str(parcels)


def test_sweettracker_refuses_a_wrong_key(servers: tuple[FakeTracker, str, FakeSweet, str]) -> None:
    settings = SweetTrackerSettings(base_url=servers[3], api_key="wrong")  # type: ignore[arg-type]
    with pytest.raises(UpstreamError) as caught:
        SweetTrackerClient(settings).tracking_info("04", "1")
    assert caught.value.status == 401 and "wrong" not in str(caught.value)


def test_doctor_checks_each_source_end_to_end(hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from deliveryhub.adapters.connectors.doctor import ConnectionProblem
    from deliveryhub.adapters.connectors.trackerdelivery import doctor
    from deliveryhub.connectors.writeback import connector_settings

    found = doctor.checks(lambda code: connector_settings(hub, code))
    assert [name for name, _ in found] == ["connector trackerdelivery", "connector sweettracker"]
    lines = [run() for _, run in found]
    assert "tracks cj, lotte" in lines[0] and "1 carriers listed" in lines[1]
    monkeypatch.setenv("DELIVERYHUB_TRACKERDELIVERY_CLIENT_SECRET", "wrong")
    monkeypatch.setenv("DELIVERYHUB_SWEETTRACKER_API_KEY", "wrong")
    for _, run in doctor.checks(lambda code: connector_settings(hub, code)):
        with pytest.raises(ConnectionProblem) as caught:
            run()
        assert "refused our credentials" in str(caught.value) and "wrong" not in str(caught.value)
