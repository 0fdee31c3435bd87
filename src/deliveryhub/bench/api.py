"""`deliveryhub bench api`: GET /v1/orders/{id} under concurrency 50 vs GET /healthz of the same server.

The server is a real `deliveryhub serve` process seeded with simulated orders; the load generator is
httpx async in this process (a separate process from the server, sharing the machine's cores).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from deliveryhub.bench.common import BenchEnv, BenchRequest, percentile, wait_for_consumers

CONCURRENCY = 50


async def _load(
    base: str, headers: dict[str, str], paths: list[str], seconds: float
) -> tuple[int, list[float], int]:
    """Requests completed, latencies (ms) and errors over `seconds` with CONCURRENCY workers."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.perf_counter() < stop_at:
                path = paths[rng.randrange(len(paths))]
                t0 = time.perf_counter()
                try:
                    resp = await client.get(path)
                    ok = resp.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    errors += 1

        await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    return len(latencies), latencies, errors


def run(req: BenchRequest) -> dict[str, Any]:
    """Measure; returns the JSON object of `deliveryhub bench api --json`."""
    orders, seconds = req.orders, req.seconds
    from deliveryhub.bench.ingest import shop_events

    seconds = seconds or 8.0
    with BenchEnv(req.db_url, req.bus_url) as env:
        hub = env.bootstrap()
        events = shop_events(orders or 1000)
        for i in range(0, len(events), 1000):
            hub.ingest.ingest(events[i : i + 1000])
        order_ids = sorted({e["order_id"] for e in events if e["type"] == "order.created"})
        key = env.api_key("ops")
        base = env.serve()
        headers = {"Authorization": f"Bearer {key}"}
        quiet = wait_for_consumers(hub)
        check = httpx.get(f"{base}/v1/orders/{order_ids[0]}", headers=headers, timeout=30)
        check.raise_for_status()
        # Warm-up, then the hub endpoint and the trivial endpoint for the same time each.
        asyncio.run(_load(base, headers, ["/healthz"], 1.0))
        n_api, lat_api, err_api = asyncio.run(
            _load(base, headers, [f"/v1/orders/{o}" for o in order_ids], seconds)
        )
        n_base, lat_base, err_base = asyncio.run(_load(base, headers, ["/healthz"], seconds))
        rps = n_api / seconds
        base_rps = n_base / seconds
        return {
            "requests_per_s": round(rps, 1),
            "p50_ms": round(percentile(lat_api, 50) or 0.0, 2),
            "p99_ms": round(percentile(lat_api, 99) or 0.0, 2),
            "baseline_requests_per_s": round(base_rps, 1),
            "ratio": round(rps / base_rps, 4) if base_rps else None,
            "baseline_p99_ms": round(percentile(lat_base, 99) or 0.0, 2),
            "errors": err_api + err_base,
            "orders": len(order_ids),
            "concurrency": CONCURRENCY,
            "seconds": seconds,
            "consumers_caught_up": quiet,
            "mode": env.mode,
        }
