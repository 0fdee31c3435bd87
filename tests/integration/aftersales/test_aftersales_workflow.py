"""The returns workflow on a real hub (SQLite, PostgreSQL) with a pinned clock: a return from request
to refund, an exchange to completion, a marketplace's own claim, replays that do nothing twice, the SLA
job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.aftersales import store
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import ReturnAsk
from dh_testkit import drain, event, handed_over, make_hub, order_created, waybill

KST = ZoneInfo("Asia/Seoul")
DELIVERED = datetime(2026, 3, 2, 15, 0, tzinfo=KST)  # Monday
ITEMS = [{"sku": "A", "qty": 2, "price": 20000}, {"sku": "B", "qty": 1, "price": 5000}]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 5, 10, 0, tzinfo=KST))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path, master_key: str, clock: ManualClock) -> Iterator[Any]:
    db_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    h = make_hub(tmp_path, master_key, db_url=db_url, clock=clock)
    try:
        yield h
    finally:
        h.close()


def _ok(hub: Any, raws: list[dict[str, Any]]) -> None:
    for res in hub.ingest.ingest(raws):
        assert res.status in ("accepted", "duplicate"), res


def delivered_order(hub: Any, order_id: str, source: str = "oms", **data: Any) -> None:
    """A paid order delivered on DELIVERED."""
    t0 = DELIVERED - timedelta(days=3)
    _ok(
        hub,
        [
            order_created(
                f"{order_id}-c",
                order_id,
                t0.isoformat(),
                {"phone": "010-1234-5678", "name": "김고객"},
                items=ITEMS,
                source=source,
                **data,
            ),
            event(
                f"{order_id}-p",
                "order.paid",
                order_id,
                t0.isoformat(),
                {"amount": 45000, "method": "card", "payment_key": f"pk_{order_id}", "provider": "toss"},
                source=source,
            ),
            waybill(
                f"{order_id}-w", order_id, (t0 + timedelta(days=1)).isoformat(), "cj", f"6{order_id[-3:]}001"
            ),
            handed_over(f"{order_id}-h", order_id, (t0 + timedelta(days=1, hours=2)).isoformat(), "cj"),
            event(
                f"{order_id}-d",
                "shipment.delivered",
                order_id,
                DELIVERED.isoformat(),
                {},
                source="carrier:cj",
                shipment_id="P1",
            ),
        ],
    )
    drain(hub)


def row(hub: Any, return_id: str) -> Any:
    with hub.db.read() as conn:
        found = store.get(conn, return_id)
    assert found is not None
    return found


def step(
    hub: Any, event_id: str, type_: str, order_id: str, data: dict[str, Any], source: str = "wms"
) -> None:
    _ok(hub, [event(event_id, type_, order_id, hub.clock.now().isoformat(), data, source=source)])
    drain(hub)


def templates(hub: Any, order_id: str) -> list[str]:
    """The customer notices queued for the order's after-sales steps."""
    from deliveryhub.notifications.tables import notification_jobs as jobs  # noqa: PLC0415

    with hub.db.read() as conn:
        found = conn.execute(
            sa.select(jobs.c.template).where(jobs.c.order_id == order_id, jobs.c.audience == "customer")
        ).scalars()
        return sorted(t for t in found if t.startswith(("return_", "exchange_")))


def action(hub: Any, key: str) -> Any:
    with hub.db.read() as conn:
        return hub.outside.state(conn, key)


def test_return_from_request_to_refund_once(hub: Any, clock: ManualClock) -> None:
    delivered_order(hub, "ORD-R1")
    asked = hub.returns.open(ReturnAsk("ORD-R1", "return", "단순 변심이에요", None, [], "chatbot"))
    assert asked.ok and asked.code == "opened", asked
    assert asked.fee == 6000 and asked.fee_payer == "customer"  # 45,000원 of goods: shipped free
    rid = str(asked.return_id)
    drain(hub)
    r = row(hub, rid)
    assert r.status == "requested" and r.reason_code == "change_of_mind" and r.source == "chatbot"
    assert r.due_at is not None
    pickup = action(hub, f"pickup:{rid}")  # queued once in the ledger, sent by the effects driver
    assert pickup is not None and pickup.status == "pending"

    # asking again answers the open return instead of opening a second one
    again = hub.returns.open(ReturnAsk("ORD-R1", "return", "단순 변심", None, [], "chatbot"))
    assert again.code == "already_open" and again.return_id == rid

    clock.advance(timedelta(hours=3))
    booked = {"return_id": rid, "carrier": "cj", "tracking_no": "R0001", "via": "carrier", "ref": "PU-1"}
    step(hub, f"act:pickup:{rid}", "return.pickup_booked", "ORD-R1", booked, source="hub")
    assert row(hub, rid).status == "pickup_booked" and row(hub, rid).return_tracking_no == "R0001"

    clock.advance(timedelta(days=1))
    step(hub, "cj-r-1", "return.picked_up", "ORD-R1", {"tracking_no": "R0001"}, source="carrier:cj")
    assert row(hub, rid).status == "picked_up"  # matched by the order: no return_id in the carrier's event

    clock.advance(timedelta(days=1))
    received = hub.returns.receive(rid, "cs:agent1")
    assert received.ok and received.status == "received"

    inspected = hub.returns.inspect(rid, "pass", "이상 없음", "cs:agent1", photo_id="ph-1")
    assert inspected.ok and inspected.status == "inspected", inspected
    r = row(hub, rid)
    assert r.inspection_result == "pass" and r.inspected_by == "cs:agent1" and r.inspection_photo_id == "ph-1"
    assert r.refund_amount == 45000 - 6000
    refund_state = r.refund_status
    assert refund_state == "queued" and action(hub, f"refund:return:{rid}") is not None

    # replays: the inspection again, the consumer, a second desk call — nothing happens twice
    drain(hub)
    assert hub.returns.inspect(rid, "pass", None, "cs:agent2").code == "already_inspected"
    assert hub.returns.inspect(rid, "fail", None, "cs:agent2").ok is False
    with hub.db.write() as conn:
        hub.aftersales.workflow.apply(
            conn,
            event(
                f"inspected:{rid}",
                "return.inspected",
                "ORD-R1",
                clock.now().isoformat(),
                {"return_id": rid, "result": "pass"},
                source="cs",
            ),
        )
    assert row(hub, rid).refund_status == refund_state and row(hub, rid).inspected_by == "cs:agent1"
    from deliveryhub.payments.tables import refunds as refund_rows  # noqa: PLC0415

    with hub.db.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(refund_rows)).scalar()
    assert n == 1

    clock.advance(timedelta(days=1))
    done = {"return_id": rid, "amount": 39000, "cause": "return", "refund_id": "rf-1", "ref": "rf-1"}
    step(hub, f"act:refund:return:{rid}", "return.refunded", "ORD-R1", done, source="hub")
    step(hub, f"act:refund:return:{rid}", "return.refunded", "ORD-R1", done, source="hub")  # duplicate
    r = row(hub, rid)
    assert r.status == "refunded" and r.refund_amount == 39000 and r.refund_status == "done"
    assert r.due_at is None

    # a late picked_up changes nothing
    step(hub, "cj-r-late", "return.picked_up", "ORD-R1", {"return_id": rid, "tracking_no": "R0001"})
    assert row(hub, rid).status == "refunded"

    detail = hub.aftersales.get_return(rid)
    assert [s["step"] for s in detail["steps"]] == [
        "requested",
        "pickup_booked",
        "picked_up",
        "received",
        "inspected",
        "refunded",
    ]

    # the customer was told at each step (one notice per step, replays included)
    assert templates(hub, "ORD-R1") == sorted(
        [
            "return_pickup_booked",
            "return_picked_up",
            "return_received",
            "return_refunded",
            "return_requested",
        ]
    )

    # both KPIs read the workflow's events
    from deliveryhub.kpi.engine import KpiEngine  # noqa: PLC0415

    res = KpiEngine(hub.db, now=hub.clock.now).compute(
        "2026-03-01",
        "2026-03-31",
        "month",
        None,
        "Asia/Seoul",
        kpis=["return_processing_days", "return_rate"],
    )
    days = res["kpis"]["return_processing_days"]["value"]
    assert days is not None and 3.0 < days < 3.3, res["kpis"]["return_processing_days"]
    assert res["kpis"]["return_rate"]["value"] == 1.0


def test_exchange_reships_and_completes(hub: Any, clock: ManualClock) -> None:
    delivered_order(hub, "ORD-X1")
    clock.set(DELIVERED + timedelta(days=20))  # past the 7 days: only a shop-fault exchange is open
    late = hub.returns.open(ReturnAsk("ORD-X1", "exchange", "사이즈가 안 맞아요", None, [], "cs:agent1"))
    assert not late.ok and late.code == "window_passed"
    opened = hub.returns.open(ReturnAsk("ORD-X1", "exchange", "불량이에요", None, ["B"], "cs:agent1"))
    assert opened.ok and opened.fee == 0 and opened.fee_payer == "shop"
    rid = str(opened.return_id)
    assert rid.startswith("EX-")
    r = row(hub, rid)
    assert r.items == [{"sku": "B", "qty": 1, "price": 5000}] and r.source == "cs"
    step(hub, "wms-x-1", "return.received", "ORD-X1", {"return_id": rid})
    assert hub.returns.inspect(rid, "pass", None, "cs:agent1").ok
    reship = action(hub, f"reship:{rid}")
    assert reship is not None and reship.status == "pending"
    step(
        hub,
        f"act:reship:{rid}",
        "exchange.reshipped",
        "ORD-X1",
        {"return_id": rid, "carrier": "cj", "tracking_no": "X0009", "ref": "WMS-9"},
        source="hub",
    )
    assert row(hub, rid).status == "reshipped" and row(hub, rid).reship_tracking_no == "X0009"
    # the replacement parcel: its waybill, then the carrier delivers it two days later
    _ok(hub, [waybill("x-w2", "ORD-X1", clock.now().isoformat(), "cj", "X0009", shipment_id="P2")])
    clock.advance(timedelta(days=2))
    delivered = event(
        "x-d2",
        "shipment.delivered",
        "ORD-X1",
        clock.now().isoformat(),
        {},
        source="carrier:cj",
        shipment_id="P2",
    )
    _ok(hub, [delivered])
    drain(hub)
    assert row(hub, rid).status == "completed"  # exchange.completed recorded by the hub, once
    with hub.db.read() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.type == "exchange.completed")
        ).scalar()
    assert n == 1
    assert hub.aftersales.stalled(clock.now()) == 0  # the sweep finds nothing more to complete
    assert templates(hub, "ORD-X1") == sorted(
        [
            "exchange_completed",
            "exchange_requested",
            "exchange_reshipped",
            "return_received",
        ]
    )

    from deliveryhub.kpi.engine import KpiEngine  # noqa: PLC0415

    res = KpiEngine(hub.db, now=hub.clock.now).compute(
        "2026-03-01", "2026-03-31", "month", None, "Asia/Seoul", kpis=["exchange_completion_days"]
    )
    assert res["kpis"]["exchange_completion_days"]["value"] == pytest.approx(2.0, abs=0.01)


def test_failed_inspection_waits_for_ops(hub: Any) -> None:
    delivered_order(hub, "ORD-F1")
    rid = str(hub.returns.open(ReturnAsk("ORD-F1", "return", "파손", None, [], "chatbot")).return_id)
    assert hub.returns.inspect(rid, "pass", None, "cs:a").code == "not_received"
    step(hub, "wms-f-1", "return.received", "ORD-F1", {"return_id": rid})
    out = hub.returns.inspect(rid, "fail", "사용 흔적", "cs:a")
    assert out.ok and out.status == "inspection_failed"
    assert row(hub, rid).refund_status is None and action(hub, f"refund:return:{rid}") is None


def test_marketplace_claim_opens_a_row_once(hub: Any) -> None:
    delivered_order(hub, "ORD-N1", source="naver")
    claim = {"items": [{"sku": "A", "qty": 1}], "reason": "단순 변심", "receipt_id": "CLM-77"}
    step(hub, "naver:return:po-1", "return.requested", "ORD-N1", claim, source="naver")
    step(hub, "naver:return:po-1", "return.requested", "ORD-N1", claim, source="naver")  # replay
    with hub.db.read() as conn:
        rows = store.list_rows(conn, order_id="ORD-N1")
    assert len(rows) == 1
    r = rows[0]
    assert r.via == "naver" and r.reason_code == "change_of_mind" and r.marketplace_ref == "CLM-77"
    assert action(hub, f"pickup:{r.return_id}") is None  # the marketplace collects through its own claim
    step(hub, "naver:return:po-1:rcv", "return.received", "ORD-N1", {}, source="naver")
    assert row(hub, str(r.return_id)).status == "received"
    done = hub.returns.inspect(str(r.return_id), "pass", None, "cs:a")
    assert done.ok and done.status == "completed"  # the marketplace refunds the buyer itself
    assert row(hub, str(r.return_id)).refund_status == "marketplace"
    assert action(hub, f"refund:return:{r.return_id}") is None


def test_stalled_step_opens_one_exception(
    hub: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deliveryhub.monitors import config as mcfg  # noqa: PLC0415
    from deliveryhub.monitors import exceptions as mexc  # noqa: PLC0415
    from deliveryhub.monitors import read as mread  # noqa: PLC0415

    if "return_stalled" not in mcfg.EXCEPTION_TYPES:  # until the monitors list the type
        types = (*mcfg.EXCEPTION_TYPES, "return_stalled")
        for mod in (mcfg, mexc, mread):
            monkeypatch.setattr(mod, "EXCEPTION_TYPES", types)
    delivered_order(hub, "ORD-S1")
    clock.set(datetime(2026, 3, 6, 16, 0, tzinfo=KST))  # Friday afternoon
    rid = str(hub.returns.open(ReturnAsk("ORD-S1", "return", "파손", None, [], "chatbot")).return_id)
    r = row(hub, rid)
    # pickup booking is due by the close of the next business day: Monday 9 March 18:00
    assert r.due_at.astimezone(KST) == datetime(2026, 3, 9, 18, 0, tzinfo=KST)
    clock.set(datetime(2026, 3, 9, 17, 59, tzinfo=KST))
    assert hub.aftersales.stalled(clock.now()) == 0
    clock.set(datetime(2026, 3, 9, 18, 1, tzinfo=KST))
    assert hub.aftersales.stalled(clock.now()) == 1
    assert hub.aftersales.stalled(clock.now()) == 0  # once per step
    from deliveryhub.monitors.tables import exceptions  # noqa: PLC0415

    with hub.db.read() as conn:
        found = conn.execute(sa.select(exceptions.c.type, exceptions.c.order_id, exceptions.c.evidence)).all()
    stalled = [f for f in found if f.type == "return_stalled"]
    assert len(stalled) == 1 and stalled[0].order_id == "ORD-S1"
    assert stalled[0].evidence["return_id"] == rid and stalled[0].evidence["waiting_for"] == "pickup_booked"
    # the next step moves the deadline on; a stall there is reported again
    step(hub, f"act:pickup:{rid}", "return.pickup_booked", "ORD-S1", {"return_id": rid}, source="hub")
    assert row(hub, rid).stalled_step == "requested" and row(hub, rid).status == "pickup_booked"


def test_policy_from_the_config_file(tmp_path: Path, master_key: str) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "returns:\n  window_days: 14\n  fee_change_of_mind_free_shipping: 5000\n", encoding="utf-8"
    )
    clock = ManualClock(DELIVERED + timedelta(days=10))
    h = make_hub(tmp_path, master_key, clock=clock, config_file=str(cfg))
    try:
        delivered_order(h, "ORD-C1")
        quote = h.returns.quote("ORD-C1", "change_of_mind")
        assert quote.ok and quote.fee == 5000  # day 10 is inside this shop's 14 days
        assert h.aftersales.policy().window_days == 14
        # The FAQ the bot answers from says this shop's fee too, not the default.
        faq = next(e for e in h.chat.chat.faq_entries() if e.key == "return_fee")
        assert "주문이면 왕복 배송비 5,000원" in faq.answer_ko
    finally:
        h.close()
