"""Messages: what the hub emits through the outbox and carries on the bus (one order's messages share a
partition, so they stay in order), and the consumers that subscribe to them."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

DEFAULT_PARTITIONS = 16


def partition_of(order_id: str | None, partitions: int = DEFAULT_PARTITIONS) -> int:
    """Stable partition of an order, so one order's messages stay in order on the bus."""
    return zlib.crc32((order_id or "").encode()) % partitions


@dataclass(frozen=True)
class Message:
    """One outbox row as it travels on the bus; `id` is the outbox id (the dedupe key), 0 until stored."""

    id: int
    topic: str
    order_id: str | None
    partition: int
    payload: dict[str, Any]

    @classmethod
    def new(
        cls, topic: str, order_id: str | None, payload: dict[str, Any], partitions: int = DEFAULT_PARTITIONS
    ) -> Message:
        """A message to emit (through `adapters.persistence.outbox.write_outbox`), partitioned by order."""
        return cls(0, topic, order_id, partition_of(order_id, partitions), payload)


BatchHandler = Callable[["Connection", Sequence[Message]], None]


@dataclass
class Consumer:
    """A named subscriber; `handle` runs inside the transaction that records the tracking rows."""

    name: str
    handle: BatchHandler
    topics: tuple[str, ...] = ()  # prefixes; empty = every topic
    after_commit: Callable[[Sequence[Message]], None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def wants(self, topic: str) -> bool:
        """Whether this consumer subscribes to `topic`."""
        return not self.topics or topic.startswith(self.topics)
