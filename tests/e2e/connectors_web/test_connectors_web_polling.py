"""Polling against a real, flaky local carrier server: no status change lost, never faster than the limit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.polling import Poller
from dh_testkit import drain, event, make_hub
from e2e.connectors_web.connectors_kit import waybill_order

# CJ scans the parcel goes through; each good answer reveals ONLY the next one (the current status),
# so a poll that is lost or not ingested would lose a status change for good.
SCANS = [
    ("11", "집화처리"),
    ("41", "간선상차"),
    ("42", "간선하차"),
    ("82", "배송출발(14~16시)"),
    ("91", "배송완료"),
]
# What the server does on each request, in order; after the script runs out it answers well.
SCRIPT = ["timeout", "429", "500", "ok", "500", "ok", "429", "ok", "timeout", "ok"]
RETRY_AFTER_S = 3
RATE_PER_MINUTE = 120  # one request every 0.5 s at most
TRACKING_NO = "553825406594"


class FlakyCarrier:
    """A CJ-like tracking API on a free local port that records every request's arrival time."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str]] = []  # (monotonic time, path, what it answered)
        self.served = 0
        self.lock = threading.Lock()
        carrier = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                arrived = time.monotonic()
                with carrier.lock:
                    index = len(carrier.requests)
                    if not self.path.endswith(TRACKING_NO):
                        action = "404"
                    else:
                        action = SCRIPT[index] if index < len(SCRIPT) else "ok"
                    carrier.requests.append((arrived, self.path, action))
                    if action == "ok":
                        step = min(carrier.served, len(SCANS) - 1)
                        carrier.served += 1
                if action == "timeout":
                    time.sleep(1.5)  # longer than the client's 0.5 s read timeout
                    self._send(504, {"error": "late"})
                elif action == "429":
                    self._send(429, {"error": "slow down"}, {"Retry-After": str(RETRY_AFTER_S)})
                elif action == "500":
                    self._send(500, {"error": "internal"})
                elif action == "404":
                    self._send(404, {"error": "not found"})
                else:
                    code, text = SCANS[step]
                    body = {
                        "tracking_no": TRACKING_NO,
                        "events": [
                            {
                                "time": f"2026-11-21 {9 + step:02d}:00",
                                "code": code,
                                "status": text,
                                "location": "곤지암",
                            }
                        ],
                    }
                    self._send(200, body)

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout case)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyCarrier:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def carrier() -> Iterator[FlakyCarrier]:
    with FlakyCarrier() as server:
        yield server


def _seed(hub: Any) -> None:
    items = []
    for oid, carrier_code, number in (
        ("ORD-P1", "cj", TRACKING_NO),
        ("ORD-P2", "cj", "553825406605"),
        ("ORD-P3", "hanjin", "512345678901"),
    ):
        items += waybill_order(oid, carrier_code, number)
    # ORD-P2 is already delivered: it must never be polled.
    items.append(
        event(
            "p2-done",
            "shipment.delivered",
            "ORD-P2",
            "2026-11-21T08:00:00+09:00",
            {"carrier": "cj"},
            source="carrier:cj",
            shipment_id="553825406605",
        )
    )
    results = hub.ingest.ingest(items)
    assert all(r.status == "accepted" for r in results), results


@pytest.mark.slow
def test_flaky_carrier_never_loses_a_status_and_respects_the_rate_limit(
    tmp_path: Path, master_key: str, carrier: FlakyCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_BASE_URL", carrier.url)
    monkeypatch.setenv("DELIVERYHUB_CJ_TIMEOUT_S", "0.5")
    monkeypatch.setenv("DELIVERYHUB_CJ_RATE_LIMIT_PER_MINUTE", str(RATE_PER_MINUTE))
    monkeypatch.setenv("DELIVERYHUB_CJ_POLL_INTERVAL_S", "0")  # re-poll as soon as the rate limit allows
    hub = make_hub(tmp_path, master_key)
    try:
        _seed(hub)
        job = next(j for j in hub.jobs if j.name == "connectors.poll")
        # A second worker on the same database competes for the same parcels and the same rate slots.
        assert hub.connectors is not None
        rival = Poller(hub, on_poll=hub.connectors.poller.on_poll)  # same metrics
        stop = threading.Event()

        def rival_loop() -> None:
            while not stop.is_set():
                rival.run(hub.clock.now())
                time.sleep(0.03)

        other = threading.Thread(target=rival_loop, daemon=True)
        other.start()
        deadline = time.monotonic() + 45
        status = None
        while time.monotonic() < deadline:
            job.run(hub.clock.now())
            with hub.db.read() as conn:
                status = conn.execute(
                    sa.select(t.parcels.c.status).where(t.parcels.c.order_id == "ORD-P1")
                ).scalar()
            if status == "delivered":
                break
            time.sleep(0.03)
        # Keep both workers running a little longer: a delivered parcel must not be polled again.
        after_delivery = len(carrier.requests)
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            job.run(hub.clock.now())
            time.sleep(0.05)
        stop.set()
        other.join(timeout=10)
        assert status == "delivered", carrier.requests
        assert len(carrier.requests) == after_delivery

        # Never lost a status change: every scan the server revealed is in the inbox, in order.
        with hub.db.read() as conn:
            scans = conn.execute(
                sa.select(t.inbox.c.data)
                .where(
                    t.inbox.c.order_id == "ORD-P1",
                    t.inbox.c.type == "shipment.tracking",
                    t.inbox.c.source == "carrier:cj",
                )
                .order_by(t.inbox.c.occurred_at)
            ).all()
        assert [s.data["raw_code"] for s in scans] == [code for code, _ in SCANS]
        assert [s.data["status"] for s in scans] == [
            "in_transit",
            "in_transit",
            "in_transit",
            "out_for_delivery",
            "delivered",
        ]
        assert carrier.served == len(SCANS)

        # Never faster than the limit, even with two workers: every gap >= 60 / limit seconds.
        times = [r[0] for r in carrier.requests]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 60 / RATE_PER_MINUTE - 0.03, gaps
        # Retry-After honoured: the request after each 429 came at least that much later.
        for i, (_, _, action) in enumerate(carrier.requests[:-1]):
            if action == "429":
                assert times[i + 1] - times[i] >= RETRY_AFTER_S - 0.03
        # Backoff after the failures in a row at the start (timeout, 429, 500) grows.
        assert times[3] - times[2] >= 1.0  # third consecutive failure: at least base * 2**2 / 2 seconds
        # Only the in-flight parcel of the configured carrier was polled (not the delivered one, not hanjin).
        assert {r[1] for r in carrier.requests} == {f"/tracking/{TRACKING_NO}"}
        assert [r[2] for r in carrier.requests[: len(SCRIPT)]] == SCRIPT

        with hub.db.read() as conn:
            state = conn.execute(sa.select(ct.connector_carrier_state)).one()
            left = conn.execute(sa.select(sa.func.count()).select_from(ct.connector_poll_state)).scalar_one()
        assert state.requests >= len(carrier.requests)  # slots claimed (a claimed slot may go unused)
        assert state.errors == SCRIPT.count("timeout") + SCRIPT.count("429") + SCRIPT.count("500")
        assert left == 0  # nothing left to poll
        drain(hub)
        polling = hub.connectors.integration_status()["polling"]["cj"]
        assert polling["configured"] and polling["errors"] == state.errors and polling["parcels_tracked"] == 0
        assert "hanjin" not in hub.connectors.integration_status()["polling"]
        metrics = hub.metrics.registry.get_sample_value
        assert metrics("deliveryhub_connector_polls_total", {"carrier": "cj", "result": "rate_limited"}) == 2
        assert metrics("deliveryhub_connector_polls_total", {"carrier": "cj", "result": "http_500"}) == 2
        assert metrics("deliveryhub_connector_polls_total", {"carrier": "cj", "result": "ok"}) == len(SCANS)
    finally:
        hub.close()
