"""An operator sends a failed WMS release again over HTTP: once done it is done, a refund is not retried
from here, an unknown key is 404 and a role without orders:act is 403; the retry is in the audit log."""

from __future__ import annotations

from typing import Any

from effects_kit import new_order, rows
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.service_layer.ports import OutsideAction
from providers.outside_servers import OutsideServers


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_an_operator_retries_a_failed_release_over_http(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    new_order(hub, "O-1")
    with hub.db.write() as conn:
        release = OutsideAction(
            "release:O-1", "fulfilment", "release_reservation", "O-1", {"order_id": "O-1", "items": []}
        )
        refund = OutsideAction(
            "refund:manual:O-1",
            "payments",
            "refund",
            "O-1",
            {"order_id": "O-1", "payment_key": "pk", "amount": 100, "reason": "x"},
        )
        hub.outside.enqueue(conn, release)
        hub.outside.enqueue(conn, refund)
    servers.wms.fail_next(400, message="창고 점검 중")
    hub.effects.driver.run(clock.now())
    assert rows(hub)["release:O-1"].status == "failed"
    ops = create_api_key(hub.db, "ops", "ops")
    analyst = create_api_key(hub.db, "analyst", "analyst")
    client = TestClient(create_app(hub, run_worker=False))

    got = client.get("/v1/outside-actions/release:O-1", headers=_auth(analyst))
    assert got.status_code == 200 and got.json()["status"] == "failed"
    assert client.post("/v1/outside-actions/release:O-1/retry", headers=_auth(analyst)).status_code == 403
    assert client.post("/v1/outside-actions/release:O-1/retry").status_code == 401
    res = client.post("/v1/outside-actions/release:O-1/retry", headers=_auth(ops))
    assert res.status_code == 200 and res.json()["status"] == "pending"
    hub.effects.driver.run(clock.now())
    assert rows(hub)["release:O-1"].status == "done" and len(servers.wms.done("/release")) == 1
    again = client.post("/v1/outside-actions/release:O-1/retry", headers=_auth(ops))
    assert again.status_code == 409 and "done" in again.json()["error"]["message"]
    refunded = client.post("/v1/outside-actions/refund:manual:O-1/retry", headers=_auth(ops))
    assert refunded.status_code == 409 and "refund" in refunded.json()["error"]["message"]
    assert client.post("/v1/outside-actions/nope:1/retry", headers=_auth(ops)).status_code == 404
    audit = client.get("/v1/audit", headers=_auth(create_api_key(hub.db, "adm", "admin"))).json()
    assert any(e["action"] == "outside_action.retry" for e in audit["entries"])
