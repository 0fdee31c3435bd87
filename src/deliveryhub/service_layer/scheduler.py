"""Named periodic jobs. Jobs must be safe to run in several workers at once (they claim their work
with row locks / SKIP LOCKED or are idempotent)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass
class Job:
    """A periodic job: `run(now)` every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[datetime], Any]
    last_run: float = field(default=0.0)
    last_error: str | None = None


class Scheduler:
    """Runs registered jobs on their intervals."""

    def __init__(self, jobs: list[Job], now: Callable[[], datetime]) -> None:
        self.jobs = jobs
        self.now = now

    def run_due(self) -> list[str]:
        """Run every job whose interval has passed; returns their names."""
        ran = []
        for job in self.jobs:
            if time.monotonic() - job.last_run >= job.interval:
                job.last_run = time.monotonic()
                try:
                    job.run(self.now())
                    job.last_error = None
                except Exception as exc:  # one failing job must not stop the others
                    job.last_error = str(exc)[:300]
                    log.exception("job_failed", job=job.name)
                ran.append(job.name)
        return ran

    async def run(self, stop: asyncio.Event, tick: float = 0.2) -> None:
        """Run jobs until `stop` is set."""
        while not stop.is_set():
            await asyncio.to_thread(self.run_due)
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick)
            except TimeoutError:
                pass
