"""Shared helpers of the monitors integration tests: a hub with the monitors feature on a ManualClock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.bootstrap import bootstrap
from deliveryhub.monitors.tables import exceptions, timers


def monitor_hub(
    tmp_path: Path, master_key: str, clock: Any, db_url: str | None = None, **settings: Any
) -> Any:
    """A hub on a ManualClock with only the monitors feature wired (other features are tested elsewhere, and a
    broken neighbour must not hide what this feature does)."""
    from deliveryhub.monitors import wiring

    hub = bootstrap(
        clock=clock,
        db_url=db_url or f"sqlite:///{tmp_path}/hub.db",
        data_dir=tmp_path,
        master_key=master_key,
        env="test",
        features=False,
        **settings,
    )
    hub.monitors = wiring.register(hub)
    hub.exceptions = hub.monitors.exceptions  # the port bootstrap points at monitors
    return hub


def all_exceptions(hub: Any) -> list[Any]:
    """Every exception row, oldest first."""
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(exceptions).order_by(exceptions.c.id)))


def timer_rows(hub: Any) -> list[Any]:
    """Every timer row."""
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(timers).order_by(timers.c.id)))


def ingest_ok(hub: Any, events: list[dict[str, Any]]) -> None:
    """Ingest and insist nothing was rejected."""
    results = hub.ingest.ingest(events)
    bad = [r.as_dict() for r in results if r.status == "rejected"]
    assert not bad, bad


def ingest_due(hub: Any, timeline: list[tuple[Any, dict[str, Any]]], start: int, now: Any) -> int:
    """Ingest the events of a time-sorted timeline from `start` on that are due by `now`; the next index."""
    end = start
    while end < len(timeline) and timeline[end][0] <= now:
        end += 1
    if end > start:
        ingest_ok(hub, [e for _, e in timeline[start:end]])
    return end
