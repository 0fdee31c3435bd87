"""Ports: what one part of the hub needs from another, declared where it is consumed.

Features receive a `Core` (service_layer/hub.py) whose port attributes bootstrap fills with the
feature that provides them; until then each holds a null object, so a hub built without a feature
still runs (and says so in the log) instead of failing on a missing key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from deliveryhub.service_layer.messaging import Consumer, Message


class Bus(Protocol):
    """Carries committed outbox messages to consumers, at least once, in order per partition."""

    name: str

    async def start(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> None: ...

    async def consume(self, consumer: Consumer, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...

    def lag(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class OpsAlert:
    """One message for the operators: `kind` and `key` make it once-only; `data` are its facts."""

    kind: str
    key: str
    subject: str
    body: str
    data: Mapping[str, Any] | None = None


class OpsAlerts(Protocol):
    """Tells the operators (email, webhook, chat ops channel) once per (kind, key)."""

    def notify_ops(self, alert: OpsAlert, *, conn: Connection | None = None) -> None: ...


class AuditTrail(Protocol):
    """The tamper-evident audit log."""

    def record(
        self,
        actor: object,
        action: str,
        target: str | None,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
    ) -> None: ...

    def pii_read(
        self, principal: object, customer_id: str | None, fields: Iterable[str], why: str
    ) -> None: ...


@dataclass(frozen=True)
class ExceptionRequest:
    """An operational exception another feature asks for: its type, the order (or a `key` for what it is
    about when there is none), the evidence, and the parcel if one."""

    exception_type: str
    order_id: str | None
    key: str | None = None
    evidence: Mapping[str, Any] | None = None
    shipment_id: str | None = None


class ExceptionOpener(Protocol):
    """Opens operational exceptions for other features (monitors provide it)."""

    def open_exception(self, request: ExceptionRequest) -> int | None: ...

    def orders_with_exception(self, conn: Connection, exception_type: str) -> list[str]: ...


class NoticeFacts(Protocol):
    """What the customer has been told (notifications provide it; monitors' notice_missing reads it)."""

    def notice_sent(self, conn: Connection, order_id: str, stage: str) -> bool: ...


class TrackingLinks(Protocol):
    """Signed customer tracking links (notifications provide them)."""

    def issue(self, order_id: str) -> str | None: ...

    def order_for_token(self, token: str) -> str | None: ...

    def close_customer_links(self, conn: Connection, customer_id: str, reason: str = "erased") -> int: ...


class CustomerFiles(Protocol):
    """Files customers uploaded (chat photos), so erasure and retention can delete them."""

    def purge_customer(self, conn: Connection, customer_id: str) -> int: ...

    def purge_expired(self, now: datetime) -> int: ...


class ClaimHolds(Protocol):
    """Orders that must be kept past retention because a claim or dispute on them is still open."""

    def orders_with_open_claims(self, conn: Connection, order_ids: Sequence[str]) -> set[str]: ...
