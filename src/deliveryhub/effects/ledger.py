"""The ledger of outside actions (`core.outside`): queue once by key inside the caller's transaction, and
the row-level steps the driver takes (claim with a compare-and-set lease, record the outcome)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence.columns import json_row
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.contracts.events import DATA_MODELS
from deliveryhub.effects.tables import outside_actions as oa
from deliveryhub.service_layer.ports import ActionState, OutsideAction

# Which port method carries out each (system, action): the rows the driver knows how to send.
KNOWN = frozenset(
    {
        ("payments", "refund"),
        ("pickup", "book_pickup"),
        ("fulfilment", "release_reservation"),
        ("fulfilment", "push_address"),
        ("fulfilment", "reship"),
        ("rewards", "grant"),
        ("marketplace", "cancel_order"),
    }
)


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses as dicts, mappings and sequences walked."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _state(row: Row[Any]) -> ActionState:
    return ActionState(row.key, row.status, row.attempts, row.ref, row.last_error)


class Ledger:
    """`core.outside`: the durable, once-only ledger of actions in outside systems."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now

    def enqueue(self, conn: Connection, action: OutsideAction) -> bool:
        """Queue inside the caller's transaction; False when the key was queued before."""
        if (action.system, action.action) not in KNOWN:
            raise ValueError(f"unknown outside action {action.system}/{action.action}")
        if not action.key or len(action.key) > 200:
            raise ValueError("an outside action's key must be 1-200 characters")
        if action.done_event is not None and action.done_event not in DATA_MODELS:
            raise ValueError(f"unknown done_event {action.done_event!r}")
        at = self.now()
        row = {
            "key": action.key,
            "system": action.system,
            "action": action.action,
            "order_id": action.order_id,
            "payload": plain(action.payload),
            "done_event": action.done_event,
            "done_data": plain(action.done_data),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        return insert_or_ignore(conn, oa, [row], ["key"]) == 1

    def state(self, conn: Connection, key: str) -> ActionState | None:
        """Where the action under `key` stands (None when never queued)."""
        row = conn.execute(sa.select(oa).where(oa.c.key == key)).first()
        return _state(row) if row is not None else None

    def for_order(self, conn: Connection, order_id: str) -> list[ActionState]:
        """Every action queued for an order, oldest first."""
        rows = conn.execute(
            sa.select(oa).where(oa.c.order_id == order_id).order_by(oa.c.created_at, oa.c.key)
        ).all()
        return [_state(r) for r in rows]


# ---------------------------------------------------------------- the driver's row steps
def due_keys(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Keys of pending actions whose time has come and that nobody holds (or whose lease expired)."""
    q = (
        sa.select(oa.c.key)
        .where(
            oa.c.status == "pending",
            oa.c.next_attempt_at <= now,
            sa.or_(oa.c.claimed_until.is_(None), oa.c.claimed_until < now),
        )
        .order_by(oa.c.next_attempt_at, oa.c.key)
        .limit(limit)
    )
    return list(conn.execute(q).scalars())


def claim(conn: Connection, key: str, worker: str, now: datetime, lease: timedelta) -> Row[Any] | None:
    """Take the lease on one due action (compare-and-set: only if still pending, due and unheld) and count
    the attempt; the row as claimed, or None when another driver got there first."""
    res = conn.execute(
        oa.update()
        .where(
            oa.c.key == key,
            oa.c.status == "pending",
            oa.c.next_attempt_at <= now,
            sa.or_(oa.c.claimed_until.is_(None), oa.c.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=now + lease, attempts=oa.c.attempts + 1)
    )
    if res.rowcount != 1:
        return None
    return conn.execute(sa.select(oa).where(oa.c.key == key)).first()


def _held(key: str, worker: str) -> Any:
    return sa.and_(oa.c.key == key, oa.c.status == "pending", oa.c.claimed_by == worker)


def finish(
    conn: Connection,
    key: str,
    worker: str,
    now: datetime,
    status: str,
    ref: str | None = None,
    error: str | None = None,
) -> bool:
    """Mark a held action done or failed; False when this driver no longer holds it (another finished it)."""
    res = conn.execute(
        oa.update()
        .where(_held(key, worker))
        .values(
            status=status,
            ref=ref,
            last_error=(error or None) and error[:500],
            done_at=now,
            claimed_by=None,
            claimed_until=None,
        )
    )
    return bool(res.rowcount == 1)


def postpone(conn: Connection, key: str, worker: str, at: datetime, error: str) -> bool:
    """Give a held action back to be tried again at `at`."""
    res = conn.execute(
        oa.update()
        .where(_held(key, worker))
        .values(next_attempt_at=at, last_error=error[:500], claimed_by=None, claimed_until=None)
    )
    return bool(res.rowcount == 1)


# A failed refund is asked for again through core.refunds (under a new key), never re-sent from here: the
# payments feature counted its amount as refundable again when it failed.
RETRYABLE_SYSTEMS = ("pickup", "fulfilment", "rewards", "marketplace")


def retry_failed(conn: Connection, key: str, now: datetime) -> bool:
    """Give a failed action (not a refund) another round of attempts from now; False when not possible.
    `done_at` keeps the last failure's time: the next failure's event id is told apart by it."""
    res = conn.execute(
        oa.update()
        .where(oa.c.key == key, oa.c.status == "failed", oa.c.system.in_(RETRYABLE_SYSTEMS))
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None)
    )
    return bool(res.rowcount == 1)


def due_count(conn: Connection, now: datetime) -> int:
    """How many actions are due to be carried out now (the `effects` backlog)."""
    q = sa.select(sa.func.count()).where(oa.c.status == "pending", oa.c.next_attempt_at <= now)
    return int(conn.execute(q).scalar() or 0)


def order_section(conn: Connection, order_id: str, _principal: Any = None) -> list[dict[str, Any]]:
    """The `outside_actions` section of GET /v1/orders/{id}: what the hub did (or could not do) outside."""
    cols = ("key", "system", "action", "status", "attempts", "ref", "last_error", "created_at", "done_at")
    q = sa.select(*(oa.c[c] for c in cols)).where(oa.c.order_id == order_id)
    q = q.order_by(oa.c.created_at, oa.c.key)
    return [json_row(r) for r in conn.execute(q)]
