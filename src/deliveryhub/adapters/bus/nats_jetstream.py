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

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.service_layer.messaging import Consumer, Message, apply_batch

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

    async def start(self) -> None:
        """Connect and make sure the stream exists."""
        self.nc = await nats.connect(
            servers=self.servers, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5
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
        while not stop.is_set():
            try:
                if sub is None:
                    sub = await self._subscribe(consumer, partition)
                msgs = await sub.fetch(self.batch, timeout=1.0)
            except TimeoutError:
                continue
            except Exception as exc:  # broker failover: resubscribe after a pause
                log.warning(
                    "nats_fetch_error", consumer=consumer.name, partition=partition, error=str(exc)[:200]
                )
                sub = None
                await asyncio.sleep(0.5)
                continue
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
                await asyncio.to_thread(apply_batch, self.db, consumer, batch)
            except Exception as exc:
                log.exception("consumer_error", consumer=consumer.name, error=str(exc)[:300])
                for m in msgs:
                    await m.nak(delay=1.0)
                continue
            for m in msgs:
                try:
                    await m.ack()
                except Exception as exc:  # a lost ack means redelivery, which the tracking rows absorb
                    log.warning("nats_ack_error", error=str(exc)[:200])

    async def consume(self, consumer: Consumer, stop: asyncio.Event) -> None:
        """Consume every partition until `stop` is set."""
        await asyncio.gather(*(self._consume_partition(consumer, p, stop) for p in range(self.partitions)))

    async def close(self) -> None:
        """Drain and close the connection."""
        if self.nc is not None:
            try:
                await self.nc.drain()
            except Exception:  # closing an already broken connection
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
