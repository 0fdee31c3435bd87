"""Exception records: open (at most one active per type and subject, announced on the outbox and to
ops), resolve when the awaited event arrives, and the operators' acknowledge / resolve / assign.
`ExceptionPort` is what other features get as `core.exceptions`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.dialect import insert as dialect_insert
from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.adapters.persistence.outbox import write_outbox
from deliveryhub.domain.messages import Message
from deliveryhub.domain.order import Order
from deliveryhub.kernel.labels import label
from deliveryhub.monitors.config import EXCEPTION_TYPES
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.errors import InvalidTransition, NotFound
from deliveryhub.monitors.read import exception_dict
from deliveryhub.monitors.rules import Finding
from deliveryhub.monitors.tables import exceptions
from deliveryhub.service_layer.ports import ExceptionRequest

ACTIONS = ("acknowledge", "resolve", "assign")


_OPEN_COLUMNS = (
    "type",
    "subject",
    "order_id",
    "shipment_id",
    "carrier",
    "warehouse",
    "channel",
    "status",
    "evidence",
    "threshold",
    "due_at",
    "opened_at",
    "updated_at",
)
_OPEN_STMTS: dict[str, Any] = {}


def _open_stmt(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per dialect (the consumer and the sweep
    open exceptions in their hot loops; building the statement per call cost more than running it)."""
    stmt = _OPEN_STMTS.get(dialect)
    if stmt is None:
        values = {c: sa.bindparam(f"v_{c}", type_=exceptions.c[c].type) for c in _OPEN_COLUMNS}
        stmt = dialect_insert(dialect, exceptions).values(values).on_conflict_do_nothing()
        stmt = _OPEN_STMTS[dialect] = stmt.returning(exceptions.c.id)
    return stmt


def open_exception(
    ctx: Context, conn: Connection, f: Finding, order: Order | None, now: datetime
) -> int | None:
    """Open an exception unless one of that type is already active for the subject; the new id or None."""
    th = ctx.th(f.type, order, carrier=(f.evidence.get("carrier") if order is None else None))
    if not th.get("enabled", True):
        return None
    carrier = order.carrier if order is not None else f.evidence.get("carrier")
    new_id = conn.execute(
        _open_stmt(conn.dialect.name),
        {
            "v_type": f.type,
            "v_subject": f.key,
            "v_order_id": f.order_id,
            "v_shipment_id": f.shipment_id,
            "v_carrier": carrier,
            "v_warehouse": order.warehouse if order else f.evidence.get("warehouse"),
            "v_channel": order.channel if order else None,
            "v_status": "open",
            "v_evidence": f.evidence,
            "v_threshold": f.threshold or None,
            "v_due_at": f.due_at,
            "v_opened_at": now,
            "v_updated_at": now,
        },
    ).scalar()
    if new_id is None:
        return None
    new_id = int(new_id)
    active = ctx.active
    if active is not None and f.key in active:
        active[f.key].add(f.type)
    payload = {
        "exception_id": new_id,
        "type": f.type,
        "order_id": f.order_id,
        "evidence": f.evidence,
        "opened_at": now.isoformat(),
        # occurred_at/source: every outbox consumer (e.g. integration health) may read them.
        "occurred_at": now.isoformat(),
        "source": "monitors",
        "shipment_id": f.shipment_id,
        "carrier": carrier,
    }
    write_outbox(conn, [Message.new("exception.opened", f.order_id, payload, ctx.partitions)], now=now)
    ko, en = label("exception", f.type, "ko"), label("exception", f.type, "en")
    ctx.alert(
        "exception",
        f"exception:{new_id}",
        f"[배송 예외] {ko} — {f.order_id or f.key} / [Exception] {en}",
        f"{ko}: {f.order_id or f.key}\n{en}: {f.evidence}",
        payload,
    )
    return new_id


def resolve(
    ctx: Context,
    conn: Connection,
    subject: str,
    types: Sequence[str],
    now: datetime,
    resolution: str,
    note: dict[str, Any] | None = None,
) -> list[int]:
    """Resolve the active exceptions of these types for a subject (the awaited event arrived)."""
    active = ctx.active
    if active is not None and subject in active and not active[subject].intersection(types):
        return []  # a consumer batch knows its orders' active exceptions: most events resolve nothing
    rows = conn.execute(
        sa.select(exceptions.c.id, exceptions.c.type, exceptions.c.order_id, exceptions.c.evidence).where(
            exceptions.c.subject == subject,
            exceptions.c.type.in_(list(types)),
            exceptions.c.status != "resolved",
        )
    ).all()
    messages = []
    for r in rows:
        evidence = dict(r.evidence or {})
        if note:
            evidence["resolved_by_event"] = note
        conn.execute(
            exceptions.update()
            .where(exceptions.c.id == r.id, exceptions.c.status != "resolved")
            .values(
                status="resolved",
                resolved_at=now,
                resolution=resolution[:200],
                evidence=evidence,
                updated_at=now,
            )
        )
        payload = {
            "exception_id": r.id,
            "type": r.type,
            "order_id": r.order_id,
            "resolution": resolution,
            "resolved_at": now.isoformat(),
            "occurred_at": now.isoformat(),
            "source": "monitors",
        }
        messages.append(Message.new("exception.resolved", r.order_id, payload, ctx.partitions))
    write_outbox(conn, messages, now=now)
    return [r.id for r in rows]


def active_for(conn: Connection, order_ids: Sequence[str]) -> dict[str, set[str]]:
    """Active exception types of these orders (every order present, with an empty set when none)."""
    active: dict[str, set[str]] = {oid: set() for oid in order_ids}
    for start in range(0, len(order_ids), 500):
        for r in conn.execute(
            sa.select(exceptions.c.subject, exceptions.c.type).where(
                exceptions.c.subject.in_(list(order_ids[start : start + 500])),
                exceptions.c.status != "resolved",
            )
        ):
            active.setdefault(r.subject, set()).add(r.type)
    return active


def transition(
    ctx: Context, exc_id: int, action: str, actor: str, note: str | None, assignee: str | None = None
) -> dict[str, Any]:
    """Acknowledge (open → acknowledged; the actor becomes the assignee if nobody is), resolve (manual)
    or assign an exception, recorded in the audit trail; raises NotFound / InvalidTransition."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    now = ctx.now
    with ctx.core.db.write() as conn:
        row = conn.execute(sa.select(exceptions).where(exceptions.c.id == exc_id)).first()
        if row is None:
            raise NotFound(f"no exception {exc_id}")
        evidence = dict(row.evidence or {})
        if note:
            evidence.setdefault("notes", []).append(
                {"by": actor, "at": now.isoformat(), "action": action, "note": note}
            )
        values: dict[str, Any] = {"updated_at": now, "evidence": evidence}
        if action == "acknowledge":
            if row.status != "open":
                raise InvalidTransition(f"exception {exc_id} is {row.status}, not open")
            values.update(status="acknowledged", acknowledged_at=now)
            if row.assignee is None:
                values["assignee"] = actor
        elif action == "resolve":
            if row.status == "resolved":
                raise InvalidTransition(f"exception {exc_id} is already resolved")
            values.update(status="resolved", resolved_at=now, resolution="manual")
        else:
            if row.status == "resolved":
                raise InvalidTransition(f"exception {exc_id} is resolved")
            values["assignee"] = assignee
        conn.execute(exceptions.update().where(exceptions.c.id == exc_id).values(**values))
        fresh = conn.execute(sa.select(exceptions).where(exceptions.c.id == exc_id)).one()
    ctx.core.audit.record(
        actor,
        f"exception.{action}",
        f"exception:{exc_id}",
        {"type": row.type, "order_id": row.order_id, "note": note, "assignee": assignee},
    )
    return exception_dict(fresh)


PER_KEY_TYPES = frozenset({"action_failed"})


class ExceptionPort:
    """`core.exceptions`: other features open exceptions here (each in its own transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def open_exception(self, request: ExceptionRequest) -> int | None:
        """Open an exception; the new id, or None if one of that type is already active for the order."""
        exception_type, order_id, key = request.exception_type, request.order_id, request.key
        evidence, shipment_id = request.evidence, request.shipment_id
        if exception_type not in EXCEPTION_TYPES:
            raise ValueError(f"unknown exception type {exception_type!r}")
        ctx = self.ctx
        now = ctx.now
        ctx.reset_alerts()
        ev = dict(evidence or {})
        if key:
            ev.setdefault("key", key)
        # One active exception per type and order, except a failed outside action: each action (its key)
        # is its own piece of work (a refused refund and a refused WMS release of one order are two).
        by_key = exception_type in PER_KEY_TYPES or not order_id
        finding = Finding(
            exception_type, order_id, ev, shipment_id=shipment_id, subject=key if by_key else None
        )
        with ctx.core.db.write() as conn:
            order = load_order(conn, order_id) if order_id else None
            new = open_exception(ctx, conn, finding, order, now)
        ctx.send_alerts()
        return new

    def orders_with_exception(self, conn: Connection, exception_type: str) -> list[str]:
        """Orders that have an active exception of this type."""
        return [
            str(r)
            for r in conn.execute(
                sa.select(exceptions.c.order_id)
                .where(
                    exceptions.c.type == exception_type,
                    exceptions.c.status != "resolved",
                    exceptions.c.order_id.is_not(None),
                )
                .distinct()
            ).scalars()
        ]
