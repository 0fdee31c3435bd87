"""bench kpi at a small size: the JSON keys, and the DuckDB baseline computes the engine's numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dh_testkit import make_hub


def test_bench_kpi_json_shape() -> None:
    from deliveryhub.bench.common import BenchRequest
    from deliveryhub.bench.kpi import run

    out = run(BenchRequest(orders=3000))
    for key in (
        "orders",
        "events",
        "seconds_full_catalog",
        "seconds_dashboard_refresh",
        "baseline_seconds",
        "ratio",
    ):
        assert key in out
    assert out["orders"] == 3000 and 7.5 * 3000 < out["events"] < 8.5 * 3000
    assert out["seconds_full_catalog"] > 0 and out["ratio"] > 0
    assert out["dashboard_refresh_mode"] == "incremental"


def test_duckdb_baseline_matches_engine(tmp_path: Path, master_key: str) -> None:
    from deliveryhub.bench.kpi import CORE, TZ, baseline_duckdb, generate
    from deliveryhub.kpi.engine import KpiEngine

    hub = make_hub(tmp_path, master_key, features=False)
    try:
        now = datetime(2026, 11, 22, tzinfo=UTC)
        generate(hub.db, 2000, now, days=20)
        engine = KpiEngine(hub.db, now=lambda: now)
        res = engine.compute(now.date() - timedelta(days=30), now.date(), "day", "carrier", TZ, list(CORE))
        _, table = baseline_duckdb(engine.store.current(), TZ)
        cols = {
            "on_time_delivery_rate": "on_time",
            "delivery_delay_rate": "late",
            "avg_delivery_days": "delivery_days",
            "avg_transit_days": "transit_days",
            "order_processing_hours": "processing_hours",
        }
        rows = table.to_pylist()
        checked = 0
        for key, col in cols.items():
            base = {(r["day"].isoformat(), r["carrier"]): r[col] for r in rows if r[col] is not None}
            for s in res["kpis"][key]["series"]:
                want = base[(s["period"], s["group"])]
                assert math.isclose(s["value"], want, rel_tol=1e-9, abs_tol=1e-12), (key, s, want)
                checked += 1
            assert len(res["kpis"][key]["series"]) == len(base)
        assert checked > 100
    finally:
        hub.close()
