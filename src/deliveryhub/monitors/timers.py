"""Durable timers: SLA deadlines and deferred work in the database. Armed and cancelled inside the
consumer's transaction; claimed by any worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL) under a lease;
fired exactly once because the effect and the `fired` mark commit together only while the claim holds."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence.dialect import insert as dialect_insert
from deliveryhub.adapters.persistence.dialect import is_postgres
from deliveryhub.monitors.tables import timers


class ClaimLost(Exception):
    """The timer was re-armed, cancelled or re-claimed while this worker held it."""


_ARM_COLUMNS = (
    "kind",
    "subject",
    "order_id",
    "due_at",
    "payload",
    "status",
    "attempts",
    "claimed_by",
    "claimed_until",
    "created_at",
    "fired_at",
    "result",
)
# A re-armed timer keeps its key (kind, subject) and when it was first created; the rest is the new arming's.
_REARMED = tuple(c for c in _ARM_COLUMNS if c not in ("kind", "subject", "created_at"))
# Statements are built once per dialect and flag: building an upsert per call cost more than running it.
_ARM_CACHE: dict[tuple[str, bool], Any] = {}


def _arm_stmt(dialect: str, keep_earlier: bool) -> Any:
    key = (dialect, keep_earlier)
    if key not in _ARM_CACHE:
        stmt = dialect_insert(dialect, timers).values(
            {c: sa.bindparam(f"v_{c}", type_=timers.c[c].type) for c in _ARM_COLUMNS}
        )
        update: dict[str, Any] = {k: stmt.excluded[k] for k in _REARMED}
        if keep_earlier:
            update["due_at"] = sa.case(
                (
                    sa.and_(timers.c.status == "pending", timers.c.due_at < stmt.excluded.due_at),
                    timers.c.due_at,
                ),
                else_=stmt.excluded.due_at,
            )
        _ARM_CACHE[key] = stmt.on_conflict_do_update(index_elements=["kind", "subject"], set_=update)
    return _ARM_CACHE[key]


# Pending timers of the orders in the consumer batch being applied: most events cancel nothing, and
# asking the database once per event dominated the consumer's cost.
_BATCH_PENDING: ContextVar[dict[str, set[tuple[str, str]]] | None] = ContextVar("batch_pending", default=None)


def begin_batch(conn: Connection, order_ids: Sequence[str]) -> Token[dict[str, set[tuple[str, str]]] | None]:
    """Load the pending timers of these orders for the duration of one consumer batch."""
    pending: dict[str, set[tuple[str, str]]] = {oid: set() for oid in order_ids}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        for r in conn.execute(
            sa.select(timers.c.order_id, timers.c.kind, timers.c.subject).where(
                timers.c.order_id.in_(ids[start : start + 500]), timers.c.status == "pending"
            )
        ):
            pending[r.order_id].add((r.kind, r.subject))
    return _BATCH_PENDING.set(pending)


def end_batch(token: Token[dict[str, set[tuple[str, str]]] | None]) -> None:
    """Forget the batch's pending-timer view."""
    _BATCH_PENDING.reset(token)


def _nothing_to_cancel(kinds: Sequence[str], subject: str | None, order_id: str | None) -> bool:
    pending = _BATCH_PENDING.get()
    if pending is None:
        return False
    oid = order_id if order_id is not None else (subject.split("|", 1)[0] if subject else None)
    if oid is None or oid not in pending:
        return False
    return not any(k in kinds and (subject is None or s == subject) for k, s in pending[oid])


def _forget(kinds: Sequence[str], subject: str | None, order_id: str | None) -> None:
    pending = _BATCH_PENDING.get()
    oid = order_id if order_id is not None else (subject.split("|", 1)[0] if subject else None)
    if pending is None or oid not in pending:
        return
    pending[oid] = {(k, s) for k, s in pending[oid] if not (k in kinds and (subject is None or s == subject))}


def arm(
    conn: Connection,
    kind: str,
    subject: str,
    due_at: datetime,
    now: datetime,
    *,
    order_id: str | None = None,
    payload: dict[str, Any] | None = None,
    keep_earlier: bool = False,
) -> None:
    """Create or re-arm the timer (kind, subject) to fire at `due_at`.

    `keep_earlier` keeps a pending timer's earlier due time (e.g. several events starting the same SLA)."""
    values = {
        "kind": kind,
        "subject": subject,
        "order_id": order_id,
        "due_at": due_at,
        "payload": payload or {},
        "status": "pending",
        "attempts": 0,
        "claimed_by": None,
        "claimed_until": None,
        "created_at": now,
        "fired_at": None,
        "result": None,
    }
    conn.execute(_arm_stmt(conn.dialect.name, keep_earlier), {f"v_{k}": v for k, v in values.items()})
    pending = _BATCH_PENDING.get()
    if pending is not None and order_id in pending:
        pending[order_id].add((kind, subject))


_KINDS: sa.BindParameter[Any] = sa.bindparam("c_kinds", expanding=True)
_CANCEL_SET = {
    "status": "cancelled",
    "fired_at": sa.bindparam("c_now", type_=timers.c.fired_at.type),
    "result": sa.bindparam("c_reason", type_=timers.c.result.type),
    "claimed_by": None,
    "claimed_until": None,
}
_CANCEL_BASE = timers.update().where(timers.c.status == "pending", timers.c.kind.in_(_KINDS))
_CANCEL: dict[tuple[bool, bool], Any] = {
    (by_subject, by_order): _CANCEL_BASE.where(
        *([timers.c.subject == sa.bindparam("c_subject")] if by_subject else []),
        *([timers.c.order_id == sa.bindparam("c_order")] if by_order else []),
    ).values(_CANCEL_SET)
    for by_subject in (False, True)
    for by_order in (False, True)
}


def cancel(
    conn: Connection,
    *,
    kinds: Sequence[str],
    subject: str | None = None,
    order_id: str | None = None,
    now: datetime,
    reason: str = "awaited event arrived",
) -> int:
    """Cancel pending timers of these kinds for a subject (or every subject of an order)."""
    if _nothing_to_cancel(kinds, subject, order_id):
        return 0
    _forget(kinds, subject, order_id)
    params: dict[str, Any] = {"c_kinds": list(kinds), "c_now": now, "c_reason": reason[:200]}
    if subject is not None:
        params["c_subject"] = subject
    if order_id is not None:
        params["c_order"] = order_id
    res = conn.execute(_CANCEL[(subject is not None, order_id is not None)], params)
    return int(res.rowcount or 0)


def claim(conn: Connection, worker: str, now: datetime, lease: timedelta, limit: int = 100) -> list[Row[Any]]:
    """Claim up to `limit` due timers for `worker` (skipping rows other workers hold locked)."""
    q = (
        sa.select(timers.c.id)
        .where(
            timers.c.status == "pending",
            timers.c.due_at <= now,
            sa.or_(timers.c.claimed_until.is_(None), timers.c.claimed_until < now),
        )
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
    )
    if is_postgres(conn):
        q = q.with_for_update(skip_locked=True)
    ids = list(conn.execute(q).scalars())
    if not ids:
        return []
    conn.execute(
        timers.update().where(timers.c.id.in_(ids)).values(claimed_by=worker, claimed_until=now + lease)
    )
    return list(
        conn.execute(sa.select(timers).where(timers.c.id.in_(ids)).order_by(timers.c.due_at, timers.c.id))
    )


def finish(
    conn: Connection, timer: Row[Any], worker: str, now: datetime, result: str, status: str = "fired"
) -> None:
    """Mark a claimed timer done; raises ClaimLost (rolling back its effects) if the claim no longer holds."""
    res = conn.execute(
        timers.update()
        .where(
            timers.c.id == timer.id,
            timers.c.claimed_by == worker,
            timers.c.status == "pending",
            timers.c.due_at == timer.due_at,
        )
        .values(status=status, fired_at=now, result=result[:200], claimed_by=None, claimed_until=None)
    )
    if res.rowcount != 1:
        raise ClaimLost(f"timer {timer.id} is no longer held by {worker}")


def reschedule(
    conn: Connection, timer: Row[Any], worker: str, due_at: datetime, attempts: int, result: str
) -> None:
    """Release a claimed timer to fire again later (retry with backoff)."""
    res = conn.execute(
        timers.update()
        .where(timers.c.id == timer.id, timers.c.claimed_by == worker, timers.c.status == "pending")
        .values(due_at=due_at, attempts=attempts, result=result[:200], claimed_by=None, claimed_until=None)
    )
    if res.rowcount != 1:
        raise ClaimLost(f"timer {timer.id} is no longer held by {worker}")


def pending(conn: Connection, order_id: str) -> list[Row[Any]]:
    """Pending timers of an order (for the order view and tests)."""
    return list(
        conn.execute(
            sa.select(timers)
            .where(timers.c.order_id == order_id, timers.c.status == "pending")
            .order_by(timers.c.due_at)
        )
    )
