"""`Core`: what every feature is given — storage, keys, the clock, ingest and the ports to its peers.

bootstrap builds one `Core` (inside the full `Hub`), lets each feature add its consumers, jobs and
order sections, and points each port at the feature that provides it. Features never look each
other up by name; they call the port attribute, which holds a null object until a provider is wired.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.config import Settings
from deliveryhub.kernel.clock import Clock
from deliveryhub.pii.cipher import KeyRing
from deliveryhub.service_layer.ingest import IngestService
from deliveryhub.service_layer.messaging import BatchHandler, Consumer
from deliveryhub.service_layer.metrics import Metrics
from deliveryhub.service_layer.ports import (
    ActionState,
    AddressLookup,
    AuditTrail,
    ClaimHolds,
    CustomerFiles,
    ExceptionOpener,
    ExceptionRequest,
    Fulfilment,
    NormalisedAddress,
    NoticeFacts,
    OpsAlert,
    OpsAlerts,
    OutsideAction,
    OutsideActions,
    OutsideResult,
    Payments,
    PickupRequest,
    RefundAsk,
    RefundDecision,
    RefundRequest,
    Refunds,
    ReturnAsk,
    ReturnDecision,
    ReturnPickups,
    ReturnsDesk,
    RewardRequest,
    Rewards,
    TrackingLinks,
)
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

# An order section adds one key to GET /v1/orders/{id}: (connection, order id, principal) -> value.
OrderSection = Callable[[Connection, str, Any], Any]


# The null objects accept any arguments (`*_`, `**__`): they stand for a port until its provider is
# wired, and repeating each port's signature here would only be a second copy to keep in step.
class _NoOpsAlerts(OpsAlerts):
    def notify_ops(self, alert: OpsAlert, *_: object, **__: object) -> None:
        log.warning("ops_alert_unsent", kind=alert.kind, key=alert.key, why="notifications feature not wired")


class _NoAudit(AuditTrail):
    def record(self, actor: object, action: str, *_: object, **__: object) -> None:
        log.info("audit_unrecorded", action=action, why="security feature not wired")

    def pii_read(self, *_: object, **__: object) -> None:
        log.info("audit_unrecorded", action="pii.read", why="security feature not wired")


class _NoExceptions(ExceptionOpener):
    def open_exception(self, request: ExceptionRequest, *_: object, **__: object) -> int | None:
        log.warning("exception_unopened", type=request.exception_type, why="monitors feature not wired")
        return None

    def orders_with_exception(self, *_: object, **__: object) -> list[str]:
        return []


class _NoNoticeFacts:
    def notice_sent(self, conn: Connection, order_id: str, stage: str) -> bool:
        return True  # nobody to ask: never raise notice_missing on a hub without notifications


class _NoLinks:
    def issue(self, order_id: str) -> str | None:
        return None

    def order_for_token(self, token: str) -> str | None:
        return None

    def close_customer_links(self, conn: Connection, customer_id: str, reason: str = "erased") -> int:
        return 0


class _NoFiles:
    def purge_customer(self, conn: Connection, customer_id: str) -> int:
        return 0

    def purge_expired(self, now: datetime) -> int:
        return 0


class _NoClaims:
    def orders_with_open_claims(self, conn: Connection, order_ids: Sequence[str]) -> set[str]:
        return set()


def _unconfigured(system: str) -> OutsideResult:
    # Refused, not retried: an operator carries it out by hand from the action_failed exception.
    return OutsideResult("refused", message=f"{system} is not configured for this shop")


class _NoPickups:
    def book_pickup(self, request: PickupRequest, idempotency_key: str) -> OutsideResult:
        return _unconfigured("return pickup")


class _NoPayments:
    def refund(self, request: RefundRequest, idempotency_key: str) -> OutsideResult:
        return _unconfigured("payments")


class _NoFulfilment:
    def release_reservation(self, *_: object, **__: object) -> OutsideResult:
        return _unconfigured("fulfilment (WMS)")

    def push_address(self, *_: object, **__: object) -> OutsideResult:
        return _unconfigured("fulfilment (WMS/TMS)")

    def reship(self, *_: object, **__: object) -> OutsideResult:
        return _unconfigured("fulfilment (WMS)")


class _NoRewards:
    def grant(self, request: RewardRequest, idempotency_key: str) -> OutsideResult:
        return _unconfigured("coupons/points")


class _NoAddressBook:
    def lookup(self, text: str) -> list[NormalisedAddress]:
        return []


class _NoOutside:
    def enqueue(self, conn: Connection, action: OutsideAction) -> bool:
        log.warning("outside_action_unqueued", key=action.key, why="effects feature not wired")
        return False

    def state(self, conn: Connection, key: str) -> ActionState | None:
        return None

    def for_order(self, conn: Connection, order_id: str) -> list[ActionState]:
        return []


class _NoRefunds:
    def refundable(self, conn: Connection, order_id: str) -> int:
        return 0

    def request_refund(self, conn: Connection, ask: RefundAsk) -> RefundDecision:
        return RefundDecision(False, "nothing_paid", 0, 0)


class _NoReturns:
    def _off(self) -> ReturnDecision:
        return ReturnDecision(
            False,
            "unavailable",
            "지금은 반품·교환을 접수할 수 없어요. 상담원을 연결해 드릴게요.",
            "Returns and exchanges cannot be taken here right now; a person will help.",
        )

    def quote(self, order_id: str, reason_code: str | None, kind: str = "return") -> ReturnDecision:
        return self._off()

    def open(self, ask: ReturnAsk) -> ReturnDecision:
        return self._off()

    def inspect(self, *_: object, **__: object) -> ReturnDecision:
        return self._off()


_NULL_PORTS = (
    _NoOpsAlerts,
    _NoAudit,
    _NoExceptions,
    _NoNoticeFacts,
    _NoLinks,
    _NoFiles,
    _NoClaims,
    _NoPickups,
    _NoPayments,
    _NoFulfilment,
    _NoRewards,
    _NoAddressBook,
    _NoOutside,
    _NoRefunds,
    _NoReturns,
)


def is_wired(port: object) -> bool:
    """Whether a Core port has a provider (not the null object it starts as)."""
    return not isinstance(port, _NULL_PORTS)


@dataclass
class Core:
    """Storage, keys, clock, ingest and the typed ports every feature is given."""

    settings: Settings
    db: Database
    keyring: KeyRing
    clock: Clock
    ingest: IngestService
    metrics: Metrics
    consumers: list[Consumer] = field(default_factory=list)
    # Per-source facts applied inside the one `integration_health` consumer (see service_layer/health.py).
    health_handlers: list[BatchHandler] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    order_sections: dict[str, OrderSection] = field(default_factory=dict)
    backlogs: dict[str, Callable[[], int]] = field(default_factory=dict)
    on_start: list[Callable[[], None]] = field(default_factory=list)
    # Ports, filled by bootstrap with the providing feature.
    ops_alerts: OpsAlerts = field(default_factory=_NoOpsAlerts)
    audit: AuditTrail = field(default_factory=_NoAudit)
    exceptions: ExceptionOpener = field(default_factory=_NoExceptions)
    notice_facts: NoticeFacts = field(default_factory=_NoNoticeFacts)
    links: TrackingLinks = field(default_factory=_NoLinks)
    customer_files: CustomerFiles = field(default_factory=_NoFiles)
    claim_holds: ClaimHolds = field(default_factory=_NoClaims)
    # Acting outside (issue 16): outside systems' adapters, the once-only ledger, refunds and returns.
    pickups: ReturnPickups = field(default_factory=_NoPickups)
    payments: Payments = field(default_factory=_NoPayments)
    fulfilment: Fulfilment = field(default_factory=_NoFulfilment)
    rewards: Rewards = field(default_factory=_NoRewards)
    address_book: AddressLookup = field(default_factory=_NoAddressBook)
    outside: OutsideActions = field(default_factory=_NoOutside)
    refunds: Refunds = field(default_factory=_NoRefunds)
    returns: ReturnsDesk = field(default_factory=_NoReturns)
