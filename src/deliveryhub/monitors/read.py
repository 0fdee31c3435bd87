"""The read side: exception and compensation records as JSON shapes, lists with filters and counts,
the order page's exceptions section, and counts for health pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.kernel.labels import label
from deliveryhub.kernel.timefmt import iso
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors.config import EXCEPTION_TYPES
from deliveryhub.monitors.tables import compensations, exceptions, timers

STATUSES = ("open", "acknowledged", "resolved", "active")


def exception_dict(row: Any, lang: str = "ko") -> dict[str, Any]:
    """JSON shape of an exception record."""
    return {
        "id": row.id,
        "type": row.type,
        "label": label("exception", row.type, lang),
        "order_id": row.order_id,
        "shipment_id": row.shipment_id,
        "carrier": row.carrier,
        "warehouse": row.warehouse,
        "channel": row.channel,
        "status": row.status,
        "evidence": row.evidence,
        "threshold": row.threshold,
        "due_at": iso(row.due_at),
        "opened_at": iso(row.opened_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "resolved_at": iso(row.resolved_at),
        "resolution": row.resolution,
        "assignee": row.assignee,
    }


@dataclass
class ExceptionFilter:
    """Which exceptions to list; `status="active"` means open or acknowledged."""

    status: str | None = "active"
    type: str | None = None
    carrier: str | None = None
    order_id: str | None = None
    warehouse: str | None = None
    channel: str | None = None
    assignee: str | None = None

    def check(self) -> None:
        """Raise ValueError naming the field that holds an unknown value."""
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status: must be one of {', '.join(STATUSES)}")
        if self.type is not None and self.type not in EXCEPTION_TYPES:
            raise ValueError(f"type: must be one of {', '.join(EXCEPTION_TYPES)}")


def list_exceptions(
    db: Database, flt: ExceptionFilter, lang: str = "ko", limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """Exceptions newest first, with counts by type over the same filter (type aside)."""
    flt.check()
    cond: list[sa.ColumnElement[bool]] = []
    if flt.status == "active":
        cond.append(exceptions.c.status != "resolved")
    elif flt.status:
        cond.append(exceptions.c.status == flt.status)
    for col, value in (
        (exceptions.c.carrier, flt.carrier),
        (exceptions.c.order_id, flt.order_id),
        (exceptions.c.warehouse, flt.warehouse),
        (exceptions.c.channel, flt.channel),
        (exceptions.c.assignee, flt.assignee),
    ):
        if value is not None:
            cond.append(col == value)
    with db.read() as conn:
        counts = {k: 0 for k in EXCEPTION_TYPES}
        for row in conn.execute(
            sa.select(exceptions.c.type, sa.func.count()).where(*cond).group_by(exceptions.c.type)
        ):
            counts[row[0]] = int(row[1])
        q = sa.select(exceptions).where(*cond)
        if flt.type is not None:
            q = q.where(exceptions.c.type == flt.type)
        rows = conn.execute(
            q.order_by(exceptions.c.opened_at.desc(), exceptions.c.id.desc()).limit(limit).offset(offset)
        ).all()
    return {
        "items": [exception_dict(r, lang) for r in rows],
        "counts": counts,
        "total": counts[flt.type] if flt.type else sum(counts.values()),
        "limit": limit,
        "offset": offset,
    }


def order_section(conn: Connection, order_id: str, _principal: Any) -> list[dict[str, Any]]:
    """The order's exceptions (newest first) for GET /v1/orders/{id}."""
    rows = conn.execute(
        sa.select(exceptions)
        .where(exceptions.c.order_id == order_id)
        .order_by(exceptions.c.opened_at.desc(), exceptions.c.id.desc())
    ).all()
    return [exception_dict(r) for r in rows]


def open_counts(db: Database) -> dict[str, int]:
    """Active exceptions by type."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(exceptions.c.type, sa.func.count())
            .where(exceptions.c.status != "resolved")
            .group_by(exceptions.c.type)
        ).all()
    return {r[0]: int(r[1]) for r in rows}


def count_pending_timers(db: Database) -> int:
    """How many timers are waiting."""
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(timers).where(timers.c.status == "pending")
            ).scalar_one()
        )


def list_compensations(
    db: Database, status: str | None = None, order_id: str | None = None, limit: int = 100
) -> dict[str, Any]:
    """Compensation decisions, newest first."""
    q = sa.select(compensations)
    if status:
        q = q.where(compensations.c.status == status)
    if order_id:
        q = q.where(compensations.c.order_id == order_id)
    with db.read() as conn:
        rows = conn.execute(q.order_by(compensations.c.id.desc()).limit(limit)).all()
    return {"items": [comp.as_dict(r) for r in rows]}


def compensation(db: Database, comp_id: int) -> dict[str, Any] | None:
    """One compensation record, or None."""
    with db.read() as conn:
        row = conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).first()
    return comp.as_dict(row) if row is not None else None
