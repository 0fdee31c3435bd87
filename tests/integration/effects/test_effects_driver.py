"""The outside-action driver on a real SQLite hub against local HTTP servers: each action reaches its
system once across a 500, a 429 (Retry-After honoured), a restart mid-way and two racing drivers; a
refusal becomes action.failed for the operators."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from effects_kit import effects_hub, enqueue_release, inbox, new_order, race_drivers, rows

from deliveryhub.effects import ledger
from deliveryhub.effects.driver import LEASE
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import OutsideAction
from dh_testkit import make_hub
from providers.outside_servers import OutsideServers


def _release(hub: Any, oid: str) -> None:
    assert enqueue_release(hub, oid, qty=2)


def _ordered_release(hub: Any, oid: str) -> None:
    """The order received, then its reservation release queued."""
    new_order(hub, oid)
    _release(hub, oid)


def _grant(hub: Any, oid: str) -> str:
    key = f"reward:{oid}"
    payload = {"order_id": oid, "customer_ref": None, "kind": "coupon", "amount": 3000, "reason": "지연 보상"}
    with hub.db.write() as conn:
        hub.outside.enqueue(conn, OutsideAction(key, "rewards", "grant", oid, payload))
    return key


def test_enqueue_is_once_per_key_and_inside_the_callers_transaction(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _release(hub, "O-1")
    with hub.db.write() as conn:
        again = OutsideAction("release:O-1", "fulfilment", "release_reservation", "O-1", {"x": 1})
        assert hub.outside.enqueue(conn, again) is False
    with pytest.raises(RuntimeError), hub.db.write() as conn:  # rolled back with the caller
        other = OutsideAction("release:O-2", "fulfilment", "release_reservation", "O-2", {})
        hub.outside.enqueue(conn, other)
        raise RuntimeError("the caller fails")
    with hub.db.read() as conn:
        assert hub.outside.state(conn, "release:O-2") is None
        state = hub.outside.state(conn, "release:O-1")
        assert state is not None and (state.status, state.attempts) == ("pending", 0)
        assert [s.key for s in hub.outside.for_order(conn, "O-1")] == ["release:O-1"]
    assert rows(hub)["release:O-1"].payload["items"] == [{"sku": "SKU-1", "qty": 2}]


def test_once_across_a_500_with_the_same_key_and_one_done_event(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _ordered_release(hub, "O-1")
    servers.wms.fail_next(500)
    driver = hub.effects.driver
    assert driver.run(clock.now()) == 1
    row = rows(hub)["release:O-1"]
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert driver.run(clock.now()) == 0  # not due yet
    clock.advance(timedelta(seconds=30))
    assert driver.run(clock.now()) == 1
    assert driver.run(clock.now()) == 0
    row = rows(hub)["release:O-1"]
    assert (row.status, row.attempts, row.ref) == ("done", 2, "WMS-1")
    assert servers.wms.keys("/release") == ["release:O-1", "release:O-1"]
    assert len(servers.wms.done("/release")) == 1
    assert servers.wms.calls("/release")[0].auth == f"Bearer {servers.wms.token}"
    recorded = inbox(hub, "act:")
    assert [(r.source, r.event_id, r.type) for r in recorded] == [
        ("hub", "act:release:O-1", "action.completed")
    ]
    with hub.db.read() as conn:
        state = hub.outside.state(conn, "release:O-1")
        section = hub.order_sections["outside_actions"](conn, "O-1", None)
    assert state is not None and state.status == "done" and state.ref == "WMS-1"
    assert [(a["action"], a["status"], a["attempts"], a["ref"]) for a in section] == [
        ("release_reservation", "done", 2, "WMS-1")
    ]
    assert section[0]["done_at"].startswith("2026-12-01T01:00:30")


def test_a_restart_mid_way_resends_with_the_same_key_once_the_lease_expires(
    tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers
) -> None:
    hub = effects_hub(tmp_path, master_key, clock)
    _ordered_release(hub, "O-1")
    # The first worker claims the row and reaches the WMS, then dies before recording anything.
    with hub.db.write() as conn:
        held = ledger.claim(conn, "release:O-1", "dead-worker", clock.now(), LEASE)
    assert held is not None
    assert hub.fulfilment.release_reservation("O-1", held.payload["items"], held.key).outcome == "done"
    hub.close()

    hub = effects_hub(tmp_path, master_key, clock)  # the restarted hub, same database
    try:
        assert hub.effects.driver.run(clock.now()) == 0  # still held by the dead worker's lease
        clock.advance(LEASE + timedelta(seconds=1))
        assert hub.effects.driver.run(clock.now()) == 1
        row = rows(hub)["release:O-1"]
        assert (row.status, row.attempts) == ("done", 2)
        assert servers.wms.keys("/release") == ["release:O-1", "release:O-1"]
        assert len(servers.wms.done("/release")) == 1  # the WMS released once
        assert row.ref == "WMS-1"  # the same answer again for the same key
    finally:
        hub.close()


def test_two_drivers_racing_never_send_one_row_twice(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    oids = [f"O-{i}" for i in range(12)]
    for oid in oids:
        _release(hub, oid)
    assert race_drivers(hub, clock, 3) == len(oids)
    keys = servers.wms.keys("/release")
    assert sorted(keys) == sorted(f"release:{o}" for o in oids)  # each once, none twice
    assert {r.status for r in rows(hub).values()} == {"done"}


def test_429_waits_as_long_as_the_system_asked(hub: Any, clock: ManualClock, servers: OutsideServers) -> None:
    new_order(hub, "O-1")
    key = _grant(hub, "O-1")
    servers.rewards.fail_next(429, retry_after=120)
    driver = hub.effects.driver
    driver.run(clock.now())
    row = rows(hub)[key]
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)  # not the 30 s backoff
    assert "429" in row.last_error
    clock.advance(timedelta(seconds=60))
    assert driver.run(clock.now()) == 0
    clock.advance(timedelta(seconds=60))
    assert driver.run(clock.now()) == 1
    assert rows(hub)[key].status == "done"
    assert [c.body["amount"] for c in servers.rewards.calls("/coupons")] == [3000, 3000]
    assert len(servers.rewards.done("/coupons")) == 1


def test_a_timeout_is_retried_and_the_system_acts_once(
    tmp_path: Path,
    master_key: str,
    clock: ManualClock,
    servers: OutsideServers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DELIVERYHUB_OUTSIDE_TIMEOUT_SECONDS", "0.5")
    hub = effects_hub(tmp_path, master_key, clock)
    try:
        new_order(hub, "O-1")
        key = _grant(hub, "O-1")
        servers.rewards.slow_next(5)  # far past the hub's timeout: the system acted, the hub never heard
        hub.effects.driver.run(clock.now())
        assert rows(hub)[key].status == "pending" and "timeout" in rows(hub)[key].last_error
        hub.rewards.port.timeout = 60.0  # the retry is not about time: nothing else may time out
        clock.advance(timedelta(seconds=30))
        hub.effects.driver.run(clock.now())
        assert rows(hub)[key].status == "done"
        assert len(servers.rewards.done("/coupons")) == 1
    finally:
        hub.close()


def test_refused_becomes_action_failed_and_an_ops_alert(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _ordered_release(hub, "O-1")
    servers.wms.fail_next(400, message="주문을 찾을 수 없어요")
    hub.effects.driver.run(clock.now())
    row = rows(hub)["release:O-1"]
    assert (row.status, row.attempts) == ("failed", 1)
    assert "주문을 찾을 수 없어요" in row.last_error
    failed = inbox(hub, "actfail:")
    assert [(r.event_id, r.type) for r in failed] == [("actfail:release:O-1", "action.failed")]
    data = failed[0].data if isinstance(failed[0].data, dict) else json.loads(failed[0].data)
    assert data["key"] == "release:O-1" and data["system"] == "fulfilment"
    clock.advance(timedelta(hours=1))
    assert hub.effects.driver.run(clock.now()) == 0  # never tried again
    assert len(servers.wms.calls("/release")) == 1
    with hub.db.read() as conn:  # the operators are told once
        q = "SELECT order_id, context FROM notification_jobs WHERE idem_key = :k"
        alerts = conn.execute(sa.text(q), {"k": "ops|action_failed|release:O-1"}).all()
    assert [a.order_id for a in alerts] == ["O-1"]


def test_out_of_attempts_fails_for_good(hub: Any, clock: ManualClock, servers: OutsideServers) -> None:
    _ordered_release(hub, "O-1")
    servers.wms.fail_next(503, times=20)
    driver = hub.effects.driver
    for _ in range(driver.backoff.max_attempts):
        driver.run(clock.now())
        clock.advance(timedelta(hours=7))
    row = rows(hub)["release:O-1"]
    assert (row.status, row.attempts) == ("failed", driver.backoff.max_attempts)
    assert len(servers.wms.calls("/release")) == driver.backoff.max_attempts
    assert [r.type for r in inbox(hub, "actfail:")] == ["action.failed"]


def test_refused_opens_an_action_failed_exception(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _ordered_release(hub, "O-1")
    servers.wms.fail_next(400, message="unknown order")
    hub.effects.driver.run(clock.now())
    with hub.db.read() as conn:
        assert "O-1" in hub.exceptions.orders_with_exception(conn, "action_failed")
        q = "SELECT evidence FROM monitor_exceptions WHERE type = 'action_failed' AND order_id = 'O-1'"
        evidence = conn.execute(sa.text(q)).scalar_one()
    evidence = evidence if isinstance(evidence, dict) else json.loads(evidence)
    assert evidence["key"] == "release:O-1" and evidence["outside_system"] == "fulfilment"
    assert "unknown order" in evidence["message"] and evidence["attempts"] == 1


def test_a_pickup_records_its_done_event_with_the_carriers_answer(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    new_order(hub, "O-1")
    payload = {
        "return_id": "RT-1",
        "order_id": "O-1",
        "kind": "return",
        "items": [{"sku": "SKU-1", "qty": 1}],
        "reason_code": "change_of_mind",
    }
    done = {"return_id": "RT-1"}
    action = OutsideAction("pickup:RT-1", "pickup", "book_pickup", "O-1", payload)
    action = replace(action, done_event="return.pickup_booked", done_data=done)
    with hub.db.write() as conn:
        hub.outside.enqueue(conn, action)
    hub.effects.driver.run(clock.now())
    sent = servers.pickup.calls("/pickups")
    assert len(sent) == 1 and sent[0].key == "pickup:RT-1"
    # The address is the order's, read at send time with the contact the carrier needs.
    assert sent[0].body["address"] == {
        "zip": "06236",
        "line1": "서울 강남구 테헤란로 152",
        "name": "김민수",
        "phone": "010-2345-6789",
    }
    recorded = inbox(hub, "act:")
    assert [(r.event_id, r.type) for r in recorded] == [("act:pickup:RT-1", "return.pickup_booked")]
    data = recorded[0].data if isinstance(recorded[0].data, dict) else json.loads(recorded[0].data)
    assert data["return_id"] == "RT-1" and data["ref"] == data["pickup_ref"] == "PIC-1"
    assert data["carrier"] == "cj" and data["tracking_no"] == "R600000001"


def test_an_action_without_an_address_on_file_is_refused_not_retried(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    with hub.db.write() as conn:
        action = OutsideAction("address:O-X:e1", "fulfilment", "push_address", "O-X", {"order_id": "O-X"})
        hub.outside.enqueue(conn, action)
    hub.effects.driver.run(clock.now())
    row = rows(hub)["address:O-X:e1"]
    assert row.status == "failed" and "no delivery address" in row.last_error
    assert servers.wms.requests == []


def test_an_operator_sends_a_failed_action_again(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _ordered_release(hub, "O-1")
    servers.wms.fail_next(400, message="창고 점검 중", times=2)
    hub.effects.driver.run(clock.now())
    assert rows(hub)["release:O-1"].status == "failed"
    clock.advance(timedelta(hours=1))
    state = hub.effects.retry("release:O-1", "ops-kim")
    assert state is not None and (state.status, state.attempts) == ("pending", 0)
    hub.effects.driver.run(clock.now())  # refused again: a second failure, told apart
    assert [r.event_id for r in inbox(hub, "actfail:")] == [
        "actfail:release:O-1",
        f"actfail:release:O-1:{int((clock.now() - timedelta(hours=1)).timestamp())}",
    ]
    assert hub.effects.retry("release:O-1", "ops-kim") is not None
    hub.effects.driver.run(clock.now())
    assert rows(hub)["release:O-1"].status == "done"
    assert len(servers.wms.done("/release")) == 1
    assert hub.effects.retry("release:O-1", "ops-kim") is None  # done: nothing to send again


def test_a_failed_refund_is_not_sent_again_from_the_ledger(
    tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers
) -> None:
    hub = effects_hub(tmp_path, master_key, clock)  # no payment provider configured: refused
    try:
        payload = {"order_id": "O-1", "payment_key": "pk_1", "amount": 1000, "reason": "취소"}
        with hub.db.write() as conn:
            action = OutsideAction("refund:manual:O-1", "payments", "refund", "O-1", payload)
            hub.outside.enqueue(conn, action)
        hub.effects.driver.run(clock.now())
        assert rows(hub)["refund:manual:O-1"].status == "failed"
        assert hub.effects.retry("refund:manual:O-1", "ops-kim") is None
    finally:
        hub.close()


def test_the_ports_come_from_the_hubs_config_file(
    tmp_path: Path,
    master_key: str,
    clock: ManualClock,
    servers: OutsideServers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(servers.env()):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SHOP_WMS_TOKEN", servers.wms.token)
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        f"outside:\n  wms_url: {servers.wms.url}\n  wms_token: ${{SHOP_WMS_TOKEN}}\n", encoding="utf-8"
    )
    hub = make_hub(tmp_path, master_key, clock=clock, config_file=str(cfg))
    try:
        assert hub.effects.settings.pickup_url is None and hub.effects.settings.rewards_url is None
        _ordered_release(hub, "O-1")
        hub.effects.driver.run(clock.now())
        assert rows(hub)["release:O-1"].status == "done"
        assert servers.wms.calls("/release")[0].auth == f"Bearer {servers.wms.token}"
    finally:
        hub.close()
