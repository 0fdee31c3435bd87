"""Refunds against what was paid, on a real SQLite hub: never more than paid, never twice; rows follow the
outcome; and the whole way out to a local Toss server (one cancel, one Idempotency-Key, a 500 survived)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.payments import tables as pt
from deliveryhub.service_layer.ports import RefundAsk
from dh_testkit import drain, event, make_hub, order_created
from providers.toss_server import TossState

AT = "2026-12-01T10:00:00+09:00"
CUSTOMER = {"name": "김민지", "phone": "010-1234-5678"}


def paid(hub: Any, order_id: str, amount: int, payment_key: str | None = "pk_test_1") -> None:
    """An order created and paid (with the provider's payment key), drained."""
    data: dict[str, Any] = {"amount": amount, "method": "card"}
    if payment_key:
        data.update(payment_key=payment_key, provider="tosspayments")
    results = hub.ingest.ingest(
        [
            order_created(f"c-{order_id}", order_id, AT, CUSTOMER, total=amount),
            event(f"p-{order_id}", "order.paid", order_id, AT, data),
        ]
    )
    assert [r.status for r in results] == ["accepted", "accepted"]
    drain(hub)


def ask(hub: Any, order_id: str, amount: int, key: str, cause: str = "return", **kw: Any) -> Any:
    with hub.db.write() as conn:
        return hub.refunds.request_refund(
            conn,
            RefundAsk(order_id, amount, cause, key, kw.pop("reason", "반품 환불"), **kw),  # type: ignore[arg-type]
        )


def refundable(hub: Any, order_id: str) -> int:
    with hub.db.read() as conn:
        return int(hub.refunds.refundable(conn, order_id))


def refund_rows(hub: Any, order_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(pt.refunds).where(pt.refunds.c.order_id == order_id)).all()
    return {r.key: r for r in rows}


def test_the_payment_is_recorded_from_order_paid(hub: Any) -> None:
    paid(hub, "ORD-1", 30000)
    assert refundable(hub, "ORD-1") == 30000
    with hub.db.read() as conn:
        row = conn.execute(sa.select(pt.payments)).one()
        section = hub.order_sections["payment"](conn, "ORD-1", None)
    assert (row.payment_key, row.provider, row.amount) == ("pk_test_1", "tosspayments", 30000)
    assert section["paid"] == 30000 and section["refundable"] == 30000 and section["refunds"] == []


def test_never_more_than_paid_and_never_twice(hub: Any) -> None:
    paid(hub, "ORD-2", 30000)
    first = ask(hub, "ORD-2", 20000, "refund:return:RT-1", return_id="RT-1")
    assert (first.ok, first.code, first.amount, first.refundable) == (True, "queued", 20000, 10000)
    again = ask(hub, "ORD-2", 20000, "refund:return:RT-1", return_id="RT-1")
    assert (again.ok, again.code) == (False, "duplicate")
    over = ask(hub, "ORD-2", 15000, "refund:comp:EV-9", cause="compensation")
    assert (over.ok, over.code, over.refundable) == (False, "over_refund", 10000)
    rest = ask(hub, "ORD-2", 10000, "refund:comp:EV-10", cause="compensation")
    assert (rest.ok, rest.code, rest.refundable) == (True, "queued", 0)
    assert refundable(hub, "ORD-2") == 0
    rows = refund_rows(hub, "ORD-2")
    assert sorted(rows) == ["refund:comp:EV-10", "refund:return:RT-1"]
    assert {r.status for r in rows.values()} == {"pending"}
    with hub.db.read() as conn:
        state = hub.outside.state(conn, "refund:return:RT-1")
    assert state is not None and state.status == "pending"  # queued on the ledger in the same transaction


def test_nothing_paid_no_key_and_non_positive_amounts(hub: Any) -> None:
    assert ask(hub, "ORD-NONE", 1000, "refund:cancel:ORD-NONE", cause="cancel").code == "nothing_paid"
    paid(hub, "ORD-3", 5000, payment_key=None)
    assert ask(hub, "ORD-3", 1000, "refund:cancel:ORD-3", cause="cancel").code == "no_payment_key"
    paid(hub, "ORD-4", 5000)
    assert ask(hub, "ORD-4", 0, "refund:cancel:ORD-4", cause="cancel").code == "nothing_paid"
    assert refund_rows(hub, "ORD-3") == {} and refund_rows(hub, "ORD-4") == {}


def test_rows_follow_the_outcome_done_and_failed(hub: Any) -> None:
    paid(hub, "ORD-5", 30000)
    assert ask(hub, "ORD-5", 10000, "refund:return:RT-5", return_id="RT-5").ok
    assert ask(hub, "ORD-5", 5000, "refund:comp:EV-5", cause="compensation").ok
    done = event(
        "act:refund:return:RT-5",
        "return.refunded",
        "ORD-5",
        AT,
        {"amount": 10000, "return_id": "RT-5", "cause": "return", "refund_id": "TX-1"},
        source="deliveryhub",
    )
    failed = event(
        "actfail:refund:comp:EV-5",
        "action.failed",
        "ORD-5",
        AT,
        {"system": "payments", "action": "refund", "key": "refund:comp:EV-5", "message": "NOT_CANCELABLE"},
        source="deliveryhub",
    )
    hub.ingest.ingest([done, failed])
    drain(hub)
    rows = refund_rows(hub, "ORD-5")
    assert (rows["refund:return:RT-5"].status, rows["refund:return:RT-5"].refund_id) == ("done", "TX-1")
    assert rows["refund:comp:EV-5"].status == "failed"
    assert refundable(hub, "ORD-5") == 20000  # the failed 5,000 may be asked again, under a new key
    assert ask(hub, "ORD-5", 5000, "refund:comp:EV-5", cause="compensation").code == "duplicate"


def test_a_refund_reported_elsewhere_counts_against_the_payment(hub: Any) -> None:
    paid(hub, "ORD-6", 30000)
    hub.ingest.ingest(
        [
            event(
                "nv-1",
                "payment.refunded",
                "ORD-6",
                AT,
                {"amount": 12000, "refund_id": "NV-R-1"},
                source="naver",
            )
        ]
    )
    drain(hub)
    assert refundable(hub, "ORD-6") == 18000
    assert ask(hub, "ORD-6", 20000, "refund:return:RT-6").code == "over_refund"


def test_refund_reaches_toss_once_even_when_it_answers_500(hub: Any, toss: TossState) -> None:
    key = toss.add_payment("ORD-7", 30000)
    paid(hub, "ORD-7", 30000, payment_key=key)
    assert ask(hub, "ORD-7", 12000, "refund:return:RT-7", return_id="RT-7").ok
    toss.fail_next(500, after=True)  # Toss cancels, but the answer is lost
    now = datetime.now(UTC)
    assert hub.effects.driver.run(now) == 1
    assert toss.cancels(key) and len(toss.cancels(key)) == 1
    assert refund_rows(hub, "ORD-7")["refund:return:RT-7"].status == "pending"
    hub.effects.driver.run(now + timedelta(hours=1))  # the retry, past any backoff
    drain(hub)
    cancels = toss.cancels(key)
    assert len(cancels) == 1 and cancels[0]["cancelAmount"] == 12000
    posts = toss.calls("POST", "/cancel")
    assert len(posts) == 2 and {p.idempotency_key for p in posts} == {"refund:return:RT-7"}
    assert all(p.auth_ok for p in posts)
    row = refund_rows(hub, "ORD-7")["refund:return:RT-7"]
    assert (row.status, row.refund_id) == ("done", cancels[0]["transactionKey"])
    assert toss.payment(key)["balanceAmount"] == 18000
    assert refundable(hub, "ORD-7") == 18000


def test_toss_refusal_marks_the_refund_failed(hub: Any, toss: TossState) -> None:
    key = toss.add_payment("ORD-8", 10000)
    paid(hub, "ORD-8", 30000, payment_key=key)  # the hub believes more was paid than Toss holds
    assert ask(hub, "ORD-8", 20000, "refund:return:RT-8").ok
    hub.effects.driver.run(datetime.now(UTC))
    drain(hub)
    row = refund_rows(hub, "ORD-8")["refund:return:RT-8"]
    assert row.status == "failed" and "NOT_CANCELABLE_AMOUNT" in (row.message or "")
    assert toss.cancels(key) == []
    assert toss.secret_key not in (row.message or "")


def test_a_restart_between_the_lost_answer_and_the_retry_still_cancels_once(
    tmp_path: Path, master_key: str, toss: TossState
) -> None:
    first = make_hub(tmp_path, master_key)
    key = toss.add_payment("ORD-9", 40000)
    try:
        paid(first, "ORD-9", 40000, payment_key=key)
        assert ask(first, "ORD-9", 40000, "refund:cancel:ORD-9", cause="cancel", reason="주문 취소").ok
        toss.fail_next(500, after=True)
        first.effects.driver.run(datetime.now(UTC))
    finally:
        first.close()
    second = make_hub(tmp_path, master_key)  # the hub restarts on the same database
    try:
        second.effects.driver.run(datetime.now(UTC) + timedelta(hours=1))
        drain(second)
        assert len(toss.cancels(key)) == 1 and toss.payment(key)["status"] == "CANCELED"
        assert {p.idempotency_key for p in toss.calls("POST", "/cancel")} == {"refund:cancel:ORD-9"}
        row = refund_rows(second, "ORD-9")["refund:cancel:ORD-9"]
        assert row.status == "done" and row.cause == "cancel"
        assert refundable(second, "ORD-9") == 0
        assert ask(second, "ORD-9", 1, "refund:comp:late", cause="compensation").code == "over_refund"
    finally:
        second.close()


def test_a_refund_asked_before_the_consumer_ran_sees_the_payment_and_other_refunds(hub: Any) -> None:
    hub.ingest.ingest(
        [
            order_created("c-10", "ORD-10", AT, CUSTOMER, total=30000),
            event("p-10", "order.paid", "ORD-10", AT, {"amount": 30000, "payment_key": "pk_10"}),
            event(
                "nv-10",
                "payment.refunded",
                "ORD-10",
                AT,
                {"amount": 4000, "refund_id": "NV-10"},
                source="naver",
            ),
        ]
    )  # not drained: the payments consumer has not seen any of it
    assert refundable(hub, "ORD-10") == 26000
    assert ask(hub, "ORD-10", 26001, "refund:comp:E-10", cause="compensation").code == "over_refund"
    assert ask(hub, "ORD-10", 26000, "refund:return:RT-10").ok
    drain(hub)  # the consumer catches up and adds nothing twice
    assert refundable(hub, "ORD-10") == 0
    assert sorted(refund_rows(hub, "ORD-10")) == ["refund:event:nv-10", "refund:return:RT-10"]


def test_cancel_right_after_payment_refunds_what_was_paid(hub: Any, toss: TossState) -> None:
    key = toss.add_payment("ORD-11", 21000)
    hub.ingest.ingest(
        [
            order_created("c-11", "ORD-11", AT, CUSTOMER, total=21000),
            event("p-11", "order.paid", "ORD-11", AT, {"amount": 21000, "payment_key": key}),
            event("x-11", "order.cancelled", "ORD-11", "2026-12-01T10:05:00+09:00", {"reason": "단순 변심"}),
        ]
    )
    drain(hub)  # one round: the reactions consumer may run before the payments consumer
    rows = refund_rows(hub, "ORD-11")
    assert list(rows) == ["refund:cancel:ORD-11"] and rows["refund:cancel:ORD-11"].amount == 21000
    hub.effects.driver.run(datetime.now(UTC))
    drain(hub)
    assert toss.payment(key)["status"] == "CANCELED"
    assert refund_rows(hub, "ORD-11")["refund:cancel:ORD-11"].status == "done"
