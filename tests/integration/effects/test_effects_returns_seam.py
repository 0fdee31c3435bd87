"""The seam with the returns workflow: a return opened through `core.returns` is booked once at the
carrier-return port (across a 500 and a restart), and its `return.pickup_booked` carries the carrier's
waybill into the workflow."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from effects_kit import AT, CUSTOMER, effects_hub, rows

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import ReturnAsk
from dh_testkit import drain, event, handed_over, order_created, waybill
from providers.outside_servers import OutsideServers


def test_a_return_is_booked_once_and_the_workflow_hears_of_it(
    tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers
) -> None:
    hub = effects_hub(tmp_path, master_key, clock)
    shipped = "2026-11-29T12:00:00+09:00"
    raws = [
        order_created("c-1", "O-1", "2026-11-28T10:00:00+09:00", CUSTOMER),
        waybill("w-1", "O-1", shipped, "cj", "612345678901"),
        handed_over("h-1", "O-1", shipped, "cj"),
        event("d-1", "shipment.delivered", "O-1", AT, {}, source="carrier:cj", shipment_id="P1"),
    ]
    assert {r.status for r in hub.ingest.ingest(raws)} == {"accepted"}
    drain(hub)
    items = [{"sku": "SKU-1", "qty": 1}]
    ask = ReturnAsk("O-1", "return", "사이즈가 안 맞아요", "change_of_mind", items, "chatbot")
    decision = hub.returns.open(ask)
    assert decision.ok, decision
    rid = decision.return_id
    drain(hub)
    servers.pickup.fail_next(500)
    hub.effects.driver.run(clock.now())
    assert rows(hub)[f"pickup:{rid}"].status == "pending"
    hub.close()

    hub = effects_hub(tmp_path, master_key, clock)  # restarted
    try:
        clock.advance(timedelta(seconds=30))
        hub.effects.driver.run(clock.now())
        drain(hub)
        assert servers.pickup.keys("/pickups") == [f"pickup:{rid}", f"pickup:{rid}"]
        assert len(servers.pickup.done("/pickups")) == 1
        with hub.db.read() as conn:
            q = "SELECT status, carrier, return_tracking_no, pickup_ref FROM returns WHERE return_id = :r"
            got = conn.execute(sa.text(q), {"r": rid}).one()
        assert tuple(got) == ("pickup_booked", "cj", "R600000001", "PIC-1")
    finally:
        hub.close()
