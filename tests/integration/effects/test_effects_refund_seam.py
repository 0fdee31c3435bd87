"""The seam with the payments feature: a paid order cancelled before handover gives the stock back at the
WMS once and its money back at Toss once (across a lost answer), and a refund compensation is paid once
and never beyond what is left of the payment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from effects_kit import AT, effects_hub, inbox, new_order, rows, say

from deliveryhub.kernel.clock import ManualClock
from dh_testkit import event
from providers.outside_servers import OutsideServers
from providers.toss_server import TossState, toss_server


@pytest.fixture
def toss(monkeypatch: pytest.MonkeyPatch, servers: OutsideServers) -> Iterator[TossState]:
    with toss_server() as state:
        monkeypatch.setenv("DELIVERYHUB_TOSS_SECRET_KEY", state.secret_key)
        monkeypatch.setenv("DELIVERYHUB_TOSS_BASE_URL", state.url)
        yield state


@pytest.fixture
def hub(tmp_path: Path, master_key: str, clock: ManualClock, toss: TossState) -> Iterator[Any]:
    """A hub built once the outside servers and Toss are configured, closed after the test."""
    built = effects_hub(tmp_path, master_key, clock)
    try:
        yield built
    finally:
        built.close()


def _paid_order(hub: Any, toss: TossState, oid: str, amount: int) -> str:
    key = toss.add_payment(oid, amount)
    new_order(hub, oid)
    data = {"amount": amount, "payment_key": key, "provider": "tosspayments", "method": "card"}
    assert hub.ingest.ingest([event(f"{oid}-paid", "order.paid", oid, AT, data)])[0].status == "accepted"
    return key


def test_cancel_before_handover_releases_and_refunds_once(
    hub: Any, clock: ManualClock, servers: OutsideServers, toss: TossState
) -> None:
    key = _paid_order(hub, toss, "O-1", 30000)
    say(hub, "cx-1", "order.cancelled", "O-1", {"reason": "고객 요청"}, source="cs")
    say(hub, "cx-2", "order.cancelled", "O-1", {"reason": "again"}, source="chatbot")
    assert sorted(rows(hub)) == ["refund:cancel:O-1", "release:O-1"]
    toss.fail_next(500, after=True)  # Toss cancels, the answer is lost
    hub.effects.driver.run(clock.now())
    clock.advance(timedelta(seconds=30))
    hub.effects.driver.run(clock.now())
    assert {k: r.status for k, r in rows(hub).items()} == {
        "refund:cancel:O-1": "done",
        "release:O-1": "done",
    }
    assert [c["cancelAmount"] for c in toss.cancels(key)] == [30000]
    assert {r.idempotency_key for r in toss.calls("POST", "/cancel")} == {"refund:cancel:O-1"}
    assert len(servers.wms.done("/release")) == 1
    assert {r.event_id: r.type for r in inbox(hub, "act:")} == {
        "act:release:O-1": "action.completed",
        "act:refund:cancel:O-1": "payment.refunded",
    }
    with hub.db.read() as conn:
        assert hub.refunds.refundable(conn, "O-1") == 0


def test_a_refund_compensation_is_paid_once(
    hub: Any, clock: ManualClock, servers: OutsideServers, toss: TossState
) -> None:
    key = _paid_order(hub, toss, "O-2", 30000)
    data = {"kind": "refund", "amount": 5000, "rule": "delay_refund"}
    say(hub, "comp-9", "compensation.issued", "O-2", data, source="monitors")
    say(hub, "comp-9", "compensation.issued", "O-2", data, source="monitors")
    assert list(rows(hub)) == ["refund:comp:comp-9"]
    hub.effects.driver.run(clock.now())
    assert [c["cancelAmount"] for c in toss.cancels(key)] == [5000]
    with hub.db.read() as conn:
        assert hub.refunds.refundable(conn, "O-2") == 25000
