"""The worker: outbox relay + bus consumers + scheduler. `serve` runs one in a background thread
with the in-process bus; `deliveryhub worker` runs it alone for scale-out."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

import structlog

from deliveryhub.bootstrap import Hub
from deliveryhub.service_layer.ports import Bus
from deliveryhub.service_layer.relay import OutboxRelay, outbox_lag
from deliveryhub.service_layer.scheduler import Scheduler

log = structlog.get_logger(__name__)


class Worker:
    """Runs relay, consumers and scheduler until stopped."""

    def __init__(
        self, hub: Hub, bus: Bus | None = None, *, relay: bool = True, scheduler: bool = True
    ) -> None:
        self.hub = hub
        self.bus = bus or hub.make_bus()
        self.relay = OutboxRelay(hub.db, self.bus) if relay else None
        self.scheduler = Scheduler(hub.jobs, hub.clock.now) if scheduler else None
        self.stop_event: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()

    async def run(self) -> None:
        """Run until `stop()`."""
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        await self.bus.start()
        tasks: list[Any] = []
        if self.relay is not None:
            tasks.append(asyncio.create_task(self.relay.run(self.stop_event)))
        for consumer in self.hub.consumers:
            tasks.append(asyncio.create_task(self.bus.consume(consumer, self.stop_event)))
        if self.scheduler is not None:
            tasks.append(asyncio.create_task(self.scheduler.run(self.stop_event)))
        tasks.append(asyncio.create_task(self._metrics_loop(self.stop_event)))
        self.started.set()
        log.info("worker_started", bus=self.bus.name, consumers=[c.name for c in self.hub.consumers])
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.bus.close()
            if self.relay is not None:
                self.relay.release()

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

    def stop(self) -> None:
        """Ask the worker to stop (thread-safe)."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)

    def start_in_thread(self) -> threading.Thread:
        """Run the worker in a daemon thread with its own event loop."""
        thread = threading.Thread(
            target=lambda: asyncio.run(self.run()), name="deliveryhub-worker", daemon=True
        )
        thread.start()
        self.started.wait(timeout=30)
        return thread


def run_worker_forever(hub: Hub) -> None:
    """`deliveryhub worker`: run until SIGINT/SIGTERM."""
    worker = Worker(hub)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(worker.run())
        while worker.stop_event is None:
            await asyncio.sleep(0.01)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        await task

    asyncio.run(main())
