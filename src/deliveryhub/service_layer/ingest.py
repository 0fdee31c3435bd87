"""Ingest: validate canonical events and, in one transaction, store each new one once, advance the
order projections, and append outbox rows. Rejected items go to quarantine; they never block the rest.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InternalError, OperationalError

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database, bulk_insert
from deliveryhub.adapters.persistence.keyorder import insert_new, insert_rows
from deliveryhub.adapters.persistence.orders import load_orders, lock_or_create_orders
from deliveryhub.adapters.persistence.outbox import write_outbox
from deliveryhub.contracts.events import CanonicalEvent, ContractError, parse_event
from deliveryhub.contracts.ids import visible
from deliveryhub.domain.lifecycle import StageReached
from deliveryhub.domain.messages import Message
from deliveryhub.domain.messages import partition_of as partition_of  # monitors' import, until it moves
from deliveryhub.domain.order import Order
from deliveryhub.kernel.clock import Clock, SystemClock
from deliveryhub.pii.cipher import KeyRing, seal
from deliveryhub.service_layer.ingest_customers import CustomerWriter

log = structlog.get_logger(__name__)
# Deadlocks with writers outside ingest, a lost connection: the whole transaction is tried again.
_ATTEMPTS = 6


class _RaceLost(Exception):
    """An event id of the batch was stored by a concurrent batch: the transaction is tried again."""


MANUAL_SOURCES = ("ui", "cs", "import:csv", "csv")
StatusDeriver = Callable[[str, str | None, str | None], tuple[str | None, str | None, bool]]


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


def _automatic(ev: CanonicalEvent) -> bool:
    return not (ev.manual or ev.source in MANUAL_SOURCES or ev.source.startswith("ui:"))


def _projects(ev: CanonicalEvent) -> bool:
    """Whether an event advances its order's projection (extension types x-… only ride along)."""
    return bool(ev.order_id) and not ev.type.startswith("x-")


class IngestService:
    """The one write path for canonical events (API, webhooks, importers, simulator, chatbot actions)."""

    def __init__(
        self,
        db: Database,
        keyring: KeyRing,
        *,
        clock: Clock | None = None,
        partitions: int = 16,
        derive_status: StatusDeriver | None = None,
        on_result: Callable[[IngestStats, Sequence[CanonicalEvent]], None] | None = None,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock or SystemClock()
        self.partitions = partitions
        self.derive_status = derive_status
        self.on_result = on_result
        self.customers = CustomerWriter(keyring)
        self.quarantine_key = keyring.master.derive("deliveryhub quarantine v1")

    # ------------------------------------------------------------------ public
    def ingest(self, raw_items: Sequence[Any], *, source_hint: str | None = None) -> list[ItemResult]:
        """Validate and store a batch; returns one result per item, in order."""
        results: list[ItemResult | None] = [None] * len(raw_items)
        valid: list[tuple[int, CanonicalEvent]] = []
        rejected: list[tuple[int, Any, ContractError]] = []
        stats = IngestStats()
        seen: dict[tuple[str, str], int] = {}
        for i, raw in enumerate(raw_items):
            try:
                ev = parse_event(raw)
                self._prepare(ev, stats)
            except ContractError as err:
                rejected.append((i, raw, err))
                results[i] = ItemResult(_raw_id(raw), "rejected", err.as_dict())
                continue
            key = (ev.source, ev.event_id)
            if key in seen:
                results[i] = ItemResult(ev.event_id, "duplicate")
                continue
            seen[key] = i
            valid.append((i, ev))
        accepted_events: list[CanonicalEvent] = []
        snapshots = [dict(ev.data) for _, ev in valid]
        for attempt in range(_ATTEMPTS):
            for (_, ev), snap in zip(valid, snapshots, strict=True):
                ev.data = dict(snap)  # a retried transaction starts from the validated data again
            try:
                with self.db.write(urgent=True) as conn:
                    try:
                        new = self._store(conn, valid, rejected, source_hint)
                    except DBAPIError:
                        # A failed statement can leave the driver connection in a state a rollback does
                        # not clear (a psycopg pipeline in error): never hand it back to the pool.
                        conn.invalidate()
                        raise
                break
            except (IntegrityError, OperationalError, InternalError, _RaceLost) as exc:
                # Concurrent ingests of one order cannot collide (rows are locked in key order); this is
                # a deadlock with another kind of writer or a lost connection: a new transaction.
                if attempt == _ATTEMPTS - 1:
                    raise
                cause = getattr(exc, "orig", None) or exc
                log.warning("ingest_retry", attempt=attempt, error=str(cause)[:200] or type(exc).__name__)
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter, not secrets)
        new_keys = {(ev.source, ev.event_id) for ev in new}
        for i, ev in valid:
            is_new = (ev.source, ev.event_id) in new_keys
            results[i] = ItemResult(ev.event_id, "accepted" if is_new else "duplicate")
            if is_new:
                accepted_events.append(ev)
        stats.accepted = len(accepted_events)
        stats.rejected = len(rejected)
        stats.duplicate = len(raw_items) - stats.accepted - stats.rejected
        if self.on_result:
            self.on_result(stats, accepted_events)
        self.last_stats = stats
        return [r for r in results if r is not None]

    # ------------------------------------------------------------------ steps
    def _prepare(self, ev: CanonicalEvent, stats: IngestStats) -> None:
        data = ev.data
        if ev.type == "shipment.tracking" and not data.get("status"):
            if not ev.source.startswith("carrier:"):
                raise ContractError(
                    "missing_field", "data.status: required unless source is carrier:<code>", "data.status"
                )
            if not (data.get("raw_code") or data.get("raw_status")):
                raise ContractError(
                    "missing_field",
                    "data.status: give status, or raw_code/raw_status to derive it",
                    "data.status",
                )
            carrier = ev.source.split(":", 1)[1]
            tag, reason, known = (None, None, False)
            if self.derive_status is not None:
                tag, reason, known = self.derive_status(carrier, data.get("raw_code"), data.get("raw_status"))
            if not known:
                stats.unknown_statuses.append((carrier, str(data.get("raw_code") or data.get("raw_status"))))
                data["status_unknown"] = True
            if tag:
                data["status"] = tag
            if reason and not data.get("reason"):
                data["reason"] = reason

    def _store(
        self,
        conn: Connection,
        valid: list[tuple[int, CanonicalEvent]],
        rejected: list[tuple[int, Any, ContractError]],
        source_hint: str | None,
    ) -> list[CanonicalEvent]:
        now = self.clock.now()
        events = [ev for _, ev in valid]
        new: list[CanonicalEvent] = []
        if events:
            # Lock (or create) the row of every order the batch projects, in key order, before reading
            # anything: two batches carrying one new order then run one after the other (the second sees
            # the first's events and state) instead of both inserting it.
            order_ids = sorted({str(ev.order_id) for ev in events if _projects(ev)})
            placeholders = lock_or_create_orders(conn, order_ids, now)
            candidates = self._filter_new(conn, events)
            parts = self.customers.take(conn, candidates)
            # An event id may also race under another order (or none): the inbox key decides, once.
            if self._insert_inbox(conn, candidates, now) != len(candidates):
                # Some event id was stored meanwhile by a batch holding other orders (the insert waited
                # for it): start again; the new transaction sees it as a duplicate.
                raise _RaceLost
            new = candidates
            self.customers.write(conn, parts, now)
            unused = placeholders - {ev.order_id for ev in new if _projects(ev)}
            if unused:
                conn.execute(t.orders.delete().where(t.orders.c.order_id.in_(sorted(unused))))
            if new:
                transitions = self._project(conn, new, now, placeholders)
                self._append_outbox(conn, new, transitions, now)
        if rejected:
            self._quarantine(conn, rejected, now, source_hint)
        return new

    def _insert_inbox(self, conn: Connection, events: list[CanonicalEvent], now: datetime) -> int:
        rows = [
            (
                ev.source,
                ev.event_id,
                ev.type,
                ev.order_id,
                ev.shipment_id,
                ev.occurred_at,
                now,
                ev.data,
                not _automatic(ev),
                ev.schema_version,
            )
            for ev in events
        ]
        return insert_new(conn, t.inbox, _INBOX_COLUMNS, rows, ("source", "event_id"))

    def _filter_new(self, conn: Connection, events: list[CanonicalEvent]) -> list[CanonicalEvent]:
        if not events:
            return []
        existing: set[tuple[str, str]] = set()
        keys = [(ev.source, ev.event_id) for ev in events]
        for chunk_start in range(0, len(keys), 500):
            chunk = keys[chunk_start : chunk_start + 500]
            rows = conn.execute(_KNOWN_EVENTS, {"keys": chunk})
            existing.update((r.source, r.event_id) for r in rows)
        return [ev for ev in events if (ev.source, ev.event_id) not in existing]

    def _project(
        self, conn: Connection, events: list[CanonicalEvent], now: datetime, created: set[str]
    ) -> list[StageReached]:
        order_ids = sorted({ev.order_id for ev in events if ev.order_id})
        states = load_orders(conn, order_ids)
        order_rows: dict[str, dict[str, Any]] = {}
        transitions: list[StageReached] = []
        for ev in sorted(events, key=lambda e: e.occurred_at):
            if not _projects(ev) or ev.order_id is None:
                continue
            state = states.get(ev.order_id)
            if state is None:
                state = states[ev.order_id] = Order(order_id=ev.order_id)
            extra = order_rows.setdefault(ev.order_id, {})
            d = ev.data
            if ev.type == "order.created":
                extra.update(
                    customer_id=d.get("customer_id"),
                    channel=d.get("channel"),
                    total=d.get("total"),
                    promised_date=_as_date(d.get("promised_delivery_date")),
                    warehouse=d.get("warehouse"),
                    region=d.get("region"),
                    category=d.get("category"),
                    created_at=ev.occurred_at,
                )
            elif ev.type == "order.paid":
                extra["paid_at"] = ev.occurred_at
            elif ev.type == "order.cancelled":
                extra["cancelled_at"] = ev.occurred_at
            elif ev.type in ("fulfillment.packed", "inventory.reserved") and d.get("warehouse"):
                extra["warehouse"] = d["warehouse"]
            reached = state.apply(ev.type, d, ev.occurred_at, ev.source, _automatic(ev), ev.shipment_id)
            transitions.extend(reached)
        self._write_states(conn, states, order_rows, now, created)
        return transitions

    def _write_states(
        self,
        conn: Connection,
        states: dict[str, Order],
        order_rows: dict[str, dict[str, Any]],
        now: datetime,
        created: set[str],
    ) -> None:
        # Every order row exists and is locked by now (`_store`); rows still go in key order.
        rows, updates, stage_rows, parcel_rows = [], [], [], []
        for oid, st in sorted(states.items()):
            if oid not in order_rows:
                continue
            base = {
                "stage": st.current_stage,
                "stage_rank": st.stage_rank,
                "stage_at": st.stage_at,
                "side_state": st.side_state,
                "side_state_at": st.side_state_at,
                "last_event_at": st.last_event_at,
                "delivered_at": st.delivered_at,
                "updated_at": now,
            }
            extra = {k: v for k, v in order_rows[oid].items() if v is not None}
            if oid in created:
                # Created (empty) by this transaction: written whole in one fast statement.
                rows.append({**_EMPTY_ORDER, **base, **extra, "order_id": oid})
            else:
                updates.append((oid, {**base, **extra}))
            for tr in st.new_transitions:
                stage_rows.append(
                    {
                        "order_id": oid,
                        "stage": tr.stage,
                        "occurred_at": st.stages[tr.stage],
                        "source": tr.source,
                        "automatic": tr.automatic,
                    }
                )
            for p in st.parcels:
                if p.changed:
                    parcel_rows.append(
                        {
                            "order_id": oid,
                            "shipment_id": p.shipment_id,
                            "carrier": p.carrier,
                            "tracking_no": p.tracking_no,
                            "status": p.status,
                            "status_at": p.status_at,
                            "handed_over_at": p.handed_over_at,
                            "delivered_at": p.delivered_at,
                            "last_event_at": p.last_event_at,
                            "eta_min": p.eta_min,
                            "eta_max": p.eta_max,
                            "updated_at": now,
                        }
                    )
        bulk_insert(
            conn,
            t.orders,
            _ORDER_COLUMNS,
            [tuple(r[c] for c in _ORDER_COLUMNS) for r in rows],
            conflict_keys=("order_id",),
        )
        if updates:
            conn.execute(
                _ORDER_UPDATE,
                [
                    {"b_order_id": oid, **{f"b_{c}": values.get(c) for c in _UPDATE_COLUMNS}}
                    for oid, values in updates
                ],
            )
        # Keep the earliest time per stage (the state already did; the last row per key wins here).
        dedup = {(r["order_id"], r["stage"]): r for r in stage_rows}
        bulk_insert(
            conn,
            t.order_stages,
            _STAGE_COLUMNS,
            [tuple(r[c] for c in _STAGE_COLUMNS) for r in dedup.values()],
            conflict_keys=("order_id", "stage"),
        )
        bulk_insert(
            conn,
            t.parcels,
            _PARCEL_COLUMNS,
            [tuple(r[c] for c in _PARCEL_COLUMNS) for r in parcel_rows],
            conflict_keys=("order_id", "shipment_id"),
        )

    def _append_outbox(
        self, conn: Connection, events: list[CanonicalEvent], transitions: list[StageReached], now: datetime
    ) -> None:
        parts = self.partitions
        messages = [Message.new(ev.type, ev.order_id, _event_payload(ev), parts) for ev in events]
        topic = "order.stage_changed"
        messages += [Message.new(topic, tr.order_id, _transition_payload(tr), parts) for tr in transitions]
        write_outbox(conn, messages, now=now)

    def _quarantine(
        self,
        conn: Connection,
        rejected: list[tuple[int, Any, ContractError]],
        now: datetime,
        source_hint: str | None,
    ) -> None:
        rows = []
        counts: dict[str, int] = {}
        for _, raw, err in rejected:
            source = (
                raw.get("source") if isinstance(raw, dict) and isinstance(raw.get("source"), str) else None
            )
            source = visible(source or source_hint or "unknown")[:72]  # no NUL into PostgreSQL
            counts[source] = counts.get(source, 0) + 1
            rows.append(
                {
                    "received_at": now,
                    "source": source,
                    "event_id": (_raw_id(raw) or None),
                    "reason_code": err.code,
                    "reason": err.message[:1000],
                    "field": (err.field or None),
                    "payload_enc": seal(self.quarantine_key, orjson.dumps(raw, default=str), b"quarantine"),
                    "status": "open",
                }
            )
        conn.execute(t.quarantine.insert(), rows)
        hour = now.replace(minute=0, second=0, microsecond=0)
        # One additive upsert in source order: two batches rejecting items of one new source both count.
        insert_rows(
            conn,
            t.ingest_rejections,
            ("source", "hour", "rejected", "duplicates"),
            [(source, hour, n, 0) for source, n in counts.items()],
            conflict=("source", "hour"),
            action='"rejected" = "t"."rejected" + excluded."rejected"',
        )


# Lookups built once: a small batch (one API event, a chat's three ticket events) otherwise spends more
# CPU building and cache-keying these statements than running them.
_KNOWN_EVENTS = sa.select(t.inbox.c.source, t.inbox.c.event_id).where(
    sa.tuple_(t.inbox.c.source, t.inbox.c.event_id).in_(sa.bindparam("keys", expanding=True))
)
_INBOX_COLUMNS = (
    "source",
    "event_id",
    "type",
    "order_id",
    "shipment_id",
    "occurred_at",
    "received_at",
    "data",
    "manual",
    "schema_version",
)
_ORDER_COLUMNS = tuple(c.name for c in t.orders.columns)
_EMPTY_ORDER: dict[str, Any] = {
    c.name: None for c in t.orders.columns if c.name not in ("order_id", "stage_rank", "updated_at")
}
_STAGE_COLUMNS = ("order_id", "stage", "occurred_at", "source", "automatic")
_PARCEL_COLUMNS = (
    "order_id",
    "shipment_id",
    "carrier",
    "tracking_no",
    "status",
    "status_at",
    "handed_over_at",
    "delivered_at",
    "last_event_at",
    "eta_min",
    "eta_max",
    "updated_at",
)
_BASE_COLUMNS = (
    "stage",
    "stage_rank",
    "stage_at",
    "side_state",
    "side_state_at",
    "last_event_at",
    "delivered_at",
    "updated_at",
)
_EXTRA_COLUMNS = (
    "customer_id",
    "channel",
    "total",
    "promised_date",
    "warehouse",
    "region",
    "category",
    "created_at",
    "paid_at",
    "cancelled_at",
)
_UPDATE_COLUMNS = _BASE_COLUMNS + _EXTRA_COLUMNS
# One executemany for every touched order: state columns are set, descriptive columns only when given.
_ORDER_UPDATE = (
    t.orders.update()
    .where(t.orders.c.order_id == sa.bindparam("b_order_id"))
    .values(
        {
            **{c: sa.bindparam(f"b_{c}", type_=t.orders.c[c].type) for c in _BASE_COLUMNS},
            **{
                c: sa.func.coalesce(sa.bindparam(f"b_{c}", type_=t.orders.c[c].type), t.orders.c[c])
                for c in _EXTRA_COLUMNS
            },
        }
    )
)


def _event_payload(ev: CanonicalEvent) -> dict[str, Any]:
    return {
        "event_id": ev.event_id,
        "source": ev.source,
        "type": ev.type,
        "occurred_at": ev.occurred_at.isoformat(),
        "order_id": ev.order_id,
        "shipment_id": ev.shipment_id,
        "data": ev.data,
        "manual": not _automatic(ev),
    }


def _transition_payload(tr: StageReached) -> dict[str, Any]:
    return {
        "order_id": tr.order_id,
        "stage": tr.stage,
        "previous": tr.previous,
        "occurred_at": tr.at.isoformat(),
        "source": tr.source,
        "automatic": tr.automatic,
        "current": tr.current,
    }


def _raw_id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("event_id")
        if isinstance(value, str | int):
            return visible(str(value))[:128]
    return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def replay_quarantined(
    service: IngestService, ids: list[int], fixes: dict[int, dict[str, Any]] | None = None
) -> list[ItemResult]:
    """Re-submit quarantined items (optionally with fixed payloads); replayed ones are marked resolved."""
    from deliveryhub.pii.cipher import open_

    with service.db.read() as conn:
        rows = conn.execute(sa.select(t.quarantine).where(t.quarantine.c.id.in_(ids))).all()
    payloads = []
    for r in rows:
        payload = orjson.loads(open_(service.quarantine_key, r.payload_enc, b"quarantine"))
        if fixes and r.id in fixes:
            payload = fixes[r.id]
        payloads.append((r.id, payload))
    results = service.ingest([p for _, p in payloads])
    done = [qid for (qid, _), res in zip(payloads, results, strict=True) if res.status != "rejected"]
    if done:
        with service.db.write() as conn:
            conn.execute(
                t.quarantine.update()
                .where(t.quarantine.c.id.in_(done))
                .values(status="replayed", resolved_at=datetime.now(UTC))
            )
    return results
