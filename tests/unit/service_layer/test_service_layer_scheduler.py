"""The scheduler runs every job on a worker's first tick, whatever the uptime, then every interval."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from deliveryhub.service_layer import scheduler as sched
from deliveryhub.service_layer.scheduler import Job, Scheduler


def _now() -> datetime:
    return datetime(2026, 12, 31, 14, 52, tzinfo=UTC)


@pytest.mark.parametrize("uptime", [5.0, 599.0, 86_400.0])
def test_every_job_runs_on_the_first_tick_whatever_the_uptime(
    monkeypatch: pytest.MonkeyPatch, uptime: float
) -> None:
    # time.monotonic() counts from boot: a fresh machine (5 s) and one up for a day must behave alike.
    clock = {"t": uptime}
    monkeypatch.setattr(sched.time, "monotonic", lambda: clock["t"])
    runs: list[str] = []
    jobs = [
        Job("timers", 5.0, lambda now: runs.append("timers")),
        Job("monitors", 600.0, lambda now: runs.append("monitors")),
        Job("hourly", 3600.0, lambda now: runs.append("hourly")),
    ]
    s = Scheduler(jobs, _now)
    assert s.run_due() == ["timers", "monitors", "hourly"]
    clock["t"] += 10
    assert s.run_due() == ["timers"]
    clock["t"] += 600
    assert s.run_due() == ["timers", "monitors"]
    assert runs.count("hourly") == 1


def test_a_stopping_worker_starts_no_job() -> None:
    ran: list[Any] = []
    s = Scheduler([Job("monitors", 600.0, ran.append)], _now)
    assert s.run_due(stopping=lambda: True) == []
    assert ran == [] and s.jobs[0].last_run is None
    assert s.run_due() == ["monitors"] and s.jobs[0].last_run is not None
    assert s.jobs[0].last_run <= time.monotonic()
