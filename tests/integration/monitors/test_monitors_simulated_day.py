"""Acceptance: a simulated day (and its aftermath) on compressed time. The WMS never answers for 5 % of
orders, the carrier never scans 2 % of waybills, tracking stops for 3 % of parcels: each of those orders
gets exactly one open exception of the right type within its threshold; no healthy order gets any."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from monitors_helpers import all_exceptions, ingest_due

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors import rules
from deliveryhub.monitors.service import run_all_monitors
from dh_testkit import drain, event

KST = ZoneInfo("Asia/Seoul")
N = 200
TICK = timedelta(hours=1)


def _schedule(
    rng: random.Random,
) -> tuple[list[tuple[datetime, dict[str, Any]]], dict[str, str], dict[str, Any]]:
    """Events per order; which orders are faulty; the last event time that starts each faulty SLA."""
    day = datetime(2026, 11, 24, 9, 0, tzinfo=KST)  # a Tuesday, no holiday
    ids = [f"SIM{i:04d}" for i in range(N)]
    shuffled = ids[:]
    rng.shuffle(shuffled)
    fault = {oid: "wms_silent" for oid in shuffled[:10]}  # 5 %
    fault.update({oid: "no_scan" for oid in shuffled[10:14]})  # 2 %
    fault.update({oid: "stale" for oid in shuffled[14:20]})  # 3 %
    events: list[tuple[datetime, dict[str, Any]]] = []
    anchor: dict[str, Any] = {}
    for i, oid in enumerate(ids):
        kind = fault.get(oid, "healthy")
        paid = day + timedelta(minutes=rng.uniform(0, 8 * 60))
        promised = (paid + timedelta(days=7)).date().isoformat()

        def add(
            at: datetime,
            type_: str,
            data: dict[str, Any] | None = None,
            source: str = "oms",
            sid: str | None = None,
            _oid: str = oid,
        ) -> None:
            n = len(events)
            ev = event(f"{_oid}-{type_}-{n}", type_, _oid, at.isoformat(), data or {}, source=source)
            if sid:
                ev["shipment_id"] = sid
            events.append((at, ev))

        add(
            paid - timedelta(minutes=1),
            "order.created",
            {
                "customer": {"external_id": f"cust-{i}"},
                "items": [{"sku": f"SKU{i % 17}", "qty": 1}],
                "total": 10000 + i,
                "channel": "smartstore",
                "promised_delivery_date": promised,
                "warehouse": "icheon",
                "region": "서울",
            },
        )
        add(paid, "order.paid", {"amount": 10000 + i})
        anchor[oid] = paid
        if kind == "wms_silent":
            continue
        add(
            paid + timedelta(minutes=10),
            "inventory.reserved",
            {"items": [{"sku": f"SKU{i % 17}", "qty": 1}]},
            source="wms",
        )
        packed = paid + timedelta(minutes=rng.uniform(60, 180))
        add(packed, "fulfillment.packed", {}, source="wms")
        waybill = packed + timedelta(minutes=rng.uniform(10, 30))
        tn = f"6{i:011d}"
        add(waybill, "shipment.waybill_created", {"carrier": "cj", "tracking_no": tn}, source="tms", sid=tn)
        if kind == "no_scan":
            anchor[oid] = waybill
            continue
        handover = waybill + timedelta(hours=rng.uniform(1, 20))
        add(handover, "shipment.handed_over", {"carrier": "cj"}, source="carrier:cj", sid=tn)
        scan = handover + timedelta(hours=rng.uniform(2, 10))
        add(scan, "shipment.tracking", {"status": "in_transit"}, source="carrier:cj", sid=tn)
        if kind == "stale":
            anchor[oid] = scan
            continue
        for _ in range(rng.randint(1, 2)):
            scan += timedelta(hours=rng.uniform(6, 20))
            add(scan, "shipment.tracking", {"status": "in_transit"}, source="carrier:cj", sid=tn)
        ofd = scan + timedelta(hours=rng.uniform(4, 12))
        add(ofd, "shipment.tracking", {"status": "out_for_delivery"}, source="carrier:cj", sid=tn)
        add(ofd + timedelta(hours=rng.uniform(1, 6)), "shipment.delivered", {}, source="carrier:cj", sid=tn)
    events.sort(key=lambda x: x[0])
    return events, fault, anchor


@pytest.mark.slow
def test_every_faulty_order_gets_exactly_one_exception_of_the_right_type_and_healthy_ones_none(new_hub):
    rng = random.Random(20261124)
    events, fault, anchor = _schedule(rng)
    clock = ManualClock(datetime(2026, 11, 24, 8, 0, tzinfo=KST))
    hub = new_hub(clock)
    cal = hub.monitors.cal
    end = datetime(2026, 11, 28, 12, 0, tzinfo=KST)
    i = 0
    while clock.now() < end:
        clock.advance(TICK)
        i = ingest_due(hub, events, i, clock.now())
        drain(hub)
        run_all_monitors(hub.monitors)
    assert i == len(events)
    rows = all_exceptions(hub)

    by_order: dict[str, list[Any]] = {}
    for r in rows:
        by_order.setdefault(r.order_id, []).append(r)
    expected_type = {"wms_silent": "dispatch_delay", "no_scan": "handover_missing", "stale": "tracking_stale"}
    healthy_flagged = sorted(oid for oid in by_order if oid not in fault)
    assert healthy_flagged == [], (
        f"healthy orders got exceptions: {[(o, by_order[o][0].type) for o in healthy_flagged]}"
    )
    for oid, kind in fault.items():
        got = by_order.get(oid, [])
        assert len(got) == 1, (oid, kind, [(g.type, g.status) for g in got])
        exc = got[0]
        assert exc.type == expected_type[kind], (oid, kind, exc.type)
        assert exc.status == "open"
        if kind == "wms_silent":
            deadline = cal.add_business_hours(anchor[oid], 4)
        elif kind == "no_scan":
            deadline = rules.handover_deadline(anchor[oid], {"hours": 24}, cal)
        else:
            deadline = rules.stale_deadline(anchor[oid], {"hours": 48}, cal)
        # Opened no earlier than its threshold and at the first evaluation after it (one tick).
        assert deadline <= exc.opened_at <= deadline + TICK, (oid, kind, deadline, exc.opened_at)
        assert exc.due_at == deadline
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.type] = counts.get(r.type, 0) + 1
    assert counts == {"dispatch_delay": 10, "handover_missing": 4, "tracking_stale": 6}
