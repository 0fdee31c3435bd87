"""Ports the service layer depends on; adapters implement them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from deliveryhub.service_layer.messaging import Consumer, Message


class Bus(Protocol):
    """Carries committed outbox messages to consumers, at least once, in order per partition."""

    name: str

    async def start(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> None: ...

    async def consume(self, consumer: Consumer, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...

    def lag(self) -> dict[str, int]: ...
