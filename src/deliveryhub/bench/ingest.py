"""`deliveryhub bench ingest`: the whole ingest pipeline over HTTP vs a plain executemany insert.

Events are the simulated shop's (realistic sizes and mixes), posted in batches of 1,000 to a real
`deliveryhub serve` process on a free port by two concurrent posters. `events_per_s` counts until
every event is accepted AND published by the outbox relay (the whole pipeline); `raw_insert_rows_per_s`
is a plain executemany of the same rows (1,000 per transaction, with the same unique index) into the same
kind of database in the same run. Notice latency: event arrival (inbox `received_at`) → the customer
notice handed to the channel (`notification_jobs.sent_at`), when the notifications feature is installed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import sqlalchemy as sa

from deliveryhub.bench.common import BenchEnv, BenchRequest, percentile

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

BATCH = 1000


def shop_events(orders: int, seed: int = 11) -> list[dict[str, Any]]:
    """About `orders` orders of the simulated shop, every event of their lifecycles, in time order."""
    from deliveryhub.simulator.shop import ShopConfig, ShopSimulator

    per_day = max(50, orders // 2)
    sim = ShopSimulator(ShopConfig(orders_per_day=per_day), seed=seed)
    # Recent, so the notification engine treats them as live facts (it ignores stale back-fills).
    start = datetime.now(UTC) - timedelta(days=2)
    emissions = sim.generate(start, 2, include_tail=True)
    events = [e.payload for e in emissions if e.kind == "event"]
    created = [i for i, e in enumerate(events) if e["type"] == "order.created"]
    if len(created) > orders:
        keep = {e["order_id"] for e in (events[i] for i in created[:orders])}
        events = [e for e in events if e["order_id"] in keep or e["order_id"] is None]
    return events


def raw_insert(db_url: str, events: list[dict[str, Any]]) -> float:
    """Rows/s of a plain executemany of the same rows (1,000 per transaction) into the same kind of DB."""
    from deliveryhub.adapters.persistence.database import Database

    database = Database(db_url)  # same engine settings as the hub (WAL, synchronous=NORMAL on SQLite)
    engine = database.engine
    table = "bench_raw_" + str(int(time.time() * 1000))
    rows = [
        {
            "source": e["source"],
            "event_id": e["event_id"],
            "type": e["type"],
            "order_id": e["order_id"],
            "occurred_at": e["occurred_at"],
            "data": orjson.dumps(e["data"]).decode(),
        }
        for e in events
    ]
    with engine.begin() as conn:
        sqlite = engine.dialect.name == "sqlite"
        pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"
        conn.exec_driver_sql(
            f"CREATE TABLE {table} (id {pk}, source VARCHAR(72), event_id VARCHAR(128), type VARCHAR(64),"
            " order_id VARCHAR(128), occurred_at VARCHAR(40), data TEXT, UNIQUE (source, event_id))"
        )
    stmt = sa.text(
        f"INSERT INTO {table} (source, event_id, type, order_id, occurred_at, data) "  # noqa: S608
        "VALUES (:source, :event_id, :type, :order_id, :occurred_at, :data)"
    )
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(stmt, rows[i : i + BATCH])
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {table}")
    database.dispose()
    return len(rows) / elapsed


def _unpublished(hub: Hub) -> int:
    from deliveryhub.service_layer.relay import outbox_lag

    return int(outbox_lag(hub.db))


def notice_latencies(hub: Hub, since: datetime, wait_s: float = 20.0) -> tuple[list[float], str | None]:
    """Milliseconds from event arrival to the customer notice handed to its channel."""
    if hub.notifications is None:
        return [], "notifications feature not wired"
    from deliveryhub.adapters.persistence import tables as t
    from deliveryhub.notifications.facts import customer_notice_times, unsent_customer_notices

    deadline = time.monotonic() + wait_s
    while True:
        with hub.db.read() as conn:
            open_jobs = unsent_customer_notices(conn, since)
        if open_jobs == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    with hub.db.read() as conn:
        jobs = customer_notice_times(conn, since)
        if not jobs:
            return [], "no customer notice was handed to a channel (no customer channel configured?)"
        orders = list({oid for oid, _at, _sent in jobs if oid})
        arrivals: dict[tuple[str, datetime], datetime] = {}
        for i in range(0, len(orders), 500):
            for r in conn.execute(
                sa.select(t.inbox.c.order_id, t.inbox.c.occurred_at, t.inbox.c.received_at).where(
                    t.inbox.c.order_id.in_(orders[i : i + 500])
                )
            ):
                key = (r.order_id, r.occurred_at)
                arrivals[key] = min(arrivals.get(key, r.received_at), r.received_at)
    out = []
    for oid, trigger_at, sent_at in jobs:
        arrived = arrivals.get((oid, trigger_at)) if oid else None
        if arrived is not None:
            out.append(max(0.0, (sent_at - arrived).total_seconds() * 1000))
    return out, None if out else "notices could not be matched to their triggering events"


def run(req: BenchRequest) -> dict[str, Any]:
    """Measure; returns the JSON object of `deliveryhub bench ingest --json`."""
    orders, seconds = req.orders, req.seconds
    with BenchEnv(req.db_url, req.bus_url) as env:
        hub = env.bootstrap()
        key = env.api_key("integration")
        events = shop_events(orders or 2000)
        if seconds:
            # Rough cap: keep the run near `seconds` at ~5,000 events/s.
            events = events[: max(BATCH, int(seconds * 5000))]
        # The raw limit first, while nothing else writes: a sibling SQLite file / the same PG database.
        raw_url = env.db_url.replace("bench.db", "raw.db") if env.db_url.startswith("sqlite") else env.db_url
        raw = raw_insert(raw_url, events)
        base = env.serve()
        batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
        latencies: list[float] = []
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        since = datetime.now(UTC) - timedelta(seconds=1)

        def post(batch: list[dict[str, Any]], client: httpx.Client) -> None:
            body = orjson.dumps({"events": batch})
            t0 = time.perf_counter()
            resp = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
            latencies.append((time.perf_counter() - t0) * 1000)
            resp.raise_for_status()
            for r in resp.json()["results"]:
                counts[r["status"]] += 1

        headers = {"Authorization": f"Bearer {key}"}
        with (
            httpx.Client(base_url=base, headers=headers, timeout=120) as c1,
            httpx.Client(base_url=base, headers=headers, timeout=120) as c2,
        ):
            post(batches[0], c1)  # warm-up (not timed): first-request imports and caches
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                # Two posters, each in order: one order's events mostly land in the same poster's batches.
                futures = [pool.submit(post, b, c1 if i % 2 else c2) for i, b in enumerate(batches[1:])]
                for f in futures:
                    f.result()
            accepted_at = time.perf_counter()
            deadline = accepted_at + 300
            while _unpublished(hub) > 0 and time.perf_counter() < deadline:
                time.sleep(0.05)
            done_at = time.perf_counter()
        timed = sum(len(b) for b in batches[1:])
        notices, reason = notice_latencies(hub, since)
        events_per_s = timed / (done_at - t0)
        result: dict[str, Any] = {
            "events_per_s": round(events_per_s, 1),
            "raw_insert_rows_per_s": round(raw, 1),
            "ratio": round(events_per_s / raw, 4),
            "p50_ms": round(percentile(latencies, 50) or 0.0, 2),
            "p99_ms": round(percentile(latencies, 99) or 0.0, 2),
            "notice_p50_ms": round(v, 2) if (v := percentile(notices, 50)) is not None else None,
            "notice_p99_ms": round(v, 2) if (v := percentile(notices, 99)) is not None else None,
            "http_accept_events_per_s": round(timed / (accepted_at - t0), 1),
            "events": len(events),
            "batch": BATCH,
            "accepted": counts["accepted"],
            "duplicate": counts["duplicate"],
            "rejected": counts["rejected"],
            "notices_measured": len(notices),
            "pipeline_drain_s": round(done_at - accepted_at, 2),
            "mode": env.mode,
        }
        if reason:
            result["notice_reason"] = reason
        return result
