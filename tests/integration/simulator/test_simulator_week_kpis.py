"""The simulator's week, fed to a real hub over HTTP, yields the KPI values it was configured for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.simulator.run import run_simulation
from deliveryhub.simulator.shop import KST, ShopConfig
from dh_testkit import make_hub, serve_hub

WEEK_START = datetime(2026, 11, 2, tzinfo=KST)  # Mon 2 Nov 2026: a plain week, no sales event


@pytest.fixture
def served_hub(tmp_path: Path, master_key: str) -> Iterator[tuple[Any, str, str]]:
    """A hub on SQLite served by uvicorn on a free port (no background worker: KPIs read the inbox)."""
    from deliveryhub.security.apikeys import create_api_key

    hub = make_hub(tmp_path, master_key)
    key = create_api_key(hub.db, "sim", "integration")
    with serve_hub(hub, run_worker=False) as base:
        yield hub, base, key


@pytest.mark.slow
def test_simulated_week_kpis_fall_in_configured_ranges(served_hub: tuple[Any, str, str]) -> None:
    from deliveryhub.kpi.engine import KpiEngine

    hub, base, key = served_hub
    config = ShopConfig(
        orders_per_day=120,
        delay_rate=0.05,
        tracking_stale_rate=0.02,
        stock_sync_error_rate=0.038,
        skus_counted_per_day=36,
        sales_events=(),
    )
    # The week as it happened: every event up to Sunday midnight (parcels still in flight stay in flight).
    summary = run_simulation(
        base,
        key,
        days=7,
        orders_per_day=120,
        speed=0,
        seed=3,
        start=WEEK_START,
        config=config,
        chat=False,
        batch_size=1000,
    )
    assert summary["rejected"] == 0, summary["rejections"]
    assert summary["accepted"] == summary["events_sent"] > 9_000
    assert 700 <= summary["orders"] <= 1000

    # The hub derived the carriers' statuses itself (the shop sends raw codes/texts only).
    with hub.db.read() as conn:
        stages = dict(conn.execute(sa.text("SELECT stage, COUNT(*) FROM orders GROUP BY stage")).all())
        unknown = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM inbox WHERE type = 'shipment.tracking' "
                "AND data NOT LIKE '%\"status\":%'"
            )
        ).scalar_one()
    assert (
        stages.get("delivered", 0) > 400
        and stages.get("in_transit", 0) + stages.get("out_for_delivery", 0) > 0
    )
    assert unknown == 0

    # Evaluated at the end of the week, as the dashboard would have shown it then.
    engine = KpiEngine(hub.db, now=lambda: datetime(2026, 11, 9, tzinfo=KST))
    result = engine.compute(
        "2026-11-02",
        "2026-11-08",
        grain="week",
        kpis=["delivery_delay_rate", "inventory_sync_error_rate", "tracking_stale_rate"],
    )
    kpis = result["kpis"]
    delay = kpis["delivery_delay_rate"]["value"]
    sync = kpis["inventory_sync_error_rate"]["value"]
    stale = kpis["tracking_stale_rate"]["value"]
    print(
        "simulated week KPIs:",
        {"delivery_delay_rate": delay, "inventory_sync_error_rate": sync, "tracking_stale_rate": stale},
    )
    assert delay is not None and 0.025 <= delay <= 0.09, kpis["delivery_delay_rate"]
    assert sync is not None and 0.015 <= sync <= 0.07, kpis["inventory_sync_error_rate"]
    assert stale is not None and 0.005 <= stale <= 0.05, kpis["tracking_stale_rate"]
