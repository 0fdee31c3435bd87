"""The worker: outbox relay + bus consumers + scheduler. `serve` runs one in a background thread
with the in-process bus; `deliveryhub worker` runs it alone for scale-out."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from deliveryhub.bootstrap import Hub
from deliveryhub.service_layer.ports import Bus
from deliveryhub.service_layer.relay import OutboxRelay, outbox_lag
from deliveryhub.service_layer.scheduler import Scheduler

log = structlog.get_logger(__name__)


# Seconds a stopping worker gives its in-flight work (one consumer batch, one scheduled job, one relay
# batch) before it cancels what is left; well inside a process manager's usual 30 s grace period.
STOP_GRACE_S = 3.0
DISCOVER_EVERY_S = 30.0  # how often `deliveryhub worker` looks for shops created since it started


class Worker:
    """Runs relay, consumers and scheduler until stopped."""

    def __init__(
        self,
        hub: Hub,
        bus: Bus | None = None,
        *,
        relay: bool = True,
        scheduler: bool = True,
        grace: float = STOP_GRACE_S,
    ) -> None:
        self.hub = hub
        self.bus = bus or hub.make_bus()
        published = hub.metrics.relay_published.inc
        self.relay = OutboxRelay(hub.db, self.bus, on_published=published) if relay else None
        # Each consumer's batches counted and timed for /metrics (same names, same handlers).
        self.consumers = [hub.metrics.instrumented(c) for c in hub.consumers]
        self.scheduler = Scheduler(hub.jobs, hub.clock.now) if scheduler else None
        self.grace = grace
        self.stop_event: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self.forced = False
        self._force: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    async def run(self) -> None:
        """Run until `stop()`; then finish in-flight work (at most `grace` seconds) and release everything."""
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        self._force = asyncio.Event()
        await self.bus.start()
        tasks: list[Any] = []
        if self.relay is not None:
            tasks.append(asyncio.create_task(self.relay.run(self.stop_event), name="relay"))
        for consumer in self.consumers:
            tasks.append(
                asyncio.create_task(
                    self.bus.consume(consumer, self.stop_event), name=f"consumer:{consumer.name}"
                )
            )
        if self.scheduler is not None:
            tasks.append(asyncio.create_task(self.scheduler.run(self.stop_event), name="scheduler"))
        # Metrics hold nothing: cancelled at once on stop rather than waited for.
        metrics = asyncio.create_task(self._metrics_loop(self.stop_event), name="metrics")
        self.started.set()
        log.info("worker_started", bus=self.bus.name, consumers=[c.name for c in self.hub.consumers])
        everything: asyncio.Future[Any] = asyncio.gather(*tasks)
        try:
            await self._first(everything, self.stop_event.wait())
            metrics.cancel()
            if not everything.done():
                t0 = time.monotonic()
                log.info("worker_stopping", grace_s=self.grace)
                await self._first(everything, self._force.wait(), timeout=self.grace)
                if not everything.done():
                    # Past the grace period: cancel. Consumers hand their unfinished messages back (nak);
                    # an abandoned transaction is rolled back by the database when the process goes.
                    self.forced = True
                    log.warning(
                        "worker_stop_forced",
                        after_s=round(time.monotonic() - t0, 2),
                        unfinished=[t.get_name() for t in tasks if not t.done()],
                        job=self.scheduler.current if self.scheduler is not None else None,
                    )
                    everything.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await everything
            if not self.forced:
                everything.result()  # a task that crashed on its own surfaces here
        finally:
            metrics.cancel()
            if not everything.done():
                everything.cancel()
            try:
                await asyncio.wait_for(self.bus.close(), timeout=1.5)
            except Exception as exc:  # closing must not keep the relay's leadership
                log.warning("bus_close_failed", error=str(exc)[:200])
            if self.relay is not None:
                self.relay.release()
            log.info("worker_stopped", forced=self.forced)

    @staticmethod
    async def _first(work: asyncio.Future[Any], signal_: Any, timeout: float | None = None) -> None:
        """Wait until `work` is done, `signal_` (a coroutine) returns, or `timeout` passes."""
        waiter: asyncio.Future[Any] = asyncio.ensure_future(signal_)
        try:
            await asyncio.wait([work, waiter], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def _metrics_loop(self, stop: asyncio.Event) -> None:
        refresh = getattr(self.bus, "refresh_lag", None)
        while not stop.is_set():
            try:
                self.hub.metrics.outbox_lag.set(await asyncio.to_thread(outbox_lag, self.hub.db))
                lag = (
                    (await refresh([c.name for c in self.hub.consumers]))
                    if refresh
                    else await asyncio.to_thread(self.bus.lag)
                )
                for name, value in lag.items():
                    self.hub.metrics.consumer_lag.labels(name).set(value)
            except Exception as exc:  # metrics must never stop the worker
                log.warning("metrics_error", error=str(exc)[:200])
            try:
                await asyncio.wait_for(stop.wait(), timeout=5.0)
            except TimeoutError:
                pass

    def stop(self, wait: bool = True) -> None:
        """Ask the worker to stop (thread-safe). From another thread, and when it runs in the thread
        `start_in_thread` made, also wait until it has stopped (at most about `grace` seconds)."""
        if self.loop is not None and self.stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self.loop.call_soon_threadsafe(self.stop_event.set)
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.grace + 5)

    def force(self) -> None:
        """Stop now, without waiting for in-flight work (thread-safe; a second SIGTERM/SIGINT)."""
        self.stop(wait=False)
        if self.loop is not None and self._force is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._force.set)

    def start_in_thread(self) -> threading.Thread:
        """Run the worker in a daemon thread with its own event loop."""
        thread = threading.Thread(
            target=lambda: asyncio.run(self.run()), name="deliveryhub-worker", daemon=True
        )
        self._thread = thread
        thread.start()
        self.started.wait(timeout=30)
        return thread


def run_worker_forever(hub: Hub, grace: float = STOP_GRACE_S) -> None:
    """`deliveryhub worker`: run until SIGTERM/SIGINT, then stop within about `grace` seconds (a second
    signal stops at once)."""
    run_workers_forever([hub], grace)


def run_workers_forever(
    hubs: list[Hub],
    grace: float = STOP_GRACE_S,
    *,
    discover: Callable[[], list[Hub]] | None = None,
    discover_every: float = DISCOVER_EVERY_S,
) -> None:
    """One worker per shop hub in one event loop (each shop has its own outbox, stream and consumers, so a
    busy shop's backlog never sits in front of another's); `discover()` is asked every `discover_every`
    seconds for the hubs of shops created since (their workers join); signals stop them all."""
    workers = [Worker(hub, grace=grace) for hub in hubs]
    known = {id(hub) for hub in hubs}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(w.run()) for w in workers]
        while any(w.stop_event is None for w in workers) and not all(t.done() for t in tasks):
            await asyncio.sleep(0.01)
        signals = 0

        def on_signal(sig: signal.Signals) -> None:
            nonlocal signals
            signals += 1
            stopping.set()
            log.info("worker_signal", signal=sig.name, count=signals)
            for w in workers:
                if signals == 1:
                    w.stop(wait=False)
                else:
                    w.force()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        while discover is not None and not stopping.is_set() and not all(t.done() for t in tasks):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), discover_every)
            if stopping.is_set():
                break
            for hub in await asyncio.to_thread(discover):
                if id(hub) not in known:
                    known.add(id(hub))
                    hubs.append(hub)
                    worker = Worker(hub, grace=grace)
                    workers.append(worker)
                    tasks.append(asyncio.create_task(worker.run()))
                    log.info("worker_shop_added", shop=hub.settings.shop_slug)
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
    finally:
        for hub in hubs:
            hub.close()


RESTART_AFTER_S = (1.0, 5.0, 30.0)  # back-off between restarts of a worker process that died


def _term_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux PR_SET_PDEATHSIG; else nothing)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG


class WorkerProcess:
    """`deliveryhub worker` as a child of `serve --worker-process`: the consumers, relay and scheduler
    run off the API process's GIL (the in-process bus follows the outbox in the database, so a second
    process on the same SQLite file or PostgreSQL works as any scale-out worker does). A child that dies
    is started again after a back-off; `stop` sends SIGTERM and waits for its clean stop."""

    def __init__(self, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.env = env
        self.args = args
        self.proc: Any = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def _spawn(self) -> None:
        import subprocess
        import sys

        command = [sys.executable, "-m", "deliveryhub.entrypoints.cli", *self.args, "worker"]
        # Our own module with fixed args; the child is told SIGTERM if serve dies without
        # stopping it (SIGKILL, a crash), so no orphan worker outlives its server.
        self.proc = subprocess.Popen(command, env=self.env, preexec_fn=_term_with_parent)  # noqa: S603, PLW1509
        log.info("worker_process_started", pid=self.proc.pid)

    def start(self) -> None:
        """Start the child and watch it."""
        self._spawn()
        self._watch = threading.Thread(target=self._supervise, name="worker-process", daemon=True)
        self._watch.start()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            delay = RESTART_AFTER_S[min(self.restarts, len(RESTART_AFTER_S) - 1)]
            log.error("worker_process_died", code=code, restart_in_s=delay)
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            self._spawn()

    def stop(self, timeout: float = STOP_GRACE_S + 10) -> None:
        """SIGTERM the child and wait for it (killed if it does not stop within `timeout`)."""
        self._stopping.set()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: a stuck child must not keep serve up
            log.error("worker_process_killed", pid=self.proc.pid)
            self.proc.kill()
            self.proc.wait()
        log.info("worker_process_stopped", code=self.proc.returncode)


def start_worker_process(settings: Any) -> WorkerProcess:
    """Start `deliveryhub worker` as serve's child on the same database and bus."""
    import os

    env = {**os.environ, "DELIVERYHUB_DB_URL": settings.db_url, "DELIVERYHUB_BUS_URL": settings.bus_url}
    child = WorkerProcess(env)
    child.start()
    return child
