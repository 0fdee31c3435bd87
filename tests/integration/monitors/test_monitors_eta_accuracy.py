"""Acceptance: ETA windows from simulated history with known transit distributions. At least 90 % of
delivered parcels arrive inside their last predicted window, and the median window is at most 2 days."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from monitors_helpers import ingest_due, ingest_ok

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, event

KST = ZoneInfo("Asia/Seoul")
BASE = {"서울": 22.0, "부산": 30.0, "제주": 52.0}
CARRIER_ADD = {"cj": 0.0, "lotte": 6.0}
WEEKDAY_ADD = {4: 20.0, 5: 30.0}  # handed over on Friday / Saturday: the weekend is in the way


def transit_hours(rng: random.Random, carrier: str, dest: str, weekday: int) -> float:
    """The known transit-time distribution of the simulation."""
    return (BASE[dest] + CARRIER_ADD[carrier] + WEEKDAY_ADD.get(weekday, 0.0)) * rng.lognormvariate(0, 0.12)


def _parcel(
    rng: random.Random, i: int, prefix: str, handover: datetime, with_hint: bool
) -> tuple[list, datetime]:
    carrier = rng.choice(["cj", "lotte"])
    dest = rng.choice(list(BASE))
    oid, tn = f"{prefix}{i:05d}", f"{'7' if carrier == 'cj' else '3'}{i:011d}"
    hours = transit_hours(rng, carrier, dest, handover.astimezone(KST).weekday())
    delivered = handover + timedelta(hours=hours)
    created = handover - timedelta(hours=6)
    evs: list[tuple[datetime, dict[str, Any]]] = [
        (
            created,
            event(
                f"{oid}-c",
                "order.created",
                oid,
                created.isoformat(),
                {
                    "items": [{"sku": "X"}],
                    "region": dest,
                    "warehouse": rng.choice(["icheon", "gimpo"]),
                    "customer": {"external_id": oid},
                },
            ),
        ),
        (
            created,
            event(
                f"{oid}-w",
                "shipment.waybill_created",
                oid,
                created.isoformat(),
                {"carrier": carrier, "tracking_no": tn},
                source="tms",
                shipment_id=tn,
            ),
        ),
        (
            handover,
            event(
                f"{oid}-h",
                "shipment.handed_over",
                oid,
                handover.isoformat(),
                {"carrier": carrier},
                source=f"carrier:{carrier}",
                shipment_id=tn,
            ),
        ),
    ]
    mid = handover + timedelta(hours=hours * 0.5)
    evs.append(
        (
            mid,
            event(
                f"{oid}-m",
                "shipment.tracking",
                oid,
                mid.isoformat(),
                {"status": "in_transit"},
                source=f"carrier:{carrier}",
                shipment_id=tn,
            ),
        )
    )
    ofd = delivered - timedelta(hours=rng.uniform(1, 4))
    data: dict[str, Any] = {"status": "out_for_delivery"}
    if with_hint and carrier == "cj":
        # CJ's "(14~16시)": a two-hour window around the real delivery, wrong for ~3 % of parcels.
        local = delivered.astimezone(KST)
        start = local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=local.hour % 2)
        if rng.random() < 0.03:
            start += timedelta(hours=4)
        data.update(eta_min=start.isoformat(), eta_max=(start + timedelta(hours=2)).isoformat())
    evs.append(
        (
            ofd,
            event(
                f"{oid}-o",
                "shipment.tracking",
                oid,
                ofd.isoformat(),
                data,
                source=f"carrier:{carrier}",
                shipment_id=tn,
            ),
        )
    )
    evs.append(
        (
            delivered,
            event(
                f"{oid}-d",
                "shipment.delivered",
                oid,
                delivered.isoformat(),
                {},
                source=f"carrier:{carrier}",
                shipment_id=tn,
            ),
        )
    )
    return evs, delivered


@pytest.mark.slow
def test_eta_windows_cover_90_percent_and_are_not_trivially_wide(tmp_path, new_hub):
    rng = random.Random(42)
    start = datetime(2026, 11, 24, 0, 0, tzinfo=KST)
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        "eta:\n  min_samples: 20\n  origin_regions: {icheon: 경기, gimpo: 경기}\n", encoding="utf-8"
    )
    clock = ManualClock(start)
    hub = new_hub(clock, config_file=cfg)
    history: list[dict[str, Any]] = []
    for i in range(700):
        day = datetime(2026, 8, 10, tzinfo=KST) + timedelta(
            days=rng.randint(0, 100), hours=rng.uniform(15, 20)
        )
        evs, _ = _parcel(rng, i, "H", day, with_hint=False)
        history.extend(e for _, e in evs)
    for k in range(0, len(history), 1000):
        ingest_ok(hub, history[k : k + 1000])
    drain(hub)

    upcoming: list[tuple[datetime, dict[str, Any]]] = []
    for i in range(120):
        day = start + timedelta(days=rng.randint(0, 3), hours=rng.uniform(15, 20))
        evs, _ = _parcel(rng, i, "T", day, with_hint=True)
        upcoming.extend(evs)
    upcoming.sort(key=lambda x: x[0])
    svc = hub.monitors
    j = 0
    while j < len(upcoming):
        clock.advance(timedelta(hours=1))
        before, j = j, ingest_due(hub, upcoming, j, clock.now())
        if j > before:
            drain(hub)
        if svc.fire_due():  # revisions go through ingest; let the consumers see them
            drain(hub)
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(t.parcels).where(t.parcels.c.order_id.like("T%"))).all()
        revisions = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.inbox)
            .where(
                t.inbox.c.type == "shipment.eta_updated",
                t.inbox.c.source == "tms",
                t.inbox.c.order_id.like("T%"),
            )
        ).scalar_one()

    delivered = [r for r in rows if r.delivered_at is not None]
    predicted = [r for r in delivered if r.eta_min is not None and r.eta_max is not None]
    assert len(delivered) == 120
    assert len(predicted) >= 0.95 * len(delivered)
    inside = [r for r in predicted if r.eta_min <= r.delivered_at <= r.eta_max]
    accuracy = len(inside) / len(predicted)
    widths = [(r.eta_max - r.eta_min).total_seconds() / 86400 for r in predicted]
    median_width = statistics.median(widths)
    print(f"eta_accuracy={accuracy:.3f} median_width_days={median_width:.2f} revisions={revisions}")
    assert accuracy >= 0.90
    assert median_width <= 2.0
    assert revisions > 1.5 * len(predicted)  # revised along the way, not just once
