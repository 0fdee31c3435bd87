"""`deliveryhub bench api`: GET /v1/orders/{id} under concurrency 50 vs GET /healthz of the same server.

The server is a real `deliveryhub serve` process seeded with simulated orders. The load generator is
`wrk` (C, one process, two threads) when it is installed, else httpx async in this process; either way
it shares the machine's cores with the server. Throughput moves with whatever else the box is doing;
the server's own CPU per request (user + system time of the server process tree, read from the OS
before and after each timed phase) does not, so both are reported. Each phase's clock starts when the
load starts and stops when it stops; warm-up requests before it are not counted.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from deliveryhub.bench.common import BenchEnv, BenchRequest, percentile, wait_for_quiet

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


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_WRK_SCRIPT = """
local paths = {%s}
local auth = "%s"
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Authorization"] = auth})
end
"""


def parse_wrk_output(out: str) -> tuple[int, dict[str, float], int]:
    """Requests completed, latency percentiles in ms ("50", "99") and errors from `wrk --latency` output."""
    done = re.search(r"(\d+) requests in", out)
    latency = {
        q: float(v) * _UNITS_MS[unit]
        for q, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    for n in re.findall(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in n)
    if done is None or not latency:
        raise RuntimeError(f"could not read wrk's output: {out[-500:]!r}")
    return int(done.group(1)), latency, errors


def _wrk_load(
    wrk: str, base: str, headers: dict[str, str], paths: list[str], seconds: float, script_dir: Path
) -> tuple[int, dict[str, float], int]:
    """Requests completed, latency percentiles (ms: p50, p99) and errors of one `wrk` run."""
    script = script_dir / "paths.lua"
    listed = ", ".join('"' + p.replace('"', "") + '"' for p in paths)
    script.write_text(_WRK_SCRIPT % (listed, headers.get("Authorization", "")), encoding="utf-8")
    threads = min(2, CONCURRENCY)
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{CONCURRENCY}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    return parse_wrk_output(out)


def _phase(
    env: BenchEnv, base: str, headers: dict[str, str], paths: list[str], seconds: float
) -> dict[str, Any]:
    """One timed load phase: requests/s, p50/p99 ms, errors and the server's CPU ms per request."""
    wrk = shutil.which("wrk")
    cpu0 = env.server_cpu_seconds()
    started = time.perf_counter()
    if wrk:
        n, pct, errors = _wrk_load(wrk, base, headers, paths, seconds, env.tmp)
        p50, p99 = pct.get("50"), pct.get("99")
    else:
        n, latencies, errors = asyncio.run(_load(base, headers, paths, seconds))
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    elapsed = time.perf_counter() - started
    cpu = env.server_cpu_seconds() - cpu0
    return {
        "requests": n,
        "requests_per_s": n / elapsed if elapsed else 0.0,
        "p50_ms": p50 or 0.0,
        "p99_ms": p99 or 0.0,
        "errors": errors,
        "cpu_ms_per_request": cpu * 1000 / n if n else None,
        "driver": "wrk" if wrk else "httpx",
    }


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
        # Measure a quiet hub: consumers caught up and the notices the seed caused sent (as bench chat does).
        quiet = wait_for_quiet(hub, timeout=900.0)
        check = httpx.get(f"{base}/v1/orders/{order_ids[0]}", headers=headers, timeout=30)
        check.raise_for_status()
        # Warm-up, then the hub endpoint and the trivial endpoint for the same time each.
        asyncio.run(_load(base, headers, ["/healthz"], 1.0))
        api = _phase(env, base, headers, [f"/v1/orders/{o}" for o in order_ids], seconds)
        trivial = _phase(env, base, headers, ["/healthz"], seconds)
        rps, base_rps = api["requests_per_s"], trivial["requests_per_s"]
        cpu, base_cpu = api["cpu_ms_per_request"], trivial["cpu_ms_per_request"]
        return {
            "requests_per_s": round(rps, 1),
            "p50_ms": round(api["p50_ms"], 2),
            "p99_ms": round(api["p99_ms"], 2),
            "cpu_ms_per_request": round(cpu, 3) if cpu is not None else None,
            "baseline_requests_per_s": round(base_rps, 1),
            "ratio": round(rps / base_rps, 4) if base_rps else None,
            "baseline_p99_ms": round(trivial["p99_ms"], 2),
            "baseline_cpu_ms_per_request": round(base_cpu, 3) if base_cpu is not None else None,
            "errors": api["errors"] + trivial["errors"],
            "load_generator": api["driver"],
            "orders": len(order_ids),
            "concurrency": CONCURRENCY,
            "seconds": seconds,
            "consumers_caught_up": quiet,
            "mode": env.mode,
        }
