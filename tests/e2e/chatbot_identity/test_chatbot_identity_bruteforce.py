"""Brute force against the chatbot's identity check over real HTTP, from many real loopback addresses
(127.0.1.x source addresses against a live uvicorn server): the durable lockout per order/customer and
the throttle per address hold across sessions; no failure opens a ticket; locks are audited and alert ops.
The hub's clock is pinned, and moved past the lock to show it expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import identity
from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs
from deliveryhub.security.audit import audit_log_of
from dh_testkit import event, make_hub, serve_hub

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # pinned: a month end
TARGET = "ORD-2026-000901"  # packed, not shipped: cancellable once verified
DIGITS = "4821"
LOCKED_KO = "본인 확인을 잠시 멈춰 두었어요"
LIMIT = 5  # the hub's default chat_verify_failures_per_order: five wrong tries on one order lock it


def _order(prefix: str, oid: str, phone: str, name: str) -> list[Any]:
    return [
        event(
            f"{prefix}1",
            "order.created",
            oid,
            "2026-11-28T10:00:00+09:00",
            {
                "customer": {"name": name, "phone": phone},
                "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 152"},
                "items": [{"sku": "SKU-BF-1", "qty": 1, "price": 39000}],
                "total": 39000,
            },
        ),
        event(f"{prefix}2", "fulfillment.packed", oid, "2026-11-28T11:00:00+09:00", {}, source="wms"),
    ]


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Iterator[tuple[str, Any, ManualClock]]:
    clock = ManualClock(NOW)
    hub = make_hub(tmp_path, master_key, clock=clock)
    events = _order("t", TARGET, f"010-7777-{DIGITS}", "김보안")
    for i in range(25):  # other customers' orders, for the spraying attacker
        events += _order(f"s{i}-", f"ORD-2026-0010{i:02d}", f"010-5555-{1000 + i:04d}", "이고객")
    hub.ingest.ingest(events)
    with serve_hub(hub) as base:
        yield base, hub, clock


def from_address(base: str, n: int) -> httpx.Client:
    """A client whose TCP connections come from 127.0.1.<n> (a different address each)."""
    return httpx.Client(
        base_url=base, timeout=60, transport=httpx.HTTPTransport(local_address=f"127.0.1.{n}")
    )


def ask_to_cancel(c: httpx.Client, oid: str) -> str:
    sid = c.post("/v1/chat/sessions", json={}).json()["session_id"]
    r = c.post(f"/v1/chat/sessions/{sid}/messages", json={"text": f"{oid} 주문 취소해주세요"})
    assert r.status_code == 200 and "뒷자리" in (r.json()["reply"] or ""), r.text
    return str(sid)


def say(c: httpx.Client, sid: str, text: str) -> httpx.Response:
    return c.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})


def stage(hub: Any, oid: str) -> str:
    with hub.db.read() as conn:
        return str(conn.execute(sa.select(t.orders.c.stage).where(t.orders.c.order_id == oid)).scalar())


def count(hub: Any, table: sa.Table, *where: Any) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0)


def test_twenty_guesses_from_twenty_addresses_lock_the_order_until_the_lock_expires(
    served: tuple[str, Any, ManualClock],
) -> None:
    base, hub, clock = served
    wrong = [f"{n:04d}" for n in range(1000, 1020)]
    replies = []
    for i, guess in enumerate(wrong, start=1):
        with from_address(base, i) as c:
            sid = ask_to_cancel(c, TARGET)
            r = say(c, sid, guess)
            assert r.status_code == 200, r.text
            replies.append(r.json()["reply"] or "")
    # The first five guesses are told the digits do not match; from then on every answer is the lock.
    assert identity.Limits.of(hub).per_order == LIMIT
    assert all("일치" in r for r in replies[:LIMIT]), replies[:LIMIT]
    assert all(LOCKED_KO in r for r in replies[LIMIT:]), replies[LIMIT:]

    # The 21st attempt, from a fresh address and session, with the RIGHT digits: refused, nothing revealed.
    with from_address(base, 21) as c:
        sid = ask_to_cancel(c, TARGET)
        right = say(c, sid, DIGITS).json()
        sid2 = ask_to_cancel(c, TARGET)
        wrong_again = say(c, sid2, "9999").json()
        assert LOCKED_KO in (right["reply"] or "") and "알림 메시지에 있는 링크" in (right["reply"] or "")
        assert right["reply"] == wrong_again["reply"]  # no hint whether the digits were right
        assert "취소해 드릴까요" not in (say(c, sid, "네").json()["reply"] or "")
    assert stage(hub, TARGET) != "cancelled"
    assert count(hub, ct.chat_sessions, ct.chat_sessions.c.verified.is_(True)) == 0
    # No junk ticket per failure, and the lock was audited and alerted to ops (once per lock).
    assert count(hub, ct.tickets) == 0
    locks = [e for e in audit_log_of(hub).entries(limit=50) if e["action"] == "chat.verify_locked"]
    assert {e["target"] for e in locks} >= {f"order:{TARGET}"}
    alerts = count(hub, notification_jobs, notification_jobs.c.rule_id == "ops:chat_verify_lock")
    assert alerts >= 1

    # Past the lock (30 minutes by default) the customer gets in with the right digits and can cancel.
    clock.advance(timedelta(minutes=31))
    with from_address(base, 22) as c:
        sid = ask_to_cancel(c, TARGET)
        ok = say(c, sid, DIGITS).json()
        assert "취소해 드릴까요" in (ok["reply"] or ""), ok
        done = say(c, sid, "네").json()
        assert "취소되었어요" in (done["reply"] or ""), done
    assert stage(hub, TARGET) == "cancelled"
    assert count(hub, ct.tickets) == 0


def test_a_second_lock_lasts_twice_as_long(served: tuple[str, Any, ManualClock]) -> None:
    base, hub, clock = served
    for lock in (1, 2):
        for i in range(LIMIT):
            with from_address(base, lock * 20 + i) as c:
                assert say(c, ask_to_cancel(c, TARGET), f"{2000 + lock * 20 + i:04d}").status_code == 200
        if lock == 1:
            clock.advance(timedelta(minutes=31))
    # The second lock is 60 minutes: still locked after 31, open after 61.
    clock.advance(timedelta(minutes=31))
    with from_address(base, 60) as c:
        assert LOCKED_KO in (say(c, ask_to_cancel(c, TARGET), DIGITS).json()["reply"] or "")
    clock.advance(timedelta(minutes=30))
    with from_address(base, 61) as c:
        assert "취소해 드릴까요" in (say(c, ask_to_cancel(c, TARGET), DIGITS).json()["reply"] or "")


def test_one_address_spraying_guesses_across_orders_is_throttled(
    served: tuple[str, Any, ManualClock],
) -> None:
    base, hub, _clock = served
    statuses = []
    with from_address(base, 99) as c:
        for i in range(20):  # one wrong guess on each of 20 different orders: no order reaches its limit
            r = say(c, ask_to_cancel(c, f"ORD-2026-0010{i:02d}"), "0000")
            statuses.append(r.status_code)
        assert statuses == [200] * 19 + [429], statuses
        # Now even the right digits of another order are refused from this address, with Retry-After.
        r = say(c, ask_to_cancel(c, "ORD-2026-001021"), "1021")
        assert r.status_code == 429 and r.json()["error"]["code"] == "verify_throttled"
        assert int(r.headers["Retry-After"]) >= 60 and "잠시 후" in r.json()["error"]["message"]
    assert stage(hub, "ORD-2026-001021") != "cancelled"
    # Another address is not affected (the victims' own checks still work).
    with from_address(base, 98) as c:
        assert "취소해 드릴까요" in (
            say(c, ask_to_cancel(c, "ORD-2026-001021"), "1021").json()["reply"] or ""
        )
    assert count(hub, ct.tickets) == 0
    assert any(
        e["action"] == "chat.verify_locked" and e["target"].startswith("ip:")
        for e in audit_log_of(hub).entries(limit=50)
    )
    assert count(hub, notification_jobs, notification_jobs.c.rule_id == "ops:chat_verify_lock") >= 1
