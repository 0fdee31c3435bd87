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
    AuditTrail,
    ClaimHolds,
    CustomerFiles,
    ExceptionOpener,
    ExceptionRequest,
    NoticeFacts,
    OpsAlert,
    OpsAlerts,
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
