"""Ports: what one part of the hub needs from another, declared where it is consumed.

Features receive a `Core` (service_layer/hub.py) whose port attributes bootstrap fills with the
feature that provides them; until then each holds a null object, so a hub built without a feature
still runs (and says so in the log) instead of failing on a missing key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.engine import Connection

from deliveryhub.contracts.outside import (
    NormalisedAddress,
    OutsideResult,
    PickupRequest,
    RefundRequest,
    RewardRequest,
)
from deliveryhub.service_layer.messaging import Consumer, Message

__all__ = [
    "NormalisedAddress",
    "OutsideResult",
    "PickupRequest",
    "RefundRequest",
    "RewardRequest",
]


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


# ---------------------------------------------------------------------------------------------------
# Acting outside (issue 16): the outside systems' ports (adapters provide them), the durable ledger that
# drives them once (the effects feature), and the after-sales ports other features call.
# ---------------------------------------------------------------------------------------------------


class ReturnPickups(Protocol):
    """Books return pickups (carrier-return HTTP port, or the marketplace's claim API)."""

    def book_pickup(self, request: PickupRequest, idempotency_key: str) -> OutsideResult: ...


class Payments(Protocol):
    """The payment provider (Toss Payments): refunds, each at most once per idempotency key."""

    def refund(self, request: RefundRequest, idempotency_key: str) -> OutsideResult: ...


class Fulfilment(Protocol):
    """The shop's WMS/TMS/OMS as far as the hub acts on them."""

    def release_reservation(
        self, order_id: str, items: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> OutsideResult: ...

    def push_address(
        self, order_id: str, address: Mapping[str, Any], idempotency_key: str
    ) -> OutsideResult: ...

    def reship(
        self,
        order_id: str,
        return_id: str,
        items: Sequence[Mapping[str, Any]],
        address: Mapping[str, Any],
        idempotency_key: str,
    ) -> OutsideResult: ...


class Rewards(Protocol):
    """The shop's coupon/points system."""

    def grant(self, request: RewardRequest, idempotency_key: str) -> OutsideResult: ...


class AddressLookup(Protocol):
    """A road-name address search (도로명주소 API); [] when nothing matched or the service is unreachable."""

    def lookup(self, text: str) -> list[NormalisedAddress]: ...


@dataclass(frozen=True)
class OutsideAction:
    """One action to carry out in an outside system, exactly once.

    `key` is the idempotency key, deterministic from what the action is for (e.g. `release:ORD-1`,
    `refund:return:RT-1`): queuing the same key twice does nothing, and it is sent as the provider's
    Idempotency-Key on every attempt, so a restart or a retry after a 500 never acts twice.
    `payload` holds the request's fields (JSON). On success the effects feature records `done_event`
    (a canonical event type; `action.completed` when None) with `done_data` plus the result's `ref`,
    under the event id `act:<key>`; when refused or out of attempts it records `action.failed` and opens
    an `action_failed` exception for the operators."""

    key: str
    system: Literal["payments", "pickup", "fulfilment", "rewards", "marketplace"]
    action: Literal[
        "refund", "book_pickup", "release_reservation", "push_address", "reship", "grant", "cancel_order"
    ]
    order_id: str | None
    payload: Mapping[str, Any]
    done_event: str | None = None
    done_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionState:
    """Where a queued outside action stands."""

    key: str
    status: Literal["pending", "done", "failed"]
    attempts: int
    ref: str | None
    last_error: str | None


class OutsideActions(Protocol):
    """The durable ledger of outside actions (the effects feature provides it)."""

    def enqueue(self, conn: Connection, action: OutsideAction) -> bool:
        """Queue inside the caller's transaction; False when the key was queued before."""
        ...

    def state(self, conn: Connection, key: str) -> ActionState | None: ...

    def for_order(self, conn: Connection, order_id: str) -> list[ActionState]: ...


@dataclass(frozen=True)
class RefundAsk:
    """Money to give back for an order; `key` makes it once-only (e.g. `refund:return:RT-1`)."""

    order_id: str
    amount: int
    cause: Literal["return", "cancel", "compensation", "manual"]
    key: str
    reason: str
    return_id: str | None = None


@dataclass(frozen=True)
class RefundDecision:
    """queued, or why not: nothing_paid, over_refund (more than is left of what was paid), duplicate."""

    ok: bool
    code: Literal["queued", "duplicate", "nothing_paid", "over_refund", "no_payment_key"]
    amount: int
    refundable: int


class Refunds(Protocol):
    """Refunds against what the customer paid (the payments feature provides it): never more than was
    paid, never twice."""

    def refundable(self, conn: Connection, order_id: str) -> int: ...

    def request_refund(self, conn: Connection, ask: RefundAsk) -> RefundDecision: ...


@dataclass(frozen=True)
class ReturnAsk:
    """A customer's, agent's or marketplace's request to return or exchange an order."""

    order_id: str
    kind: Literal["return", "exchange"]
    reason: str | None
    reason_code: str | None
    items: Sequence[Any]
    actor: str
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnDecision:
    """The workflow's answer, in words for the customer (Korean and English)."""

    ok: bool
    code: str
    message_ko: str
    message_en: str
    return_id: str | None = None
    status: str | None = None
    fee: int = 0
    fee_payer: Literal["customer", "shop"] | None = None
    event_ids: tuple[str, ...] = ()


class ReturnsDesk(Protocol):
    """Returns and exchanges (the aftersales feature provides it)."""

    def quote(self, order_id: str, reason_code: str | None, kind: str = "return") -> ReturnDecision:
        """What opening would answer (eligibility, fee, who pays), without opening anything."""
        ...

    def open(self, ask: ReturnAsk) -> ReturnDecision: ...

    def inspect(
        self,
        return_id: str,
        result: Literal["pass", "fail"],
        note: str | None,
        actor: str,
        photo_id: str | None = None,
    ) -> ReturnDecision: ...
