"""The lockout holds under concurrency, on SQLite and PostgreSQL: 40 wrong guesses on one order fired
at once from 8 threads and 40 addresses — exactly `chat_verify_failures_per_order` are checked, the rest
are refused by the lock, and the right digits are refused too until the lock expires."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.chatbot import identity
from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security.audit import audit_log_of
from dh_testkit import make_hub

NOW = datetime(2026, 12, 31, 14, 59, tzinfo=UTC)  # pinned: New Year's Eve, 23:59 KST


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: Any, tmp_path: Path, master_key: str) -> Any:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    h = make_hub(tmp_path, master_key, db_url=url, clock=ManualClock(NOW))
    yield h
    h.close()


def test_concurrent_guesses_cannot_slip_past_the_order_limit(hub: Any) -> None:
    guard = identity.VerifyGuard(hub)
    limit = guard.limits.per_order

    def guess(i: int) -> str:
        return guard.attempt("ORD-RACE-1", "cust-race", f"10.9.0.{i}", "4821", f"{i:04d}").result

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = Counter(pool.map(guess, range(40)))
    assert results == {identity.WRONG: limit, identity.LOCKED: 40 - limit}, results
    right = guard.attempt("ORD-RACE-1", "cust-race", "10.9.1.1", "4821", "4821")
    assert right.result == identity.LOCKED and right.until is not None
    # The customer's other orders share the lock (the same four digits protect them).
    assert guard.attempt("ORD-RACE-2", "cust-race", "10.9.1.2", "4821", "4821").result == identity.LOCKED
    audited = [e for e in audit_log_of(hub).entries(limit=20) if e["action"] == "chat.verify_locked"]
    assert sorted(e["target"] for e in audited) == ["customer:cust-race", "order:ORD-RACE-1"]
    assert audit_log_of(hub).verify().ok
    hub.clock.advance(right.until - hub.clock.now() + timedelta(seconds=1))
    assert guard.attempt("ORD-RACE-1", "cust-race", "10.9.1.1", "4821", "4821").result == identity.OK
    # The counter table holds no client address in clear.
    with hub.db.read() as conn:
        keys = [r.key for r in conn.execute(sa.select(ct.chat_verify_guard)) if r.scope == "ip"]
    assert keys and not any("10.9." in k for k in keys)


def test_a_success_does_not_reset_a_lock_but_resets_the_count_otherwise(hub: Any) -> None:
    guard = identity.VerifyGuard(
        hub, identity.Limits(per_order=3, per_customer=3, per_ip=100, lock_minutes=10)
    )
    for i in range(2):
        assert guard.attempt("O-1", "c-1", f"10.8.0.{i}", "1234", "0000").result == identity.WRONG
    assert guard.attempt("O-1", "c-1", "10.8.1.1", "1234", "1234").result == identity.OK  # forgives the 2
    for i in range(2):
        assert guard.attempt("O-1", "c-1", f"10.8.2.{i}", "1234", "0000").result == identity.WRONG
    assert guard.attempt("O-1", "c-1", "10.8.3.1", "1234", "0000").result == identity.WRONG  # 3rd: locks
    assert guard.attempt("O-1", "c-1", "10.8.3.2", "1234", "1234").result == identity.LOCKED
    hub.clock.advance(timedelta(minutes=11))
    assert guard.attempt("O-1", "c-1", "10.8.3.3", "1234", "1234").result == identity.OK


def test_stale_counters_are_forgotten_by_the_retention_run_but_locks_stay(hub: Any) -> None:
    guard = identity.VerifyGuard(
        hub, identity.Limits(per_order=2, per_customer=2, per_ip=100, lock_minutes=60)
    )
    guard.attempt("O-OLD", None, "10.7.0.1", "1234", "0000")
    for i in range(2):
        guard.attempt("O-LOCKED", None, f"10.7.1.{i}", "1234", "0000")
    hub.clock.advance(timedelta(days=8))
    guard.attempt("O-LOCKED", None, "10.7.2.1", "1234", "0000")
    guard.attempt("O-LOCKED", None, "10.7.2.2", "1234", "0000")  # a fresh lock, 8 days later
    hub.customer_files.purge_expired(hub.clock.now())
    with hub.db.read() as conn:
        left = {(r.scope, r.key) for r in conn.execute(sa.select(ct.chat_verify_guard))}
    assert ("order", "O-OLD") not in left and ("order", "O-LOCKED") in left
    assert guard.attempt("O-LOCKED", None, "10.7.3.1", "1234", "1234").result == identity.LOCKED
