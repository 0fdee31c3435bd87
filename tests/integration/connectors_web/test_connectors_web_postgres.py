"""The connector tables, consumer upserts, polling claims and silence job on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.bench.common import answers_healthz
from deliveryhub.connectors import inbound, queries
from deliveryhub.connectors.pushes import bind_orders
from dh_testkit import drain, free_port, make_hub
from e2e.connectors_web.connectors_kit import waybill_order


def test_connectors_on_postgres(
    tmp_path: Path, master_key: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_LOTTE_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("DELIVERYHUB_LOTTE_CONNECT_TIMEOUT_S", "0.5")
    hub = make_hub(tmp_path, master_key, db_url=pg_url)
    try:
        hub.ingest.ingest(waybill_order("PG-1", "lotte", "309912345673"))
        push = {
            "tracking_no": "309912345673",
            "events": [
                {"time": "2026-11-21 10:00", "code": "10"},
                {"time": "2026-11-21 11:00", "code": "77", "status": "???"},
            ],
        }
        mapped = get_connector("lotte").map_payload({**push, "order_id": "SOMEONE-ELSE"})
        assert bind_orders(hub, "lotte", mapped) == []
        assert {e["order_id"] for e in mapped.events} == {"PG-1"}  # the body's order_id is ignored
        # The same number under another carrier is not this parcel: nothing bound, all for quarantine.
        other = get_connector("cj").map_payload(push)
        assert len(bind_orders(hub, "cj", other)) == 2 and other.events == []
        hub.ingest.ingest(mapped.events)
        drain(hub)
        hub.ingest.ingest(
            get_connector("lotte")
            .map_payload(
                {**push, "events": [{"time": "2026-11-21 12:00", "code": "77", "status": "???"}]},
                order_id="PG-1",
            )
            .events
        )
        drain(hub)
        connectors = hub.connectors
        assert connectors is not None
        status = connectors.integration_status()
        assert [(u["carrier"], u["raw_code"], u["count"]) for u in status["unknown_statuses"]] == [
            ("lotte", "77", 2)
        ]
        assert {s["source"] for s in status["sources_seen"]} == {"oms", "tms", "carrier:lotte"}
        report = connectors.poller.run(hub.clock.now())
        assert report.errors == {"lotte": 1}
        with hub.db.read() as conn:
            state = conn.execute(sa.select(ct.connector_carrier_state)).one()
        assert state.errors == 1 and state.backoff_until is not None and "lotte" in (state.last_error or "")
        polling = connectors.integration_status()["polling"]["lotte"]
        assert polling["parcels_tracked"] == 1 and polling["consecutive_failures"] == 1
        assert connectors.silence.run(hub.clock.now()) == []
        # Replay memory and pushed orders on PostgreSQL: the second receipt of one id reports the first.
        now = hub.clock.now()
        with hub.db.write() as conn:
            assert inbound.remember_delivery(conn, "cj", "", "sig-1", "cj", b"{}", now) is None
            again = inbound.remember_delivery(conn, "cj", "", "sig-1", "cj", b"{}", now)
            inbound.record_pushed_orders(conn, "webhook:cj", {"PG-1"}, now)
            inbound.record_pushed_orders(conn, "webhook:cj", {"PG-1"}, now)
        assert again is not None and again.topic == "cj"
        with hub.db.read() as conn:
            pushed = conn.execute(sa.select(ct.connector_pushed_orders)).one()
        assert (pushed.order_id, pushed.source, pushed.pushes) == ("PG-1", "webhook:cj", 2)
        with hub.db.read() as conn:
            assert queries.push_sources(conn, "PG-1") == ["webhook:cj"]
    finally:
        hub.close()


def test_concurrent_replays_on_postgres_have_one_effect_and_no_500(
    tmp_path: Path, master_key: str, pg_url: str, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight simultaneous copies of one Shopify delivery and of one signed carrier push (a retry storm or a
    replay attack): exactly one is applied, the others are acknowledged or refused, none is a 500."""
    import base64
    import hashlib
    import hmac
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import uvicorn

    from deliveryhub.adapters.persistence import tables as t
    from deliveryhub.entrypoints.api.app import create_app

    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", "cj-pg-secret")
    hub = make_hub(tmp_path, master_key, db_url=pg_url, shopify_webhook_secret="shop-pg-secret")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub, run_worker=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        assert answers_healthz(base, 30), "the in-thread server did not come up"
        hub.ingest.ingest(waybill_order("PG-2", "cj", "553825406594"))
        shop_body = (
            shared_data / "carrier_shop_api_payloads/shopify/sample_webhook_orders_create.json"
        ).read_bytes()
        shop_headers = {
            "x-shopify-topic": "orders/create",
            "x-shopify-webhook-id": "wh-storm-1",
            "x-shopify-shop-domain": "pg.myshopify.com",
            "x-shopify-hmac-sha256": base64.b64encode(
                hmac.new(b"shop-pg-secret", shop_body, hashlib.sha256).digest()
            ).decode(),
        }
        push = b'{"tracking_no": "553825406594", "events": [{"time": "2026-11-21 09:00", "code": "11"}]}'
        push_headers = sign_push("cj-pg-secret", push, int(hub.clock.now().timestamp()))

        def post(args: tuple[str, bytes, dict[str, str]]) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=60) as client:
                return client.post(args[0], content=args[1], headers=args[2])

        jobs = [("/v1/webhooks/shopify", shop_body, shop_headers)] * 8
        jobs += [("/v1/webhooks/carriers/cj", push, push_headers)] * 8
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(post, jobs))
        shop, carrier = answers[:8], answers[8:]
        assert all(r.status_code == 200 for r in shop), [r.text for r in shop]
        assert sorted(r.json()["accepted"] for r in shop) == [0] * 7 + [1]
        assert sum(1 for r in shop if r.json().get("replayed")) == 7
        assert sorted(r.status_code for r in carrier) == [200] + [409] * 7, [r.text for r in carrier]
        with hub.db.read() as conn:
            created = conn.execute(
                sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.event_id.like("shopify:%"))
            ).scalar_one()
            scans = conn.execute(
                sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.source == "carrier:cj")
            ).scalar_one()
        assert created == 1 and scans == 2  # the scan and the handed_over it implies
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        hub.close()
