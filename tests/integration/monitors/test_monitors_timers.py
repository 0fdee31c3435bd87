"""Durable timers: armed by events, cancelled by the awaited event, survive a worker restart, and fire
exactly once when two workers claim concurrently on PostgreSQL (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from monitors_helpers import all_exceptions, ingest_ok, monitor_hub, timer_rows

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors import timers as tm
from dh_testkit import drain, event, waybill

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)


def _packed(oid: str, at: datetime) -> list[dict]:
    return [
        event(f"{oid}-c", "order.created", oid, at.isoformat(), {"items": [{"sku": "A"}], "channel": "web"}),
        event(f"{oid}-p", "order.paid", oid, at.isoformat(), {"amount": 1}),
        event(
            f"{oid}-k", "fulfillment.packed", oid, (at + timedelta(minutes=5)).isoformat(), {}, source="wms"
        ),
    ]


def test_timer_survives_worker_restart_and_fires_once(new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock)
    ingest_ok(hub, _packed("R1", START))
    drain(hub)
    assert {r.kind for r in timer_rows(hub) if r.status == "pending"} >= {"waybill_missing", "dispatch_ship"}
    hub.close()  # the worker dies; nothing about the deadline lives in memory

    clock.advance(timedelta(minutes=66))
    hub2 = new_hub(clock)
    first = hub2.monitors.fire_due()
    again = hub2.monitors.fire_due()
    rows = all_exceptions(hub2)
    assert [(r.type, r.order_id, r.status) for r in rows] == [("waybill_missing", "R1", "open")]
    assert first.get("waybill_missing:opened") == 1
    assert again == {}
    fired = [r for r in timer_rows(hub2) if r.kind == "waybill_missing"]
    assert len(fired) == 1 and fired[0].status == "fired" and fired[0].result.startswith("opened")
    # The awaited event arrives late: the exception resolves itself.
    ingest_ok(
        hub2,
        [waybill("R1-w", "R1", clock.now().isoformat(), "cj", "123412341234", shipment_id="123412341234")],
    )
    drain(hub2)
    (row,) = all_exceptions(hub2)
    assert row.status == "resolved" and row.resolution == "auto:shipment.waybill_created"


def test_awaited_event_cancels_the_timer(new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock)
    ingest_ok(hub, _packed("C1", START))
    drain(hub)
    ingest_ok(
        hub,
        [
            waybill(
                "C1-w",
                "C1",
                (START + timedelta(minutes=20)).isoformat(),
                "cj",
                "555566667777",
                shipment_id="555566667777",
            )
        ],
    )
    drain(hub)
    by_kind = {r.kind: r.status for r in timer_rows(hub)}
    assert by_kind["waybill_missing"] == "cancelled"
    assert by_kind["dispatch_ship"] == "cancelled"
    assert by_kind["handover_missing"] == "pending"
    clock.advance(timedelta(hours=3))
    hub.monitors.fire_due()
    assert all_exceptions(hub) == []


def test_two_workers_on_postgresql_fire_each_timer_once(tmp_path, master_key, pg_url):
    clock = ManualClock(START)
    hub_a = monitor_hub(tmp_path / "a", master_key, clock, db_url=pg_url)
    hub_b = monitor_hub(tmp_path / "b", master_key, clock, db_url=pg_url)
    probe_md = sa.MetaData()
    probe = sa.Table(
        "monitors_probe_fired",
        probe_md,
        sa.Column("timer_id", sa.Integer),
        sa.Column("worker", sa.String(80)),
    )
    probe_md.create_all(hub_a.db.engine)

    def handler(conn, timer, now):
        conn.execute(probe.insert().values(timer_id=timer.id, worker=now.isoformat()))
        return "probed"

    try:
        for h in (hub_a, hub_b):
            h.monitors.in_tx["probe"] = handler
        with hub_a.db.write() as conn:
            for i in range(80):
                tm.arm(conn, "probe", f"s{i}", START - timedelta(seconds=i), START, order_id=f"P{i}")
        # Real rule timers too: 20 packed orders whose waybill never comes.
        for i in range(20):
            ingest_ok(hub_a, _packed(f"W{i}", START))
        drain(hub_a)
        clock.advance(timedelta(minutes=70))
        barrier = threading.Barrier(2)
        results: dict[str, dict] = {}

        def work(name, h):
            barrier.wait()
            results[name] = h.monitors.fire_due()

        threads = [threading.Thread(target=work, args=(n, h)) for n, h in (("a", hub_a), ("b", hub_b))]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        with hub_a.db.read() as conn:
            fired = conn.execute(
                sa.select(probe.c.timer_id, sa.func.count()).group_by(probe.c.timer_id)
            ).all()
            opened = conn.execute(
                sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.topic == "exception.opened")
            ).scalar_one()
        assert len(fired) == 80 and all(n == 1 for _, n in fired)
        assert (
            sum(v for k, v in results["a"].items() if k.startswith("probe"))
            + sum(v for k, v in results["b"].items() if k.startswith("probe"))
            == 80
        )
        assert opened == 20
        assert sorted(r.order_id for r in all_exceptions(hub_a)) == sorted(f"W{i}" for i in range(20))
    finally:
        hub_a.close()
        hub_b.close()


def test_claim_skips_rows_locked_by_another_worker_on_postgresql(pg_url, new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock, db_url=pg_url)
    with hub.db.write() as conn:
        for i in range(10):
            tm.arm(conn, "probe", f"k{i}", START, START)
    with hub.db.engine.connect() as c1, hub.db.engine.connect() as c2:
        tx1 = c1.begin()
        first = tm.claim(c1, "w1", START, timedelta(minutes=5), limit=4)  # rows stay locked until commit
        tx2 = c2.begin()
        c2.exec_driver_sql("SET LOCAL statement_timeout = 3000")  # a blocked claim would fail here
        second = tm.claim(c2, "w2", START, timedelta(minutes=5), limit=10)
        tx2.commit()
        tx1.commit()
    assert len(first) == 4 and len(second) == 6
    assert not {r.id for r in first} & {r.id for r in second}
