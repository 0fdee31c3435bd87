"""NATS JetStream bus: one stream, subjects partitioned by order (dh.p<N>.<topic>), durable pull
consumers per (consumer, partition) with max_ack_pending = batch size, so a partition's messages are
applied in order even when many workers pull from it; unacked work is redelivered after ack_wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import nats
import orjson
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from deliveryhub.adapters.persistence.consumers import apply_batch
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.kernel.threads import in_daemon_thread

log = structlog.get_logger(__name__)


def durable_name(consumer: str, partition: int) -> str:
    """JetStream durable of a (consumer, partition); NATS names may not contain '.', '*', '>' or spaces."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in consumer)
    return f"{safe}-p{partition}"


class NatsJetStreamBus:
    """Bus adapter for scale-out: any number of workers on any number of machines."""

    name = "nats"

    def __init__(
        self,
        url: str,
        db: Database,
        *,
        partitions: int = 16,
        stream: str = "DELIVERYHUB",
        replicas: int = 1,
        batch: int = 256,
        ack_wait: float = 10.0,
        concurrency: int = 8,
    ) -> None:
        self.servers = [u if u.startswith("nats://") else "nats://" + u for u in url.split(",")]
        self.db = db
        self.partitions = partitions
        self.stream = stream
        self.replicas = replicas
        self.batch = batch
        self.ack_wait = ack_wait
        self.nc: Any = None
        self.js: Any = None
        self._pending: dict[str, int] = {}
        self._subs: set[Any] = set()
        # Batches applied at once by this process (every consumer × partition fetches on its own). Fewer
        # than the database pool, so none waits for a connection; and a stopping worker has only these
        # to finish: the fetched batches still queued here are handed back at once.
        self.concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        """Connect and make sure the stream exists."""
        self.nc = await nats.connect(
            servers=self.servers,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
            drain_timeout=2,
        )
        self.js = self.nc.jetstream(timeout=10)
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.subject_root}.>"],
            num_replicas=self.replicas,
            duplicate_window=300.0,
        )
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            await self.js.add_stream(config)

    @property
    def subject_root(self) -> str:
        """Subject prefix of this stream."""
        return "dh" if self.stream == "DELIVERYHUB" else self.stream.lower()

    async def publish(self, messages: Sequence[Message]) -> None:
        """Publish pipelined; Nats-Msg-Id = outbox id lets JetStream drop a relay's re-send."""
        acks = [
            self.js.publish(
                # Partitions are fixed at ingest; fold them onto this bus's partition count.
                f"{self.subject_root}.p{m.partition % self.partitions}.{m.topic}",
                orjson.dumps(
                    {
                        "id": m.id,
                        "topic": m.topic,
                        "order_id": m.order_id,
                        "partition": m.partition,
                        "payload": m.payload,
                    }
                ),
                headers={"Nats-Msg-Id": str(m.id)},
            )
            for m in messages
        ]
        for start in range(0, len(acks), 1000):
            await asyncio.gather(*acks[start : start + 1000])

    async def _subscribe(self, consumer: Consumer, partition: int) -> Any:
        durable = durable_name(consumer.name, partition)
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=self.batch,
            ack_wait=self.ack_wait,
            max_deliver=-1,
            filter_subject=f"{self.subject_root}.p{partition}.>",
        )
        return await self.js.pull_subscribe(
            f"{self.subject_root}.p{partition}.>", durable=durable, stream=self.stream, config=config
        )

    async def _consume_partition(self, consumer: Consumer, partition: int, stop: asyncio.Event) -> None:
        sub = None
        try:
            while not stop.is_set():
                try:
                    if sub is None:
                        sub = await self._subscribe(consumer, partition)
                        self._subs.add(sub)
                    # A short fetch: a stopping worker notices `stop` within a second.
                    msgs = await sub.fetch(self.batch, timeout=1.0)
                except TimeoutError:
                    continue
                except Exception as exc:  # broker failover: resubscribe after a pause
                    log.warning(
                        "nats_fetch_error", consumer=consumer.name, partition=partition, error=str(exc)[:200]
                    )
                    await self._forget(sub)
                    sub = None
                    await asyncio.sleep(0.5)
                    continue
                # Fetched messages are always finished, even when `stop` is set meanwhile: applied and
                # acked, or nak'd so that another worker takes them at once.
                await self._apply(consumer, msgs, stop)
        finally:
            await self._forget(sub)

    async def _apply(self, consumer: Consumer, msgs: list[Any], stop: asyncio.Event) -> None:
        if not await self._take_slot(stop):
            # Stopping before this batch started: handed back for another worker to take now.
            await self._settle(msgs, ack=False)
            return
        try:
            await self._apply_now(consumer, msgs)
        finally:
            assert self._slots is not None
            self._slots.release()

    async def _take_slot(self, stop: asyncio.Event) -> bool:
        """Wait for an apply slot; False (holding none) once `stop` is set."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots
        if stop.is_set():
            return False
        if not slots.locked():
            await slots.acquire()
            return True
        taken = asyncio.ensure_future(slots.acquire())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([taken, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not taken.done():
                taken.cancel()
        got = taken.done() and not taken.cancelled()
        if got and stop.is_set():
            slots.release()
            return False
        return got

    async def _apply_now(self, consumer: Consumer, msgs: list[Any]) -> None:
        batch = []
        for m in msgs:
            body = orjson.loads(m.data)
            batch.append(
                Message(
                    int(body["id"]),
                    body["topic"],
                    body.get("order_id"),
                    int(body["partition"]),
                    body["payload"],
                )
            )
        # A slow batch outlives ack_wait and a nak'd one comes back: JetStream may then hand over two
        # copies of one message in a single fetch. One copy per outbox id, or the tracking-row insert
        # violates its key on every retry and the partition stalls.
        batch = sorted({m.id: m for m in batch}.values(), key=lambda x: x.id)
        try:
            await in_daemon_thread(apply_batch, self.db, consumer, batch, name=f"dh-{consumer.name}")
        except asyncio.CancelledError:
            # Forced stop after the grace period: hand the messages back now rather than after ack_wait
            # (should the abandoned batch still commit, its tracking rows make the redelivery a no-op).
            await asyncio.shield(self._settle(msgs, ack=False))
            raise
        except Exception as exc:
            log.exception("consumer_error", consumer=consumer.name, error=str(exc)[:300])
            await self._settle(msgs, ack=False, delay=1.0)
            return
        await self._settle(msgs, ack=True)

    @staticmethod
    async def _settle(msgs: list[Any], *, ack: bool, delay: float | None = None) -> None:
        for m in msgs:
            try:
                await (m.ack() if ack else m.nak(delay=delay))
            except Exception as exc:  # a lost ack means redelivery, which the tracking rows absorb
                log.warning("nats_ack_error", error=str(exc)[:200])

    async def _forget(self, sub: Any) -> None:
        if sub is None:
            return
        self._subs.discard(sub)
        try:
            await asyncio.wait_for(sub.unsubscribe(), timeout=2)
        except Exception:  # a broken connection has no subscription left to end
            log.debug("nats_unsubscribe_failed")

    async def consume(self, consumer: Consumer, stop: asyncio.Event) -> None:
        """Consume every partition until `stop` is set."""
        await asyncio.gather(*(self._consume_partition(consumer, p, stop) for p in range(self.partitions)))

    async def close(self) -> None:
        """Flush what was sent (acks, publications) and close, without drain.

        `drain()` waits for every subscription's queue to empty; a pull subscription's queue is emptied
        only by fetch, which a stopping worker no longer calls, so drain sat out its whole timeout (30 s).
        Consumers have already finished their batches and ended their subscriptions when this runs."""
        if self.nc is None:
            return
        for sub in list(self._subs):
            await self._forget(sub)
        try:
            await self.nc.flush(timeout=1)
        except Exception as exc:  # a broken connection: nothing more can be delivered anyway
            log.warning("nats_flush_failed", error=str(exc)[:200])
        await self.nc.close()

    def lag(self) -> dict[str, int]:
        """Pending messages per consumer as last observed (refreshed by `refresh_lag`)."""
        return dict(self._pending)

    async def refresh_lag(self, consumer_names: Sequence[str]) -> dict[str, int]:
        """Ask JetStream for the pending count of every (consumer, partition)."""
        for name in consumer_names:
            total = 0
            for p in range(self.partitions):
                try:
                    info = await self.js.consumer_info(self.stream, durable_name(name, p))
                    total += info.num_pending + info.num_ack_pending
                except Exception:  # consumer not created yet
                    continue
            self._pending[name] = total
        return dict(self._pending)
