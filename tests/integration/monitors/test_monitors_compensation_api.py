"""Compensation never pays twice (replayed triggers, full consumer replay); approval above the threshold
through the API; the exceptions API (filters, counts, actions, permissions); invalid config refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from monitors_helpers import all_exceptions, ingest_ok, monitor_hub

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors.config import ConfigError
from deliveryhub.monitors.service import run_all_monitors
from deliveryhub.monitors.tables import compensations
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, waybill

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)


def _issued(hub) -> list:
    with hub.db.read() as conn:
        return list(
            conn.execute(
                sa.select(t.inbox.c.event_id, t.inbox.c.data).where(t.inbox.c.type == "compensation.issued")
            )
        )


def test_delay_compensation_is_paid_once_even_when_everything_is_replayed(new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock)
    ingest_ok(
        hub,
        [
            event(
                "L1-c",
                "order.created",
                "L1",
                START.isoformat(),
                {"items": [{"sku": "A"}], "promised_delivery_date": "2026-11-25"},
            ),
            waybill("L1-w", "L1", START.isoformat(), "cj", "111122223333", shipment_id="111122223333"),
        ],
    )
    drain(hub)
    clock.set(datetime(2026, 11, 28, 15, 0, tzinfo=KST))
    delivered = event(
        "L1-d",
        "shipment.delivered",
        "L1",
        clock.now().isoformat(),
        {},
        source="carrier:cj",
        shipment_id="111122223333",
    )
    ingest_ok(hub, [delivered])
    drain(hub)
    run_all_monitors(hub.monitors)
    assert [(e.event_id, e.data["amount"], e.data["kind"]) for e in _issued(hub)] == [
        ("comp:L1:delay_2d_coupon", 3000.0, "coupon")
    ]
    # Replays: the same event again, the carrier re-sending it under a new id, and a full consumer replay.
    hub.ingest.ingest([delivered])
    ingest_ok(hub, [{**delivered, "event_id": "L1-d-resent"}])
    with hub.db.write() as conn:
        conn.execute(t.processed_messages.delete().where(t.processed_messages.c.consumer == "monitors"))
        conn.execute(
            t.consumer_positions.update()
            .where(t.consumer_positions.c.consumer == "monitors")
            .values(position=0)
        )
    drain(hub)
    run_all_monitors(hub.monitors)
    clock.advance(timedelta(days=1))
    run_all_monitors(hub.monitors)
    assert len(_issued(hub)) == 1
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(compensations)).all()
    assert [(r.rule, r.status, r.amount) for r in rows] == [("delay_2d_coupon", "issued", 3000.0)]


def test_claims_auto_refund_under_threshold_and_need_approval_above(tmp_path, new_hub):
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        """compensation:
  approval_threshold: 30000
  rules:
    - {name: damage_small, trigger: claim, claim_kind: damage, max_claim_amount: 29999, kind: refund,
       amount: claim, auto_approve: true}
    - {name: damage_large, trigger: claim, claim_kind: damage, min_claim_amount: 30000, kind: refund,
       amount: claim}
""",
        encoding="utf-8",
    )
    clock = ManualClock(START)
    hub = new_hub(clock, config_file=cfg)
    ops = create_api_key(hub.db, "ops", "ops")
    agent = create_api_key(hub.db, "agent", "cs_agent")
    for oid, amount in (("D1", 20000), ("D2", 45000)):
        created = event(f"{oid}-c", "order.created", oid, START.isoformat(), {"items": [{"sku": "A"}]})
        damage = {"kind": "damage", "amount": amount}
        claim = event(f"{oid}-cl", "claim.opened", oid, START.isoformat(), damage, source="cs")
        ingest_ok(hub, [created, claim])
    drain(hub)
    hub.monitors.fire_due()
    assert [e.event_id for e in _issued(hub)] == ["comp:D1:damage_small"]
    with TestClient(create_app(hub, run_worker=False)) as client:
        pending = client.get(
            "/v1/compensations?status=pending_approval", headers={"Authorization": f"Bearer {ops}"}
        ).json()["items"]
        assert [(p["order_id"], p["amount"]) for p in pending] == [("D2", 45000.0)]
        cid = pending[0]["id"]
        denied = client.post(f"/v1/compensations/{cid}/approve", headers={"Authorization": f"Bearer {agent}"})
        assert denied.status_code == 403
        ok = client.post(f"/v1/compensations/{cid}/approve", headers={"Authorization": f"Bearer {ops}"})
        assert ok.status_code == 200 and ok.json()["status"] == "issued"
        again = client.post(f"/v1/compensations/{cid}/approve", headers={"Authorization": f"Bearer {ops}"})
        assert again.status_code == 409
    hub.monitors.fire_due()
    assert sorted(e.event_id for e in _issued(hub)) == ["comp:D1:damage_small", "comp:D2:damage_large"]


def test_exceptions_api_filters_counts_actions_and_permissions(new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock)
    admin = create_api_key(hub.db, "admin", "admin")
    agent = create_api_key(hub.db, "agent", "cs_agent")
    integ = create_api_key(hub.db, "integ", "integration")
    ingest_ok(
        hub,
        [
            event("A1-c", "order.created", "A1", START.isoformat(), {"items": [{"sku": "A"}]}),
            event(
                "A1-pe",
                "fulfillment.pick_error",
                "A1",
                START.isoformat(),
                {"expected_sku": "A", "scanned_sku": "B"},
                source="wms",
            ),
            event("A2-c", "order.created", "A2", START.isoformat(), {"items": [{"sku": "A"}]}),
            event(
                "A2-s",
                "inventory.shortage",
                "A2",
                START.isoformat(),
                {"sku": "A", "requested": 2, "available": 0},
                source="wms",
            ),
        ],
    )
    drain(hub)
    with TestClient(create_app(hub, run_worker=False)) as client:

        def h(key):
            return {"Authorization": f"Bearer {key}"}

        body = client.get("/v1/exceptions", headers=h(agent)).json()
        assert body["counts"]["pick_error"] == 1 and body["counts"]["stock_shortage"] == 1
        assert body["total"] == 2 and {i["label"] for i in body["items"]} == {"피킹 오류", "재고 부족"}
        en = client.get("/v1/exceptions?type=pick_error&lang=en", headers=h(agent)).json()
        assert [(i["order_id"], i["label"]) for i in en["items"]] == [("A1", "Pick error")]
        assert (
            client.get("/v1/exceptions?order_id=A2", headers=h(agent)).json()["items"][0]["type"]
            == "stock_shortage"
        )
        bad = client.get("/v1/exceptions?type=late", headers=h(agent))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "type"
        assert client.get("/v1/exceptions", headers=h(integ)).status_code == 403
        assert client.get("/v1/exceptions").status_code == 401
        eid = en["items"][0]["id"]
        assert client.post(f"/v1/exceptions/{eid}/acknowledge", headers=h(agent)).status_code == 403
        ack = client.post(f"/v1/exceptions/{eid}/acknowledge", headers=h(admin), json={"note": "보는 중"})
        assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
        re = client.post(f"/v1/exceptions/{eid}/assign", headers=h(admin), json={"assignee": "kim"})
        assert re.json()["assignee"] == "kim"
        missing = client.post(f"/v1/exceptions/{eid}/assign", headers=h(admin), json={})
        assert missing.status_code == 422 and missing.json()["error"]["field"] == "assignee"
        done = client.post(f"/v1/exceptions/{eid}/resolve", headers=h(admin))
        assert done.json()["status"] == "resolved" and done.json()["resolution"] == "manual"
        assert client.post(f"/v1/exceptions/{eid}/resolve", headers=h(admin)).status_code == 409
        assert client.post("/v1/exceptions/999999/resolve", headers=h(admin)).status_code == 404
        resolved = client.get("/v1/exceptions?status=resolved", headers=h(agent)).json()
        assert [i["id"] for i in resolved["items"]] == [eid]
    # The awaited event resolves stock_shortage by itself; the order view and the order filter see it.
    with hub.db.read() as conn:
        assert hub.exceptions.orders_with_exception(conn, "stock_shortage") == ["A2"]
        section = hub.order_sections["exceptions"](conn, "A2", None)
    assert [s["type"] for s in section] == ["stock_shortage"]
    ingest_ok(
        hub, [event("A2-r", "inventory.reserved", "A2", START.isoformat(), {"items": []}, source="wms")]
    )
    drain(hub)
    assert {(r.type, r.status) for r in all_exceptions(hub)} == {
        ("pick_error", "resolved"),
        ("stock_shortage", "resolved"),
    }


def test_invalid_config_file_is_refused_at_start_naming_the_line(tmp_path, master_key):
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        "monitors:\n  waybill_missing:\n    minutes: 60\n  handover_missing:\n    hours: -3\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"rules.yaml:5 \(line 5\).*hours"):
        monitor_hub(tmp_path, master_key, ManualClock(START), config_file=cfg)
    cfg.write_text("monitors:\n  tracking_stale: {hours: 12\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3"):
        monitor_hub(tmp_path, master_key, ManualClock(START), config_file=cfg)
