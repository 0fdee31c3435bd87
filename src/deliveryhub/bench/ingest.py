"""`deliveryhub bench ingest`: the whole ingest pipeline over HTTP vs a plain executemany insert.

Events are the simulated shop's (realistic sizes and mixes), posted in batches of 1,000 to a real
`deliveryhub serve` process on a free port by two concurrent posters. The clock starts at the first
timed post (a warm-up batch before it is not counted). `events_per_s` stops it when every consumer has
applied every message the events caused (the whole pipeline, end to end);
`published_events_per_s` stops it when the outbox relay has published them (the figure this benchmark
reported before issue 17). `consumer_messages_per_s` is each consumer's applied messages over the time
from the start until that consumer caught up; `cpu_ms_per_event` is the CPU (user + system, from the OS)
of every hub process this benchmark started, from the start until everything was applied, per event
(the stable figure on a shared box). `raw_insert_rows_per_s`
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


def _applied(hub: Hub) -> tuple[int, dict[str, int]]:
    """Outbox messages so far, and how many of them each consumer has applied (its tracking rows)."""
    from deliveryhub.adapters.persistence import tables as t

    pm = t.processed_messages
    with hub.db.read() as conn:
        total = int(conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one())
        rows = conn.execute(sa.select(pm.c.consumer, sa.func.count()).group_by(pm.c.consumer)).all()
    found = {str(name): int(n) for name, n in rows}
    return total, {c.name: found.get(c.name, 0) for c in hub.consumers}


def _wait_applied(hub: Hub, timeout: float) -> tuple[float, float, dict[str, float]]:
    """Poll until published and applied: (published_at, applied_at, each consumer's caught-up time)."""
    deadline = time.perf_counter() + timeout
    published_at: float | None = None
    caught_up: dict[str, float] = {}
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if published_at is None and _unpublished(hub) == 0:
            published_at = now
        total, applied = _applied(hub)
        caught_up.update({c: now for c, n in applied.items() if n >= total and c not in caught_up})
        if published_at is not None and len(caught_up) == len(applied):
            return published_at, now, caught_up
        time.sleep(0.1)
    raise RuntimeError("the pipeline did not apply every message within the time allowed")


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
            _, before_start = _applied(hub)
            cpu0 = env.server_cpu_seconds()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                # Two posters, each in order: one order's events mostly land in the same poster's batches.
                futures = [pool.submit(post, b, c1 if i % 2 else c2) for i, b in enumerate(batches[1:])]
                for f in futures:
                    f.result()
            accepted_at = time.perf_counter()
            applied0 = before_start
            published_at, applied_at, caught_up = _wait_applied(hub, timeout=600)
            cpu = env.server_cpu_seconds() - cpu0
        _, applied1 = _applied(hub)
        timed = sum(len(b) for b in batches[1:])
        notices, reason = notice_latencies(hub, since)
        events_per_s = timed / (applied_at - t0)
        published_per_s = timed / (published_at - t0)
        result: dict[str, Any] = {
            "events_per_s": round(events_per_s, 1),
            "published_events_per_s": round(published_per_s, 1),
            "raw_insert_rows_per_s": round(raw, 1),
            "ratio": round(events_per_s / raw, 4),
            "cpu_ms_per_event": round(cpu * 1000 / timed, 3),
            "consumer_messages_per_s": {
                c: round((applied1[c] - applied0.get(c, 0)) / max(at - t0, 1e-9), 1)
                for c, at in sorted(caught_up.items())
            },
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
            "pipeline_drain_s": round(applied_at - accepted_at, 2),
            "mode": env.mode,
        }
        if reason:
            result["notice_reason"] = reason
        return result
