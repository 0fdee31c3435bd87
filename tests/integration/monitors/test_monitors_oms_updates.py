"""OMS "update order" against a real local HTTP server that fails once (503) then answers 200: every stage
change of a shop with an `oms_url` is pushed exactly once, with the shop's field names and auth header;
the retry reuses its Idempotency-Key; a replayed stage change pushes nothing new; other shops get nothing."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from monitors_helpers import ingest_ok, monitor_hub

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors.tables import oms_updates
from deliveryhub.service_layer.messaging import Message
from dh_testkit import drain, event, handed_over, waybill

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)


class FlakyOms(BaseHTTPRequestHandler):
    """Records every request; the very first one gets 503, every later one 200."""

    requests: list[dict[str, Any]] = []
    lock = threading.Lock()

    def _handle(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with FlakyOms.lock:
            first = not FlakyOms.requests
            FlakyOms.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "key": self.headers.get("Idempotency-Key"),
                    "auth": self.headers.get("Authorization"),
                    "body": body,
                    "answer": 503 if first else 200,
                }
            )
        code = 503 if first else 200
        raw = json.dumps({"error": "maintenance"} if first else {"ok": True}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_POST = _handle  # noqa: N815
    do_PUT = _handle  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


def _order(oid: str, channel: str, at: datetime) -> list[dict[str, Any]]:
    return [
        event(
            f"{oid}-c",
            "order.created",
            oid,
            at.isoformat(),
            {"items": [{"sku": "A", "qty": 1}], "channel": channel, "customer": {"external_id": oid}},
        ),
        event(f"{oid}-p", "order.paid", oid, at.isoformat(), {"amount": 1}),
    ]


def _ship(oid: str, at: datetime) -> list[dict[str, Any]]:
    tn = f"6{abs(hash(oid)) % 10**11:011d}"
    iso = at.isoformat()
    return [
        event(f"{oid}-r", "inventory.reserved", oid, iso, {"items": [{"sku": "A", "qty": 1}]}, source="wms"),
        event(f"{oid}-k", "fulfillment.packed", oid, iso, {}, source="wms"),
        waybill(f"{oid}-w", oid, iso, "cj", tn, shipment_id=tn),
        handed_over(f"{oid}-h", oid, iso, "cj", shipment_id=tn),
    ]


def _stage_changes(hub: Any, oid: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.outbox.c.payload)
            .where(t.outbox.c.topic == "order.stage_changed", t.outbox.c.order_id == oid)
            .order_by(t.outbox.c.id)
        ).scalars()
        return [p for p in rows if p.get("current")]


def test_each_stage_change_is_pushed_once_with_the_same_key_on_retry(tmp_path, master_key, monkeypatch):
    FlakyOms.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyOms)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("DH_TEST_OMS_TOKEN", "s3cret")
    cfg = tmp_path / "deliveryhub.yaml"
    cfg.write_text(
        f"""orchestration:
  max_attempts: 3
  backoff_seconds: [60]
  shops:
    smartstore:
      oms_url: "{base}/orders/{{order_id}}/status"
      oms_method: PUT
      auth_header: "Authorization: Bearer ${{DH_TEST_OMS_TOKEN}}"
      field_map: {{order_id: orderNo, status: orderStatus, tracking_no: invoiceNo, carrier: deliveryCompany}}
      stage_values: {{handed_over: DELIVERING, cancelled: CANCELED}}
connectors:
  shopify: {{shops: {{}}}}
""",
        encoding="utf-8",
    )
    clock = ManualClock(START)
    hub = monitor_hub(tmp_path, master_key, clock, config_file=cfg)
    svc = hub.monitors
    try:
        later = START + timedelta(minutes=10)
        ingest_ok(hub, _order("A1", "smartstore", START) + _order("B1", "coupang", START))
        ingest_ok(hub, _order("C1", "smartstore", START) + _ship("A1", later) + _ship("B1", later))
        ingest_ok(hub, [event("C1-x", "order.cancelled", "C1", later.isoformat(), {"reason": "고객 요청"})])
        clock.set(later)
        drain(hub)
        first = svc.fire_due()
        assert first.get("oms_update:retry 1") == 1, first  # the very first request got the 503
        assert first.get("oms_update:waiting for an earlier update"), first  # its order's later changes wait
        clock.advance(timedelta(seconds=61))
        second = svc.fire_due()
        assert not [k for k in second if "retry" in k or "failed" in k], second

        # Replaying a stage change (a redelivered message) pushes nothing new.
        change = _stage_changes(hub, "A1")[-1]
        with hub.db.write() as conn:
            svc.handle(
                conn,
                [
                    Message(
                        id=999_999, topic="order.stage_changed", order_id="A1", partition=0, payload=change
                    )
                ],
            )
        drain(hub)
        clock.advance(timedelta(minutes=5))
        assert not svc.fire_due().get("oms_update:done")
        with hub.db.read() as conn:
            pushes = conn.execute(sa.select(oms_updates).order_by(oms_updates.c.id)).all()
        a1_changes, c1_changes = _stage_changes(hub, "A1"), _stage_changes(hub, "C1")
    finally:
        hub.close()
        server.shutdown()

    reqs = FlakyOms.requests
    assert all(r["path"].startswith("/orders/") for r in reqs)
    assert not [r for r in reqs if r["path"].startswith("/orders/B1")]  # coupang has no OMS configured
    # Exactly one accepted push per stage change, in the order they happened, in the shop's vocabulary.
    a1_ok = [r for r in reqs if r["path"] == "/orders/A1/status" and r["answer"] == 200]
    assert [r["body"]["stage"] for r in a1_ok] == [c["stage"] for c in a1_changes]
    assert {c["stage"] for c in a1_changes} >= {"received", "stock_confirmed", "picked_packed", "handed_over"}
    c1_ok = [r for r in reqs if r["path"] == "/orders/C1/status" and r["answer"] == 200]
    assert (
        [r["body"]["stage"] for r in c1_ok] == [c["stage"] for c in c1_changes] == ["received", "cancelled"]
    )
    cancel = next(r for r in c1_ok if r["body"]["stage"] == "cancelled")
    assert cancel["body"]["orderStatus"] == "CANCELED" and cancel["body"]["cancelled"] is True
    handed = next(r for r in a1_ok if r["body"]["stage"] == "handed_over")
    assert handed["body"]["orderStatus"] == "DELIVERING"
    assert handed["body"]["invoiceNo"].startswith("6") and handed["body"]["deliveryCompany"] == "cj"
    assert handed["body"]["orderNo"] == "A1" and "tracking_no" not in handed["body"]
    assert all(r["method"] == "PUT" and r["auth"] == "Bearer s3cret" for r in reqs)
    # Keys: one per stage change; the 503'd one was retried under the same key, and only once.
    ok_keys = [r["key"] for r in reqs if r["answer"] == 200]
    assert len(ok_keys) == len(set(ok_keys)) == len(a1_changes) + len(c1_changes)
    failed = [r for r in reqs if r["answer"] == 503]
    assert len(failed) == 1 and failed[0]["key"] in ok_keys
    assert (
        next(r for r in reqs if r["answer"] == 200 and r["key"] == failed[0]["key"])["body"]
        == failed[0]["body"]
    )
    assert len(reqs) == len(ok_keys) + 1
    assert [p.status for p in pushes] == ["sent"] * len(ok_keys)
    retried = next(p for p in pushes if p.idempotency_key == failed[0]["key"])
    assert retried.attempts == 2 and retried.http_status == 200
