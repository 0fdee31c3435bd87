"""Acceptance (issue 14): the waybill and handover monitors run on business time. Parcels packed on the
eve of 설날 2027 (Friday 02-05; 설날 02-06..02-08 and the 대체공휴일 02-09) raise no waybill_missing or
handover_missing exception and send no delay notice while the shop and carriers are closed, and do
once the business time has passed (Wednesday 02-10). On wall-clock hours both fired on the Saturday."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors.service import run_all_monitors
from deliveryhub.monitors.tables import exceptions
from deliveryhub.notifications.tables import notification_jobs
from dh_testkit import drain, event, make_hub

KST = ZoneInfo("Asia/Seoul")
EVE = datetime(2027, 2, 5, 15, 0, tzinfo=KST)  # Friday, after the 14:00 cut-off
WAYBILL_DUE = datetime(2027, 2, 10, 9, 30, tzinfo=KST)  # packed 17:30: 30 min Friday + 30 min Wednesday
HANDOVER_DUE = datetime(2027, 2, 10, 16, 30, tzinfo=KST)  # waybill 16:30: 7.5 h Friday + 16.5 h Wednesday
WATCHED = ("waybill_missing", "handover_missing")


def _order(oid: str, packed: datetime, waybill: datetime | None) -> list[tuple[datetime, dict[str, Any]]]:
    body = {
        "customer": {"external_id": f"cust-{oid}"},
        "items": [{"sku": "SKU-A", "qty": 1}],
        "total": 19900,
        "channel": "smartstore",
        "warehouse": "icheon",
        "region": "서울",
        "promised_delivery_date": "2027-02-19",
    }
    out = [
        (EVE, event(f"{oid}-c", "order.created", oid, EVE.isoformat(), body)),
        (EVE, event(f"{oid}-p", "order.paid", oid, EVE.isoformat(), {"amount": 19900})),
        (
            EVE + timedelta(minutes=10),
            event(
                f"{oid}-r",
                "inventory.reserved",
                oid,
                (EVE + timedelta(minutes=10)).isoformat(),
                {"items": [{"sku": "SKU-A", "qty": 1}]},
                source="wms",
            ),
        ),
        (packed, event(f"{oid}-k", "fulfillment.packed", oid, packed.isoformat(), {}, source="wms")),
    ]
    if waybill is not None:
        tn = "612345678901"
        data = {"carrier": "cj", "tracking_no": tn}
        ev = event(f"{oid}-w", "shipment.waybill_created", oid, waybill.isoformat(), data, source="tms")
        out.append((waybill, {**ev, "shipment_id": tn}))
    return out


def _watched(hub: Any) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(exceptions).where(exceptions.c.type.in_(WATCHED))))


def _opened_topics(hub: Any) -> list[str]:
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "exception.opened"))
        return [r.payload["type"] for r in rows if r.payload.get("type") in WATCHED]


def _delay_notices(hub: Any) -> list[Any]:
    with hub.db.read() as conn:
        return list(
            conn.execute(
                sa.select(notification_jobs.c.order_id, notification_jobs.c.created_at).where(
                    notification_jobs.c.delay_notice.is_(True)
                )
            )
        )


def test_a_parcel_packed_on_the_eve_of_seollal_waits_for_business_time(tmp_path, master_key):
    clock = ManualClock(EVE - timedelta(minutes=1))
    hub = make_hub(tmp_path, master_key, clock=clock)
    schedule = sorted(
        _order("HAND1", EVE + timedelta(hours=1), EVE + timedelta(hours=1, minutes=30))
        + _order("WAY1", EVE + timedelta(hours=2, minutes=30), None),
        key=lambda x: x[0],
    )
    # Every 30 minutes on Friday and Wednesday, every 3 hours over the holiday.
    ticks = [EVE + timedelta(minutes=30 * i) for i in range(20)]
    at = ticks[-1]
    while at < datetime(2027, 2, 10, 6, 0, tzinfo=KST):
        at += timedelta(hours=3)
        ticks.append(at)
    ticks += [datetime(2027, 2, 10, 8, 0, tzinfo=KST) + timedelta(minutes=30 * i) for i in range(20)]
    i = 0
    try:
        for now in ticks:
            clock.set(now)
            due = []
            while i < len(schedule) and schedule[i][0] <= now:
                due.append(schedule[i][1])
                i += 1
            if due:
                assert not [r for r in hub.ingest.ingest(due) if r.status == "rejected"]
            drain(hub)
            run_all_monitors(hub.monitors)
            drain(hub)
            found = {(r.type, r.order_id) for r in _watched(hub)}
            if now < WAYBILL_DUE:
                assert found == set(), (now, found)
                assert _opened_topics(hub) == [], now
                assert _delay_notices(hub) == [], now
            elif now < HANDOVER_DUE:
                assert found == {("waybill_missing", "WAY1")}, (now, found)
            else:
                assert found == {("waybill_missing", "WAY1"), ("handover_missing", "HAND1")}, (now, found)
        assert i == len(schedule)
        rows = {r.type: r for r in _watched(hub)}
        # Opened at the first evaluation after the business deadline, with that deadline as evidence.
        assert rows["waybill_missing"].due_at == WAYBILL_DUE
        assert WAYBILL_DUE <= rows["waybill_missing"].opened_at <= WAYBILL_DUE + timedelta(minutes=30)
        assert rows["handover_missing"].due_at == HANDOVER_DUE
        assert HANDOVER_DUE <= rows["handover_missing"].opened_at <= HANDOVER_DUE + timedelta(minutes=30)
        assert sorted(_opened_topics(hub)) == ["handover_missing", "waybill_missing"]
        # The forgotten parcel now tells its customer (delivery_delayed on handover_missing), once.
        notices = _delay_notices(hub)
        assert [n.order_id for n in notices] == ["HAND1"], notices
        assert notices[0].created_at >= HANDOVER_DUE
    finally:
        hub.close()
