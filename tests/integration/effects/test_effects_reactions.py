"""The reactions consumer on a real SQLite hub: a cancellation before handover releases the WMS reservation
once; an address change made through the hub reaches the WMS and the TMS once, the OMS's own never echoes
back; a compensation coupon is created in the shop's coupon system once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from effects_kit import CUSTOMER, effects_hub, inbox, new_order, rows, say

from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, handed_over, waybill
from providers.outside_servers import OutsideServers

NEW_ADDRESS = {"zip": "04524", "line1": "서울 중구 세종대로 110", "line2": "3층"}


def test_cancel_before_handover_releases_once(hub: Any, clock: ManualClock, servers: OutsideServers) -> None:
    new_order(hub, "O-1")
    assert say(hub, "cx-1", "order.cancelled", "O-1", {"reason": "고객 변심"}, source="cs") == "accepted"
    assert say(hub, "cx-1", "order.cancelled", "O-1", {"reason": "고객 변심"}, source="cs") == "duplicate"
    # Another system telling the same cancellation under its own id adds nothing either.
    assert say(hub, "oms-cx-9", "order.cancelled", "O-1", {"reason": "cancelled"}) == "accepted"
    assert list(rows(hub)) == ["release:O-1"]
    hub.effects.driver.run(clock.now())
    hub.effects.driver.run(clock.now())
    calls = servers.wms.calls("/release")
    assert [(c.path, c.key) for c in calls] == [("/orders/O-1/release", "release:O-1")]
    assert calls[0].body == {"order_id": "O-1", "items": [{"sku": "SKU-1", "qty": 2}]}
    assert [r.event_id for r in inbox(hub, "act:")] == ["act:release:O-1"]


def test_cancel_after_handover_releases_nothing(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    new_order(hub, "O-1")
    at = "2026-12-01T12:00:00+09:00"
    parcel = [waybill("wb-1", "O-1", at, "cj", "412345678901"), handed_over("ho-1", "O-1", at, "cj")]
    assert {r.status for r in hub.ingest.ingest(parcel)} == {"accepted"}
    drain(hub)
    say(hub, "cx-1", "order.cancelled", "O-1", {"reason": "late"}, source="cs")
    assert rows(hub) == {}


def test_address_change_from_cs_reaches_wms_and_tms_once(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    new_order(hub, "O-1")
    say(hub, "ad-1", "order.address_changed", "O-1", {"address": NEW_ADDRESS}, source="cs")
    assert list(rows(hub)) == ["address:O-1:ad-1"]
    assert "address" not in rows(hub)["address:O-1:ad-1"].payload  # read at send time, never stored
    servers.tms.fail_next(500)  # the WMS took it, the TMS did not: both are asked again, same key
    hub.effects.driver.run(clock.now())
    clock.advance(timedelta(seconds=30))
    hub.effects.driver.run(clock.now())
    assert rows(hub)["address:O-1:ad-1"].status == "done"
    for system in (servers.wms, servers.tms):
        done = system.done("/address")
        assert len(done) == 1, system.name
        sent = system.calls("/orders/O-1/address")[-1]
        assert sent.key == "address:O-1:ad-1"
        assert sent.body["address"] == {**NEW_ADDRESS, **CUSTOMER}


def test_the_oms_own_address_change_is_not_pushed_back(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    new_order(hub, "O-1")
    say(hub, "ad-oms", "order.address_changed", "O-1", {"address": NEW_ADDRESS}, source="oms")
    assert rows(hub) == {}
    hub.effects.driver.run(clock.now())
    assert servers.wms.requests == [] and servers.tms.requests == []


def test_compensation_coupon_is_granted_once(hub: Any, clock: ManualClock, servers: OutsideServers) -> None:
    new_order(hub, "O-1")
    data = {"kind": "coupon", "amount": 3000, "rule": "delay_coupon"}
    say(hub, "comp-1", "compensation.issued", "O-1", data, source="monitors")
    say(hub, "comp-1", "compensation.issued", "O-1", data, source="monitors")
    assert list(rows(hub)) == ["reward:comp-1"]
    hub.effects.driver.run(clock.now())
    calls = servers.rewards.calls("/coupons")
    assert len(calls) == 1 and calls[0].key == "reward:comp-1"
    assert calls[0].body["amount"] == 3000 and calls[0].body["order_id"] == "O-1"
    assert [r.type for r in inbox(hub, "act:")] == ["action.completed"]


def test_nothing_is_queued_for_systems_the_shop_has_not_configured(
    tmp_path: Path, master_key: str, clock: ManualClock, clean_env: None
) -> None:
    hub = effects_hub(tmp_path, master_key, clock)  # no outside: section, no DELIVERYHUB_OUTSIDE_*
    try:
        new_order(hub, "O-1")
        say(hub, "ad-1", "order.address_changed", "O-1", {"address": NEW_ADDRESS}, source="cs")
        say(
            hub, "comp-1", "compensation.issued", "O-1", {"kind": "points", "amount": 1000}, source="monitors"
        )
        say(hub, "cx-1", "order.cancelled", "O-1", {"reason": "고객 요청"}, source="cs")
        assert rows(hub) == {}
    finally:
        hub.close()
