"""A carrier's push about a return waybill (the one booked for a return's pickup) is that return's pickup:
the first scan with the parcel in hand records `return.picked_up` once; a label-only scan records nothing;
a waybill nobody booked is still quarantined, never a phantom order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.aftersales import store
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import ReturnAsk
from dh_testkit import drain, event, handed_over, make_hub, order_created, waybill

SECRET = "cj-return-secret"
RETURN_WAYBILL = "600900800701"


@pytest.fixture
def hub(tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> Iterator[Any]:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", SECRET)
    h = make_hub(tmp_path, master_key, clock=ManualClock(datetime(2026, 11, 16, 1, 0, tzinfo=UTC)))
    h.ingest.ingest(
        [
            order_created(
                "c", "ORD-RW", "2026-11-10T10:00:00+09:00", {"name": "김", "phone": "010-1111-2222"}
            ),
            waybill("w", "ORD-RW", "2026-11-10T15:00:00+09:00", "cj", "600100200301"),
            handed_over("h", "ORD-RW", "2026-11-10T18:00:00+09:00", "cj"),
            event("d", "shipment.delivered", "ORD-RW", "2026-11-12T14:00:00+09:00", {}, source="carrier:cj"),
        ]
    )
    drain(h)
    try:
        yield h
    finally:
        h.close()


def _push(client: TestClient, hub: Any, scans: list[dict[str, str]], number: str = RETURN_WAYBILL) -> Any:
    body = json.dumps({"tracking_no": number, "events": scans}, ensure_ascii=False).encode()
    headers = sign_push(SECRET, body, int(hub.clock.now().timestamp()))
    return client.post("/v1/webhooks/carriers/cj", content=body, headers=headers)


def _picked_up(hub: Any) -> list[Any]:
    with hub.db.read() as conn:
        return list(
            conn.execute(
                sa.select(t.inbox.c.event_id, t.inbox.c.source).where(t.inbox.c.type == "return.picked_up")
            )
        )


def test_the_carriers_scan_of_a_return_waybill_is_the_pickup(hub: Any) -> None:
    opened = hub.returns.open(ReturnAsk("ORD-RW", "return", "불량이에요", "defective", [], "chatbot"))
    assert opened.ok, opened
    rid = str(opened.return_id)
    booked = {"return_id": rid, "carrier": "cj", "tracking_no": RETURN_WAYBILL}
    hub.ingest.ingest(
        [
            event(
                f"act:pickup:{rid}",
                "return.pickup_booked",
                "ORD-RW",
                "2026-11-16T11:00:00+09:00",
                booked,
                source="hub",
            )
        ]
    )
    drain(hub)
    client = TestClient(create_app(hub, run_worker=False))

    label = _push(client, hub, [{"time": "2026-11-16 12:00", "code": "01", "status": "접수"}])
    assert label.status_code == 200, label.text
    drain(hub)
    assert _picked_up(hub) == []  # a label is not the parcel in the carrier's hands

    scans = [
        {"time": "2026-11-17 09:00", "code": "11", "status": "집화처리", "location": "강남"},
        {"time": "2026-11-17 18:00", "code": "41", "status": "간선상차", "location": "곤지암"},
    ]
    assert _push(client, hub, scans).status_code == 200
    assert _push(client, hub, scans[1:]).status_code == 200  # a later push of the same waybill
    drain(hub)
    assert [(r.event_id, r.source) for r in _picked_up(hub)] == [(f"return-pickup:{rid}", "carrier:cj")]
    with hub.db.read() as conn:
        assert store.get(conn, rid).status == "picked_up"
        parcels = conn.execute(
            sa.select(t.parcels.c.tracking_no).where(t.parcels.c.order_id == "ORD-RW")
        ).scalars()
        assert RETURN_WAYBILL not in list(parcels)  # not a second parcel of the order

    stranger = _push(client, hub, scans, number="600999999999")
    assert stranger.status_code == 200 and stranger.json().get("quarantined", 0) >= 1
