"""The connector tables, consumer upserts, polling claims and silence job on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors import inbound
from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import get_connector
from deliveryhub.adapters.connectors.webhooks import bind_orders
from dh_testkit import drain, event, free_port, make_hub


def test_connectors_on_postgres(
    tmp_path: Path, master_key: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_LOTTE_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("DELIVERYHUB_LOTTE_CONNECT_TIMEOUT_S", "0.5")
    hub = make_hub(tmp_path, master_key, db_url=pg_url)
    try:
        hub.ingest.ingest(
            [
                event(
                    "c1",
                    "order.created",
                    "PG-1",
                    "2026-11-20T10:00:00+09:00",
                    {"customer": {"phone": "010-1111-2222"}, "items": [{"sku": "A", "qty": 1}], "total": 1},
                ),
                event(
                    "w1",
                    "shipment.waybill_created",
                    "PG-1",
                    "2026-11-20T11:00:00+09:00",
                    {"carrier": "lotte", "tracking_no": "309912345673"},
                    source="tms",
                    shipment_id="309912345673",
                ),
            ]
        )
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
        status = hub.services["integration_status"]()
        assert [(u["carrier"], u["raw_code"], u["count"]) for u in status["unknown_statuses"]] == [
            ("lotte", "77", 2)
        ]
        assert {s["source"] for s in status["sources_seen"]} == {"oms", "tms", "carrier:lotte"}
        report = hub.services["connectors_poller"].run(hub.clock.now())
        assert report.errors == {"lotte": 1}
        with hub.db.read() as conn:
            state = conn.execute(sa.select(ct.connector_carrier_state)).one()
        assert state.errors == 1 and state.backoff_until is not None and "lotte" in (state.last_error or "")
        polling = hub.services["integration_status"]()["polling"]["lotte"]
        assert polling["parcels_tracked"] == 1 and polling["consecutive_failures"] == 1
        assert hub.services["connectors_silence"].run(hub.clock.now()) == []
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
    finally:
        hub.close()
