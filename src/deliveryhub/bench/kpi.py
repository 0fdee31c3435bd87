"""`deliveryhub bench kpi`: the KPI engine at a million orders (~8M events) against a hand-written DuckDB
baseline computing the same five core KPIs on the same Arrow data in the same run.

Rows are generated straight into the tables (inbox, orders, parcels, order_stages) with bulk inserts.
Timings: the cold snapshot load from the database, the full catalog (every KPI, by day), a dashboard
refresh after new events arrive through the real ingest path, and the five core KPIs by day and carrier
(engine, facts derived from scratch) vs DuckDB on the same base frames.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from deliveryhub.bench.common import BenchRequest

CORE = (
    "on_time_delivery_rate",
    "delivery_delay_rate",
    "avg_delivery_days",
    "avg_transit_days",
    "order_processing_hours",
)
CARRIERS = np.array(["cj", "lotte", "hanjin", "epost", "logen"])
CHANNELS = np.array(["web", "app", "naver", "coupang"])
REGIONS = np.array(["서울", "경기", "인천", "부산", "대구", "광주", "대전", "제주"])
WAREHOUSES = np.array(["W1", "W2", "W3", "W4"])
CATEGORIES = np.array(["fashion", "beauty", "food", "digital", "living"])
TZ = "Asia/Seoul"


def _ts(values: np.ndarray) -> list[str]:
    """datetime64[us] → 'YYYY-MM-DD HH:MM:SS.ffffff' (the stored form on SQLite)."""
    return [s.replace("T", " ") for s in np.datetime_as_string(values, unit="us")]


def generate(db: Any, orders: int, end: datetime, seed: int = 7, days: int = 90) -> int:
    """Bulk-insert `orders` orders with their projections and ~8 inbox events each; returns events written."""
    rng = np.random.default_rng(seed)
    n = orders
    start = np.datetime64(end.replace(tzinfo=None) - timedelta(days=days), "us")
    created = start + (rng.random(n) * days * 86_400e6).astype("timedelta64[us]")
    created.sort()
    h = lambda lo, hi: (rng.uniform(lo, hi, n) * 3600e6).astype("timedelta64[us]")  # noqa: E731
    paid = created + h(0.01, 0.5)
    reserved = paid + h(0.1, 2)
    packed = reserved + h(1, 20)
    waybill = packed + h(0.1, 1)
    handed = waybill + h(1, 12)
    transit = handed + h(4, 20)
    delivered = handed + h(20, 90)
    is_delivered = (delivered < np.datetime64(end.replace(tzinfo=None), "us")) & (rng.random(n) < 0.97)
    promised = (created + np.timedelta64(3, "D")).astype("datetime64[D]")
    carrier = CARRIERS[rng.integers(0, len(CARRIERS), n)]
    channel = CHANNELS[rng.integers(0, len(CHANNELS), n)]
    region = REGIONS[rng.integers(0, len(REGIONS), n)]
    wh = WAREHOUSES[rng.integers(0, len(WAREHOUSES), n)]
    cat = CATEGORIES[rng.integers(0, len(CATEGORIES), n)]
    total = np.round(rng.uniform(5_000, 200_000, n), -2)
    cust = rng.integers(0, max(1, int(n * 0.6)), n)
    green = rng.random(n) < 0.3
    oid = [f"B{i:08d}" for i in range(n)]
    c_s, p_s, r_s, k_s, w_s, h_s, t_s, d_s = (
        _ts(a) for a in (created, paid, reserved, packed, waybill, handed, transit, delivered)
    )
    prom = np.datetime_as_string(promised).tolist()
    now_s = _ts(np.array([np.datetime64(end.replace(tzinfo=None), "us")]))[0]
    car, chan, reg, whs, cats = carrier.tolist(), channel.tolist(), region.tolist(), wh.tolist(), cat.tolist()
    tot, cus, grn, dlv = total.tolist(), cust.tolist(), green.tolist(), is_delivered.tolist()

    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        pg = db.dialect == "postgresql"
        ph = "%s" if pg else "?"

        def put(table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
            marks = ", ".join([ph] * (cols.count(",") + 1))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

        if not pg:
            cur.execute("BEGIN")
        put(
            "orders",
            "order_id, customer_id, stage, stage_rank, stage_at, channel, total, promised_date, warehouse, "
            "region, category, created_at, delivered_at, last_event_at, updated_at",
            [
                (
                    oid[i],
                    f"c{cus[i]:09d}",
                    "delivered" if dlv[i] else "in_transit",
                    7 if dlv[i] else 5,
                    d_s[i] if dlv[i] else t_s[i],
                    chan[i],
                    tot[i],
                    prom[i],
                    whs[i],
                    reg[i],
                    cats[i],
                    c_s[i],
                    d_s[i] if dlv[i] else None,
                    d_s[i] if dlv[i] else t_s[i],
                    now_s,
                )
                for i in range(n)
            ],
        )
        put(
            "parcels",
            "order_id, shipment_id, carrier, tracking_no, status, status_at, handed_over_at, delivered_at, "
            "last_event_at, updated_at",
            [
                (
                    oid[i],
                    "P" + oid[i],
                    car[i],
                    f"T{i:011d}",
                    "delivered" if dlv[i] else "in_transit",
                    d_s[i] if dlv[i] else t_s[i],
                    h_s[i],
                    d_s[i] if dlv[i] else None,
                    d_s[i] if dlv[i] else t_s[i],
                    now_s,
                )
                for i in range(n)
            ],
        )
        stage_rows: list[tuple[Any, ...]] = []
        for i in range(n):
            o = oid[i]
            stage_rows.extend(
                (
                    (o, "received", c_s[i], "oms", True),
                    (o, "stock_confirmed", r_s[i], "wms", True),
                    (o, "picked_packed", k_s[i], "wms", True),
                    (o, "waybill_created", w_s[i], "tms", True),
                    (o, "handed_over", h_s[i], "carrier", True),
                    (o, "in_transit", t_s[i], "carrier", True),
                )
            )
            if dlv[i]:
                stage_rows.append((o, "delivered", d_s[i], "carrier", True))
            if len(stage_rows) >= 200_000:
                put("order_stages", "order_id, stage, occurred_at, source, automatic", stage_rows)
                stage_rows = []
        put("order_stages", "order_id, stage, occurred_at, source, automatic", stage_rows)
        events = 0
        inbox_rows: list[tuple[Any, ...]] = []
        cols = (
            "source, event_id, type, order_id, shipment_id, occurred_at, received_at, data, manual, "
            "schema_version"
        )
        extra = rng.random(n)
        for i in range(n):
            o = oid[i]
            sid = "P" + o
            rows = [
                (
                    "oms",
                    o + ":c",
                    "order.created",
                    o,
                    None,
                    c_s[i],
                    now_s,
                    f'{{"total": {tot[i]}, "channel": "{chan[i]}", "customer_id": "c{cus[i]:09d}"}}',
                ),
                ("oms", o + ":p", "order.paid", o, None, p_s[i], now_s, '{"method": "card"}'),
                ("wms", o + ":r", "inventory.reserved", o, None, r_s[i], now_s, "{}"),
                (
                    "wms",
                    o + ":k",
                    "fulfillment.packed",
                    o,
                    None,
                    k_s[i],
                    now_s,
                    '{"packaging": "green"}' if grn[i] else '{"packaging": "standard"}',
                ),
                (
                    "tms",
                    o + ":w",
                    "shipment.waybill_created",
                    o,
                    sid,
                    w_s[i],
                    now_s,
                    f'{{"carrier": "{car[i]}"}}',
                ),
                (
                    "carrier",
                    o + ":h",
                    "shipment.handed_over",
                    o,
                    sid,
                    h_s[i],
                    now_s,
                    f'{{"carrier": "{car[i]}"}}',
                ),
                ("carrier", o + ":t", "shipment.tracking", o, sid, t_s[i], now_s, '{"status": "in_transit"}'),
            ]
            if dlv[i]:
                rows.append(("carrier", o + ":d", "shipment.delivered", o, sid, d_s[i], now_s, "{}"))
                x = extra[i]
                if x < 0.01:
                    rows.append(
                        (
                            "crm",
                            o + ":cl",
                            "claim.opened",
                            o,
                            None,
                            d_s[i],
                            now_s,
                            '{"kind": "damage"}' if x < 0.004 else '{"kind": "wrong_item"}',
                        )
                    )
                elif x < 0.03:
                    rows.append(
                        (
                            "crm",
                            o + ":s",
                            "survey.answered",
                            o,
                            None,
                            d_s[i],
                            now_s,
                            f'{{"csat": {1 + int(x * 1000) % 5}}}',
                        )
                    )
                elif x < 0.045:
                    rows.append(
                        (
                            "crm",
                            o + ":tc",
                            "ticket.created",
                            o,
                            None,
                            d_s[i],
                            now_s,
                            f'{{"ticket_id": "{o}", "channel": "chat", "text": "배송 문의"}}',
                        )
                    )
                    rows.append(
                        (
                            "crm",
                            o + ":tr",
                            "ticket.replied",
                            o,
                            None,
                            d_s[i],
                            now_s,
                            f'{{"ticket_id": "{o}", "by": "bot"}}',
                        )
                    )
            inbox_rows.extend((*r, False, 1) for r in rows)
            if len(inbox_rows) >= 200_000:
                put("inbox", cols, inbox_rows)
                events += len(inbox_rows)
                inbox_rows = []
        put("inbox", cols, inbox_rows)
        events += len(inbox_rows)
        raw.commit()
    finally:
        raw.close()
    return events


def baseline_duckdb(snap: Any, tz: str) -> tuple[float, Any]:
    """The five core KPIs by local day and carrier, hand-written DuckDB SQL over the snapshot's Arrow data."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    orders = snap.orders.select("order_id", "promised_date", "created_at", "delivered_at").to_arrow()
    parcels = snap.parcels.select("order_id", "carrier", "handed_over_at").to_arrow()
    packed = snap.packed.select("order_id", "occurred_at").to_arrow()
    started = time.perf_counter()
    con.register("orders", orders)
    con.register("parcels", parcels)
    con.register("packed", packed)
    sql = """
    WITH p AS (SELECT order_id, first(carrier) AS carrier, min(handed_over_at) AS handed_over_at
               FROM parcels GROUP BY order_id),
         k AS (SELECT order_id, min(occurred_at) AS packed_at FROM packed GROUP BY order_id),
         o AS (SELECT o.*, p.carrier, p.handed_over_at,
                      least(k.packed_at, p.handed_over_at) AS ready_at
               FROM orders o LEFT JOIN p USING (order_id) LEFT JOIN k USING (order_id)),
         d AS (SELECT CAST(delivered_at AS DATE) AS day, carrier,
                      avg(CASE WHEN promised_date IS NOT NULL
                          THEN CAST(CAST(delivered_at AS DATE) <= promised_date AS INTEGER) END) AS on_time,
                      avg(CASE WHEN promised_date IS NOT NULL
                          THEN CAST(CAST(delivered_at AS DATE) > promised_date AS INTEGER) END) AS late,
                      avg(epoch(delivered_at - created_at) / 86400.0) AS delivery_days,
                      avg(epoch(delivered_at - handed_over_at) / 86400.0) AS transit_days
               FROM o WHERE delivered_at IS NOT NULL GROUP BY ALL),
         r AS (SELECT CAST(created_at AS DATE) AS day, carrier,
                      avg(epoch(ready_at - created_at) / 3600.0) AS processing_hours
               FROM o WHERE ready_at IS NOT NULL AND created_at IS NOT NULL GROUP BY ALL)
    SELECT * FROM d FULL JOIN r USING (day, carrier) ORDER BY day, carrier
    """
    result = con.sql(sql).to_arrow_table()
    return time.perf_counter() - started, result


def run(req: BenchRequest) -> dict[str, Any]:
    """Generate, then time: snapshot load, full catalog, dashboard refresh, five core KPIs vs DuckDB."""
    from deliveryhub.bench.common import BenchEnv
    from deliveryhub.kpi.engine import KpiEngine
    from deliveryhub.kpi.facts import derive_facts

    n = req.orders or 1_000_000
    with BenchEnv(req.db_url, req.bus_url) as env:
        hub = env.bootstrap()
        now = datetime.now(UTC).replace(microsecond=0)
        t0 = time.perf_counter()
        events = generate(hub.db, n, now)
        gen_s = time.perf_counter() - t0
        engine = KpiEngine(hub.db, now=lambda: now)
        t0 = time.perf_counter()
        snap = engine.store.current()
        load_s = time.perf_counter() - t0
        # Periods are shop-local dates: the UTC date is a day behind in KST from 09:00 to midnight (UTC).
        d1 = now.astimezone(ZoneInfo(TZ)).date()
        d0 = d1 - timedelta(days=90)
        t0 = time.perf_counter()
        engine.compute(d0, d1, "day", None, TZ)
        full_s = time.perf_counter() - t0
        # Five core KPIs by day and carrier: engine (facts derived from scratch) vs DuckDB, best of 3 each.
        eng_times, base_times = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            facts = derive_facts(snap, TZ, now)
            for key in CORE:
                engine.evaluate(engine.catalog[key], facts, d0, d1, "day", "carrier")
            eng_times.append(time.perf_counter() - t0)
            b, _res = baseline_duckdb(snap, TZ)
            base_times.append(b)
        # Dashboard refresh: new events arrive through the real ingest path, then the dashboard's query.
        from deliveryhub.entrypoints.web.pages import DASHBOARD_KPIS

        batch = []
        for j in range(20):
            oid = f"NEW{j:05d}"
            at = now - timedelta(hours=3)
            batch.append(
                {
                    "event_id": f"{oid}:c",
                    "source": "oms",
                    "type": "order.created",
                    "order_id": oid,
                    "occurred_at": at.isoformat(),
                    "data": {"total": 10000, "channel": "web", "promised_delivery_date": d1.isoformat()},
                }
            )
            batch.append(
                {
                    "event_id": f"{oid}:d",
                    "source": "carrier:cj",
                    "type": "shipment.delivered",
                    "order_id": oid,
                    "shipment_id": "P" + oid,
                    "occurred_at": now.isoformat(),
                    "data": {},
                }
            )
        hub.ingest.ingest(batch)
        month_start = d1.replace(day=1)
        t0 = time.perf_counter()
        engine.compute(month_start, d1, "day", None, TZ, list(DASHBOARD_KPIS))
        refresh_s = time.perf_counter() - t0
        refresh_mode = engine.store.last_refresh.get("mode")
        engine_core = min(eng_times)
        baseline = min(base_times)
        hub.close()
        return {
            "orders": n,
            "events": events,
            "seconds_full_catalog": round(full_s, 3),
            "seconds_dashboard_refresh": round(refresh_s, 3),
            "baseline_seconds": round(baseline, 3),
            "ratio": round(engine_core / baseline, 3) if baseline > 0 else None,
            "seconds_core_kpis_engine": round(engine_core, 3),
            "seconds_snapshot_load": round(load_s, 3),
            "seconds_generate": round(gen_s, 1),
            "dashboard_refresh_mode": refresh_mode,
            "mode": env.mode,
        }


__all__ = ["run", "generate", "baseline_duckdb", "pl"]
