"""Each event- and time-driven monitor through the real database: hub.ingest → drain → run_all_monitors
on a ManualClock. The faulty order gets exactly one open exception of the right type, the healthy control
order none, and the exception resolves itself when the awaited event arrives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from monitors_helpers import all_exceptions, ingest_ok, monitor_hub

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors.service import run_all_monitors
from deliveryhub.monitors.tables import compensations
from dh_testkit import drain, event, handed_over, tracking, waybill

KST = ZoneInfo("Asia/Seoul")
DAY = datetime(2026, 11, 24, 9, 0, tzinfo=KST)  # a Tuesday, no holiday


def at(hours: float) -> datetime:
    """DAY 09:00 plus `hours`."""
    return DAY + timedelta(hours=hours)


def tn_of(oid: str) -> str:
    return "6" + "".join(str(ord(c) % 10) for c in oid).rjust(11, "0")[-11:]


def created(oid: str, *, customer: str | None = None, promised: str = "2026-11-27", **data: Any) -> dict:
    body = {
        "customer": {"external_id": customer or f"cust-{oid}"},
        "items": [{"sku": "SKU-A", "qty": 1}],
        "total": 19900,
        "channel": "smartstore",
        "warehouse": "icheon",
        "region": "서울",
        "promised_delivery_date": promised,
        **data,
    }
    return event(f"{oid}-c", "order.created", oid, at(0).isoformat(), body)


def through(oid: str, last: str, **kw: Any) -> list[dict]:
    """A healthy order's events up to and including stage `last` (paid 09:00 → delivered next day)."""
    tn = tn_of(oid)
    steps: list[tuple[str, dict]] = [
        ("created", created(oid, **kw)),
        ("paid", event(f"{oid}-p", "order.paid", oid, at(0).isoformat(), {"amount": 19900})),
        (
            "reserved",
            event(
                f"{oid}-r",
                "inventory.reserved",
                oid,
                at(0.2).isoformat(),
                {"items": [{"sku": "SKU-A", "qty": 1}]},
                source="wms",
            ),
        ),
        ("packed", event(f"{oid}-k", "fulfillment.packed", oid, at(1).isoformat(), {}, source="wms")),
        (
            "waybill",
            waybill(f"{oid}-w", oid, at(1.3).isoformat(), "cj", tn, shipment_id=tn),
        ),
        (
            "handed_over",
            handed_over(f"{oid}-h", oid, at(6).isoformat(), "cj", shipment_id=tn),
        ),
        (
            "in_transit",
            tracking(f"{oid}-t", oid, at(11).isoformat(), "cj", shipment_id=tn, status="in_transit"),
        ),
        ("delivered", delivered(oid, at(28))),
    ]
    out = []
    for name, ev in steps:
        out.append(ev)
        if name == last:
            return out
    raise AssertionError(last)


def delivered(oid: str, when: datetime) -> dict:
    tn = tn_of(oid)
    return event(
        f"{oid}-d", "shipment.delivered", oid, when.isoformat(), {}, source="carrier:cj", shipment_id=tn
    )


def step(hub: Any, clock: ManualClock, when: datetime, events: list[dict] | None = None) -> None:
    """Move the clock, ingest, let the consumers run, evaluate every monitor."""
    clock.set(when)
    if events:
        ingest_ok(hub, events)
    drain(hub)
    run_all_monitors(hub.monitors)
    drain(hub)


def by_subject(hub: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in all_exceptions(hub):
        out.setdefault(r.subject, []).append(r)
    return out


def only_open(rows: list[Any], type_: str) -> Any:
    """The one exception on a subject: of `type_` and still open."""
    assert [(r.type, r.status) for r in rows] == [(type_, "open")], [(r.type, r.status) for r in rows]
    return rows[0]


def test_stock_shortage_and_pick_error_open_on_events_and_resolve(new_hub):
    clock = ManualClock(at(0))
    hub = new_hub(clock)
    step(
        hub,
        clock,
        at(0.1),
        through("SHORT1", "paid") + through("PICK1", "reserved") + through("OK1", "reserved"),
    )
    step(
        hub,
        clock,
        at(0.3),
        [
            event(
                "SHORT1-s",
                "inventory.shortage",
                "SHORT1",
                at(0.2).isoformat(),
                {"sku": "SKU-A", "requested": 1, "available": 0},
                source="wms",
            ),
            event(
                "PICK1-e",
                "fulfillment.pick_error",
                "PICK1",
                at(0.3).isoformat(),
                {"expected_sku": "SKU-A", "scanned_sku": "SKU-B"},
                source="wms",
            ),
        ],
    )
    found = by_subject(hub)
    assert set(found) == {"SHORT1", "PICK1"}
    short = only_open(found["SHORT1"], "stock_shortage")
    assert short.evidence["sku"] == "SKU-A" and short.evidence["available"] == 0
    pick = only_open(found["PICK1"], "pick_error")
    assert pick.evidence["scanned_sku"] == "SKU-B"
    # Restocked and reserved / re-picked and packed: both resolve themselves.
    step(
        hub,
        clock,
        at(0.6),
        [
            event(
                "SHORT1-r",
                "inventory.reserved",
                "SHORT1",
                at(0.5).isoformat(),
                {"items": [{"sku": "SKU-A", "qty": 1}]},
                source="wms",
            ),
            event("PICK1-k", "fulfillment.packed", "PICK1", at(0.6).isoformat(), {}, source="wms"),
        ],
    )
    after = by_subject(hub)
    assert [(r.status, r.resolution) for r in after["SHORT1"]] == [("resolved", "auto:inventory.reserved")]
    assert [(r.status, r.resolution) for r in after["PICK1"]] == [("resolved", "auto:fulfillment.packed")]


def test_inventory_mismatch_compares_the_count_with_system_stock(tmp_path, master_key):
    clock = ManualClock(at(0))
    hub = monitor_hub(tmp_path, master_key, clock)

    def snapshot(n: int, when: datetime, counts: dict[str, int]) -> dict:
        return event(
            f"snap-{n}",
            "inventory.snapshot",
            None,
            when.isoformat(),
            {"warehouse": "icheon", "counts": counts},
            source="wms",
        )

    try:
        # First count sets system stock; two reservations of SKU-A then take it from 10 to 8.
        step(hub, clock, at(-1), [snapshot(1, at(-1), {"SKU-A": 10, "SKU-B": 5})])
        step(hub, clock, at(0.5), through("INV1", "reserved") + through("INV2", "reserved"))
        # Recount: SKU-A matches (8), SKU-B is one short (4 counted, 5 in the system).
        step(hub, clock, at(3), [snapshot(2, at(3), {"SKU-A": 8, "SKU-B": 4})])
        found = by_subject(hub)
        assert set(found) == {"icheon:SKU-B"}, found
        exc = only_open(found["icheon:SKU-B"], "inventory_mismatch")
        assert (exc.evidence["counted"], exc.evidence["system"], exc.evidence["difference"]) == (4, 5, -1)
        assert exc.order_id is None and exc.warehouse == "icheon"
        # The recount became the system stock: the next matching count resolves it.
        step(hub, clock, at(6), [snapshot(3, at(6), {"SKU-A": 8, "SKU-B": 4})])
        (row,) = by_subject(hub)["icheon:SKU-B"]
        assert (row.status, row.resolution) == ("resolved", "auto:inventory.snapshot")
    finally:
        hub.close()


def test_duplicate_order_flags_the_second_purchase_only(new_hub):
    clock = ManualClock(at(0))
    hub = new_hub(clock)
    step(hub, clock, at(0), [created("DUP1", customer="kim")])
    # Same customer, same items and total, 10 minutes later: the duplicate. Same customer with other
    # items, and another customer with the same items: healthy.
    second = created("DUP2", customer="kim")
    second["occurred_at"] = at(10 / 60).isoformat()
    other_items = created("DUP3", customer="kim", items=[{"sku": "SKU-Z", "qty": 1}])
    other_items["occurred_at"] = at(12 / 60).isoformat()
    other_cust = created("DUP4", customer="lee")
    other_cust["occurred_at"] = at(11 / 60).isoformat()
    step(hub, clock, at(0.3), [second, other_items, other_cust])
    found = by_subject(hub)
    assert set(found) == {"DUP2"}, found
    exc = only_open(found["DUP2"], "duplicate_order")
    assert exc.evidence["duplicate_of"] == "DUP1" and exc.evidence["minutes_apart"] == 10.0
    # The shop cancels the duplicate: resolved.
    step(
        hub,
        clock,
        at(0.5),
        [event("DUP2-x", "order.cancelled", "DUP2", at(0.5).isoformat(), {"reason": "중복"})],
    )
    (row,) = by_subject(hub)["DUP2"]
    assert (row.status, row.resolution) == ("resolved", "auto:order.cancelled")


def test_delivery_failed_from_carrier_statuses_and_resolved_on_delivery(new_hub):
    clock = ManualClock(at(0))
    hub = new_hub(clock)
    orders = ("FAIL1", "FAIL2", "FAIL3", "OK1")
    step(hub, clock, at(12), [e for o in orders for e in through(o, "in_transit")])
    tracking = [
        ("FAIL1", {"status": "attempt_fail", "reason": "수취인 부재"}),
        ("FAIL2", {"status": "exception", "reason": "주소 불명"}),
        ("OK1", {"status": "out_for_delivery"}),
    ]
    evs = [
        event(
            f"{o}-f",
            "shipment.tracking",
            o,
            at(24).isoformat(),
            data,
            source="carrier:cj",
            shipment_id=tn_of(o),
        )
        for o, data in tracking
    ]
    evs.append(
        event(
            "FAIL3-f",
            "shipment.delivery_failed",
            "FAIL3",
            at(24).isoformat(),
            {"reason": "수취 거부"},
            source="carrier:cj",
            shipment_id=tn_of("FAIL3"),
        )
    )
    step(hub, clock, at(24.5), evs)
    found = by_subject(hub)
    assert set(found) == {"FAIL1", "FAIL2", "FAIL3"}, found
    assert only_open(found["FAIL1"], "delivery_failed").evidence["status"] == "attempt_fail"
    assert only_open(found["FAIL2"], "delivery_failed").evidence["reason"] == "주소 불명"
    assert only_open(found["FAIL3"], "delivery_failed").evidence["reason"] == "수취 거부"
    # The second attempt succeeds: resolved.
    step(hub, clock, at(30), [delivered("FAIL1", at(29)), delivered("OK1", at(29))])
    rows = by_subject(hub)
    assert [(r.status, r.resolution) for r in rows["FAIL1"]] == [("resolved", "auto:delivered")]
    assert "OK1" not in rows and [r.status for r in rows["FAIL2"]] == ["open"]


def test_delay_risk_from_the_predicted_window_and_delivery_delay_after_the_promise(tmp_path, master_key):
    clock = ManualClock(at(0))
    hub = monitor_hub(tmp_path, master_key, clock)

    def eta(oid: str, n: int, when: datetime, lo: datetime, hi: datetime) -> dict:
        return event(
            f"{oid}-eta{n}",
            "shipment.eta_updated",
            oid,
            when.isoformat(),
            {"eta_min": lo.isoformat(), "eta_max": hi.isoformat()},
            source="carrier:cj",
            shipment_id=tn_of(oid),
        )

    try:
        # Promised Wednesday 11-25 (end of day 24:00 KST = at(39)).
        kw = {"promised": "2026-11-25"}
        step(
            hub,
            clock,
            at(12),
            through("RISK1", "in_transit", **kw)
            + through("OK1", "in_transit", **kw)
            + through("LATE1", "in_transit", **kw)
            + through("OK2", "in_transit", **kw),
        )
        # The carrier predicts Thursday for RISK1 (after the promise), Wednesday afternoon for OK1.
        step(
            hub,
            clock,
            at(13),
            [eta("RISK1", 1, at(13), at(48), at(52)), eta("OK1", 1, at(13), at(29), at(31))],
        )
        found = by_subject(hub)
        assert set(found) == {"RISK1"}, found
        risk = only_open(found["RISK1"], "delay_risk")
        assert risk.evidence["late_probability"] == 1.0 and risk.evidence["promised_date"] == "2026-11-25"
        # A revised window inside the promise clears the risk.
        step(hub, clock, at(20), [eta("RISK1", 2, at(20), at(27), at(30))])
        assert [(r.status, r.resolution) for r in by_subject(hub)["RISK1"]] == [
            ("resolved", "auto:eta_within_promise")
        ]
        # Wednesday: RISK1, OK1 and OK2 are delivered; LATE1 is not. Just before midnight: nothing yet.
        step(hub, clock, at(30), [delivered(o, at(29)) for o in ("RISK1", "OK1", "OK2")])
        step(hub, clock, at(38.9))
        assert "LATE1" not in by_subject(hub)
        step(hub, clock, at(40))
        found = by_subject(hub)
        assert set(found) == {"RISK1", "LATE1"}, found
        late = only_open(found["LATE1"], "delivery_delay")
        assert late.evidence["promised_date"] == "2026-11-25" and late.due_at == at(39)
        # Delivered the next morning: resolved.
        step(hub, clock, at(49), [delivered("LATE1", at(48))])
        (row,) = by_subject(hub)["LATE1"]
        assert (row.status, row.resolution) == ("resolved", "auto:delivered")
    finally:
        hub.close()


def test_compensation_caps_per_order_and_per_day(tmp_path, master_key):
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        """compensation:
  approval_threshold: 100000
  caps: {per_order: 4000, per_day: 5000}
  rules:
    - {name: late_2d, trigger: delivery_delay, min_days_late: 2, kind: coupon, amount: 3000}
    - {name: late_3d, trigger: delivery_delay, min_days_late: 3, kind: points, amount: 3000}
""",
        encoding="utf-8",
    )
    clock = ManualClock(at(0))
    hub = monitor_hub(tmp_path, master_key, clock, config_file=cfg)
    try:
        kw = {"promised": "2026-11-24"}
        step(
            hub,
            clock,
            at(12),
            [e for o in ("CAP1", "CAP2", "ONTIME") for e in through(o, "in_transit", **kw)],
        )
        step(hub, clock, at(13), [delivered("ONTIME", at(12.5))])
        # Delivered three days late (Friday 11-27): both rules apply, the caps cut them.
        step(hub, clock, at(74), [delivered("CAP1", at(73))])
        step(hub, clock, at(75), [delivered("CAP2", at(74))])
        with hub.db.read() as conn:
            rows = conn.execute(sa.select(compensations).order_by(compensations.c.id)).all()
            issued = conn.execute(
                sa.select(t.inbox.c.order_id, t.inbox.c.data).where(t.inbox.c.type == "compensation.issued")
            ).all()
    finally:
        hub.close()
    got = [(r.order_id, r.rule, r.amount, r.status) for r in rows]
    assert got == [
        ("CAP1", "late_2d", 3000.0, "issued"),
        ("CAP1", "late_3d", 1000.0, "issued"),  # per order: 4,000
        ("CAP2", "late_2d", 1000.0, "issued"),  # per day: 5,000 − 4,000 already granted today
    ], got
    assert rows[1].evidence["capped_from"] == 3000 and rows[2].evidence["capped_from"] == 3000
    assert sorted((o, d["amount"]) for o, d in issued) == [
        ("CAP1", 1000.0),
        ("CAP1", 3000.0),
        ("CAP2", 1000.0),
    ]
