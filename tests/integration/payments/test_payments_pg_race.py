"""On PostgreSQL two concurrent refund asks for one order cannot both pass: the payment row is locked."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.service_layer.ports import RefundAsk
from dh_testkit import drain, event, make_hub, order_created

pytestmark = pytest.mark.postgres

AT = "2026-12-01T10:00:00+09:00"


@pytest.fixture
def hub(tmp_path: Path, master_key: str, pg_url: str) -> Any:
    h = make_hub(tmp_path, master_key, db_url=pg_url)
    h.ingest.ingest(
        [
            order_created("c-1", "ORD-PG", AT, {"name": "박지훈", "phone": "010-5555-6666"}, total=30000),
            event("p-1", "order.paid", "ORD-PG", AT, {"amount": 30000, "payment_key": "pk_pg_1"}),
        ]
    )
    drain(h)
    yield h
    h.close()


def _waiting_on_a_lock(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_the_second_ask_waits_for_the_first_and_is_over(hub: Any, pg_url: str) -> None:
    decisions: dict[str, Any] = {}
    a_asked, a_may_commit, b_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with hub.db.write() as conn:
            decisions["a"] = hub.refunds.request_refund(
                conn, RefundAsk("ORD-PG", 20000, "return", "refund:A", "A")
            )
            a_asked.set()
            a_may_commit.wait(120)

    def second() -> None:
        a_asked.wait(120)
        with hub.db.write() as conn:
            decisions["b"] = hub.refunds.request_refund(
                conn, RefundAsk("ORD-PG", 20000, "compensation", "refund:B", "B")
            )
        b_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for th in threads:
        th.start()
    a_asked.wait(120)
    # Let A commit once B is blocked on the payment row (or, without the lock, once B has finished).
    deadline = time.monotonic() + 120
    while not b_done.is_set() and not _waiting_on_a_lock(pg_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    a_may_commit.set()
    for th in threads:
        th.join(120)
    assert (decisions["a"].ok, decisions["a"].code) == (True, "queued")
    assert (decisions["b"].ok, decisions["b"].code, decisions["b"].refundable) == (
        False,
        "over_refund",
        10000,
    )
    with hub.db.read() as conn:
        assert hub.refunds.refundable(conn, "ORD-PG") == 10000


def test_many_concurrent_asks_never_exceed_what_was_paid(hub: Any) -> None:
    start = threading.Barrier(8)
    decisions: list[Any] = []
    lock = threading.Lock()

    def ask(n: int) -> None:
        start.wait(60)
        with hub.db.write() as conn:
            d = hub.refunds.request_refund(
                conn, RefundAsk("ORD-PG", 7000, "compensation", f"refund:c:{n}", "c")
            )
        with lock:
            decisions.append(d)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    queued = [d for d in decisions if d.ok]
    assert len(decisions) == 8 and len(queued) == 4  # 4 × 7,000 ≤ 30,000 < 5 × 7,000
    assert {d.code for d in decisions if not d.ok} == {"over_refund"}
    with hub.db.read() as conn:
        assert hub.refunds.refundable(conn, "ORD-PG") == 2000
