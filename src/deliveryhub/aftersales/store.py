"""Reading and writing `returns` rows, and the order facts a return needs (order.created data, stages)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore, is_postgres
from deliveryhub.adapters.persistence.orders import load_order, order_origin
from deliveryhub.aftersales.tables import returns
from deliveryhub.domain.order import Order
from deliveryhub.domain.returns import FINAL_STATUSES

# Marketplaces whose own claim API collects the goods and refunds the buyer.
MARKETPLACES = frozenset({"naver", "coupang", "cafe24"})


def marketplace_of(source: str | None) -> str | None:
    """The marketplace a source names (`naver`, `cafe24:mall` → `cafe24`), else None."""
    if not source:
        return None
    head = source.split(":", 1)[0]
    return head if head in MARKETPLACES else None


def new_return_id(kind: str) -> str:
    """A fresh id: RT-… for a return, EX-… for an exchange."""
    return f"{'EX' if kind == 'exchange' else 'RT'}-{uuid.uuid4().hex[:12].upper()}"


def claim_return_id(kind: str, source: str, event_id: str) -> str:
    """A deterministic id for a marketplace's own claim event (a replay finds the same row)."""
    digest = hashlib.sha256(f"{source}\x00{event_id}".encode()).hexdigest()[:12].upper()
    return f"{'EX' if kind == 'exchange' else 'RT'}-M{digest}"


def get(conn: Connection, return_id: str, *, lock: bool = False) -> Row[Any] | None:
    """One return row (locked for update on PostgreSQL when asked)."""
    q = sa.select(returns).where(returns.c.return_id == return_id)
    if lock and is_postgres(conn):
        q = q.with_for_update()
    return conn.execute(q).first()


def open_for_order(conn: Connection, order_id: str, kind: str | None = None) -> Row[Any] | None:
    """The order's newest return or exchange still in progress (of `kind` when given)."""
    q = sa.select(returns).where(returns.c.order_id == order_id, returns.c.status.not_in(FINAL_STATUSES))
    if kind:
        q = q.where(returns.c.kind == kind)
    return conn.execute(q.order_by(returns.c.requested_at.desc(), returns.c.return_id.desc())).first()


def insert(conn: Connection, values: Mapping[str, Any]) -> bool:
    """Insert a new row unless its return id exists; True when inserted."""
    return insert_or_ignore(conn, returns, [dict(values)], ["return_id"]) == 1


def update(conn: Connection, return_id: str, values: Mapping[str, Any]) -> None:
    """Write `values` onto one row."""
    conn.execute(returns.update().where(returns.c.return_id == return_id).values(**values))


@dataclass
class OrderFacts:
    """What a return needs to know of its order."""

    order: Order | None
    data: dict[str, Any] = field(default_factory=dict)  # order.created data (no personal data)
    source: str | None = None  # the source of order.created

    @property
    def delivered_at(self) -> datetime | None:
        """When the order (its last parcel) was delivered."""
        if self.order is None:
            return None
        return self.order.delivered_at or self.order.stages.get("delivered")

    @property
    def handed_over_at(self) -> datetime | None:
        """When the first parcel went to the carrier (or any later stage was reached)."""
        if self.order is None:
            return None
        for stage in ("handed_over", "in_transit", "out_for_delivery", "delivered"):
            if stage in self.order.stages:
                return self.order.stages[stage]
        return None

    @property
    def marketplace(self) -> str | None:
        """The marketplace the order came from, if one."""
        return marketplace_of(self.source)

    @property
    def marketplace_ref(self) -> str | None:
        """The marketplace's own order number, if the order came from one."""
        found = self.data.get("marketplace")
        if isinstance(found, Mapping) and found.get("order_id"):
            return str(found["order_id"])[:200]
        return None


def order_facts(conn: Connection, order_id: str) -> OrderFacts:
    """The order, its order.created data and source (the first one stored)."""
    order = load_order(conn, order_id)
    source, data = order_origin(conn, order_id)
    return OrderFacts(order, data, source)


def list_rows(
    conn: Connection,
    *,
    status: str | None = None,
    kind: str | None = None,
    order_id: str | None = None,
    limit: int = 100,
) -> list[Row[Any]]:
    """Returns, newest first, filtered; `status=open` means every status still in progress."""
    q = sa.select(returns)
    if status == "open":
        q = q.where(returns.c.status.not_in(FINAL_STATUSES))
    elif status:
        q = q.where(returns.c.status == status)
    if kind:
        q = q.where(returns.c.kind == kind)
    if order_id:
        q = q.where(returns.c.order_id == order_id)
    q = q.order_by(returns.c.requested_at.desc(), returns.c.return_id.desc()).limit(limit)
    return list(conn.execute(q).all())


def overdue_rows(conn: Connection, now: datetime, limit: int = 500) -> list[Row[Any]]:
    """Rows in progress whose next step is overdue and not yet reported for their current status."""
    q = (
        sa.select(returns)
        .where(
            returns.c.status.not_in(FINAL_STATUSES),
            returns.c.due_at.is_not(None),
            returns.c.due_at <= now,
            sa.or_(returns.c.stalled_step.is_(None), returns.c.stalled_step != returns.c.status),
        )
        .order_by(returns.c.due_at)
        .limit(limit)
    )
    return list(conn.execute(q).all())


def delivered_replacements(conn: Connection, order_ids: list[str] | None = None) -> list[Any]:
    """Reshipped exchanges whose replacement parcel (by its tracking number) the carrier delivered:
    (return_id, order_id, tracking_no, delivered_at)."""
    p = t.parcels
    q = (
        sa.select(returns.c.return_id, returns.c.order_id, p.c.tracking_no, p.c.delivered_at)
        .join(p, sa.and_(p.c.order_id == returns.c.order_id, p.c.tracking_no == returns.c.reship_tracking_no))
        .where(returns.c.status == "reshipped", p.c.delivered_at.is_not(None))
    )
    if order_ids is not None:
        q = q.where(returns.c.order_id.in_(order_ids))
    return list(conn.execute(q).all())
