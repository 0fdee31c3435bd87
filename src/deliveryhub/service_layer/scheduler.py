"""Named periodic jobs. Jobs must be safe to run in several workers at once (they claim their work
with row locks / SKIP LOCKED or are idempotent)."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from deliveryhub.kernel.threads import in_daemon_thread

log = structlog.get_logger(__name__)
_STOPPING: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar(
    "stopping", default=None
)


def stop_requested() -> bool:
    """Whether the worker running this job is stopping: a long job ends at its next safe point (between
    transactions) so the worker exits within its grace period; the next run picks up the rest."""
    check = _STOPPING.get()
    return bool(check and check())


@dataclass
class Job:
    """A periodic job: `run(now)` on a worker's first tick, then every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[datetime], Any]
    # time.monotonic() of the last start; None until the first. (0.0 made the first run depend on the
    # machine's uptime: monotonic counts from boot, so an hourly job ran at start only on hosts up > 1 h.)
    last_run: float | None = field(default=None)
    last_error: str | None = None

    def due(self, at: float) -> bool:
        """Whether the job should run at monotonic time `at`."""
        return self.last_run is None or at - self.last_run >= self.interval


class Scheduler:
    """Runs registered jobs on their intervals."""

    def __init__(self, jobs: list[Job], now: Callable[[], datetime]) -> None:
        self.jobs = jobs
        self.now = now
        self.current: str | None = None  # the job running now (reported by a worker forced to stop)

    def run_due(self, stopping: Callable[[], bool] = lambda: False) -> list[str]:
        """Run every job whose interval has passed (none once `stopping()`); returns their names."""
        ran = []
        token = _STOPPING.set(stopping)
        try:
            for job in self.jobs:
                if stopping():
                    break  # a stopping worker finishes the job it is in, and starts no other
                if job.due(time.monotonic()):
                    self._run(job)
                    ran.append(job.name)
        finally:
            _STOPPING.reset(token)
        return ran

    def _run(self, job: Job) -> None:
        started = job.last_run = time.monotonic()
        self.current = job.name
        try:
            job.run(self.now())
            job.last_error = None
            took = time.monotonic() - started
            if took > 2.0:  # a long job delays every other job and a stopping worker
                log.info("job_slow", job=job.name, seconds=round(took, 2))
        except Exception as exc:  # one failing job must not stop the others
            job.last_error = str(exc)[:300]
            log.exception("job_failed", job=job.name)
        finally:
            self.current = None

    async def run(self, stop: asyncio.Event, tick: float = 0.2) -> None:
        """Run jobs until `stop` is set."""
        while not stop.is_set():
            await in_daemon_thread(self.run_due, stop.is_set, name="dh-scheduler")
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick)
            except TimeoutError:
                pass
