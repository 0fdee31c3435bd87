"""One ingest call: items validated into a batch (per-item results, duplicates within the batch), and
the batch's transaction, tried again on a fresh connection when the database aborts it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InternalError, OperationalError
from tenacity import RetryCallState

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.contracts.events import CanonicalEvent, ContractError, parse_event
from deliveryhub.contracts.ids import visible
from deliveryhub.kernel.retry import retrying

log = structlog.get_logger(__name__)

MANUAL_SOURCES = ("ui", "cs", "import:csv", "csv")
StatusDeriver = Callable[[str, str | None, str | None], tuple[str | None, str | None, bool]]
Rejected = tuple[int, Any, ContractError]
T = TypeVar("T")
# Deadlocks with writers outside ingest, a lost connection: the whole transaction is tried again.
ATTEMPTS = 6


class RaceLost(Exception):
    """An event id of the batch was stored by a concurrent batch: the transaction is tried again."""


_RETRYABLE = (IntegrityError, OperationalError, InternalError, RaceLost)


@dataclass
class ItemResult:
    """Per-item answer of POST /v1/events."""

    event_id: str | None
    status: str  # accepted | duplicate | rejected
    error: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of INTERFACE.md."""
        out: dict[str, Any] = {"event_id": self.event_id, "status": self.status}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class IngestStats:
    """What one ingest call did (for metrics and import summaries)."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    unknown_statuses: list[tuple[str, str]] = field(default_factory=list)


def automatic(ev: CanonicalEvent) -> bool:
    """Whether a system sent the event (not a person in the UI, CS or a CSV import)."""
    return not (ev.manual or ev.source in MANUAL_SOURCES or ev.source.startswith("ui:"))


def projects(ev: CanonicalEvent) -> bool:
    """Whether an event advances its order's projection (extension types x-… only ride along)."""
    return bool(ev.order_id) and not ev.type.startswith("x-")


def raw_id(raw: Any) -> str | None:
    """The event id of a raw item, made safe to store and show, if it has one."""
    if isinstance(raw, dict):
        value = raw.get("event_id")
        if isinstance(value, str | int):
            return visible(str(value))[:128]
    return None


@dataclass
class Batch:
    """The items of one ingest call after validation, and their results as they become known."""

    size: int
    results: dict[int, ItemResult] = field(default_factory=dict)
    valid: list[tuple[int, CanonicalEvent]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    stats: IngestStats = field(default_factory=IngestStats)
    _validated: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> list[CanonicalEvent]:
        """The valid events, in item order."""
        return [ev for _, ev in self.valid]

    def restore(self) -> None:
        """Give every event its validated data again (a retried transaction starts from it)."""
        for (_, ev), data in zip(self.valid, self._validated, strict=True):
            ev.data = dict(data)

    def finish(self, new: Sequence[CanonicalEvent]) -> list[CanonicalEvent]:
        """Record which valid events were stored (the rest were duplicates); returns the stored ones."""
        new_keys = {(ev.source, ev.event_id) for ev in new}
        accepted = []
        for i, ev in self.valid:
            is_new = (ev.source, ev.event_id) in new_keys
            self.results[i] = ItemResult(ev.event_id, "accepted" if is_new else "duplicate")
            if is_new:
                accepted.append(ev)
        self.stats.accepted = len(accepted)
        self.stats.rejected = len(self.rejected)
        self.stats.duplicate = self.size - self.stats.accepted - self.stats.rejected
        return accepted

    def item_results(self) -> list[ItemResult]:
        """One result per item, in item order."""
        return [self.results[i] for i in range(self.size)]


def validate(raw_items: Sequence[Any], derive_status: StatusDeriver | None) -> Batch:
    """Parse every item; a repeated (source, event_id) within the batch is a duplicate of the first."""
    batch = Batch(size=len(raw_items))
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(raw_items):
        try:
            ev = parse_event(raw)
            _derive_carrier_status(ev, batch.stats, derive_status)
        except ContractError as err:
            batch.rejected.append((i, raw, err))
            batch.results[i] = ItemResult(raw_id(raw), "rejected", err.as_dict())
            continue
        key = (ev.source, ev.event_id)
        if key in seen:
            batch.results[i] = ItemResult(ev.event_id, "duplicate")
            continue
        seen.add(key)
        batch.valid.append((i, ev))
    batch._validated = [dict(ev.data) for _, ev in batch.valid]
    return batch


def _derive_carrier_status(ev: CanonicalEvent, stats: IngestStats, derive: StatusDeriver | None) -> None:
    """A carrier's tracking event may give its raw code instead of a status: map it (or mark it unknown)."""
    data = ev.data
    if ev.type != "shipment.tracking" or data.get("status"):
        return
    if not ev.source.startswith("carrier:"):
        raise ContractError(
            "missing_field", "data.status: required unless source is carrier:<code>", "data.status"
        )
    if not (data.get("raw_code") or data.get("raw_status")):
        raise ContractError(
            "missing_field", "data.status: give status, or raw_code/raw_status to derive it", "data.status"
        )
    carrier = ev.source.split(":", 1)[1]
    tag, reason, known = (
        derive(carrier, data.get("raw_code"), data.get("raw_status")) if derive else (None, None, False)
    )
    if not known:
        stats.unknown_statuses.append((carrier, str(data.get("raw_code") or data.get("raw_status"))))
        data["status_unknown"] = True
    if tag:
        data["status"] = tag
    if reason and not data.get("reason"):
        data["reason"] = reason


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    cause = getattr(exc, "orig", None) or exc
    log.warning(
        "ingest_retry", attempt=state.attempt_number - 1, error=str(cause)[:200] or type(exc).__name__
    )


def in_fresh_transactions(
    db: Database, work: Callable[[Connection], T], before_each: Callable[[], None]
) -> T:
    """Run `work` in one urgent write transaction, tried again in a new one (on a fresh connection) when
    the database aborts it: concurrent ingests of one order cannot collide (rows are locked in key order),
    so this is a deadlock with another kind of writer, a lost connection, or a lost race on an event id."""
    for attempt in retrying(ATTEMPTS, base_s=0.05, max_s=1.6, retry_on=_RETRYABLE, before_sleep=_log_retry):
        with attempt:
            before_each()
            with db.write(urgent=True) as conn:
                try:
                    return work(conn)
                except DBAPIError:
                    # A failed statement can leave the driver connection in a state a rollback does not
                    # clear (a psycopg pipeline in error): never hand it back to the pool.
                    conn.invalidate()
                    raise
    raise AssertionError("unreachable: the last attempt re-raises")
