"""Orchestration against real local HTTP WMS/TMS servers: retries keep one Idempotency-Key (never a
second booking), answers come back as canonical events, exhausted retries become an ops exception."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from monitors_helpers import all_exceptions, ingest_ok, monitor_hub

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, event

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)


class Fake(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, dict]] = []
    bookings: dict[str, dict] = {}
    wms_failures = 1

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers.get("Idempotency-Key", "")
        Fake.calls.append((self.path, key, body))
        if self.path == "/wms" and Fake.wms_failures > 0:
            Fake.wms_failures -= 1
            return self._send(503, {"error": "busy"})
        if self.path == "/tms":
            return self._send(500, {"error": "label printer offline"})
        Fake.bookings.setdefault(key, {"status": "reserved", "items": body["items"]})
        return self._send(200, Fake.bookings[key])

    def _send(self, code, payload):
        raw = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


def test_reserve_with_retry_books_once_and_failed_waybill_becomes_ops_exception(tmp_path, master_key):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        f"""orchestration:
  max_attempts: 2
  backoff_seconds: [60]
  shops:
    default: {{wms_url: "{base}/wms", tms_url: "{base}/tms"}}
""",
        encoding="utf-8",
    )
    clock = ManualClock(START)
    hub = monitor_hub(tmp_path, master_key, clock, config_file=cfg)
    svc = hub.monitors
    try:
        ingest_ok(
            hub,
            [
                event(
                    "O1-c",
                    "order.created",
                    "O1",
                    START.isoformat(),
                    {"items": [{"sku": "A", "qty": 2}], "channel": "web"},
                ),
                event("O1-p", "order.paid", "O1", START.isoformat(), {"amount": 1}),
            ],
        )
        drain(hub)
        assert svc.fire_due() == {"wms_reserve:retry 1": 1}  # 503: retried later, same key
        clock.advance(timedelta(seconds=61))
        assert svc.fire_due() == {"wms_reserve:done": 1}
        drain(hub)
        wms = [c for c in Fake.calls if c[0] == "/wms"]
        assert [c[1] for c in wms] == ["wms-reserve:O1", "wms-reserve:O1"] and len(Fake.bookings) == 1
        with hub.db.read() as conn:
            stage = conn.execute(
                sa.select(t.order_stages).where(
                    t.order_stages.c.order_id == "O1", t.order_stages.c.stage == "stock_confirmed"
                )
            ).one()
        assert stage.source == "wms" and stage.automatic is True
        # Packed → the TMS fails every time → after the retry policy an ops exception, not silence.
        ingest_ok(hub, [event("O1-k", "fulfillment.packed", "O1", clock.now().isoformat(), {}, source="wms")])
        drain(hub)
        svc.fire_due()
        clock.advance(timedelta(seconds=61))
        svc.fire_due()
        (exc,) = all_exceptions(hub)
        assert exc.type == "waybill_missing" and exc.status == "open"
        assert exc.evidence["ops_task"] is True and exc.evidence["attempts"] == 2
        assert "label printer offline" in exc.evidence["last_error"]
        assert len([c for c in Fake.calls if c[0] == "/tms"]) == 2
    finally:
        hub.close()
        server.shutdown()
