"""The order repository: the one way to read orders (with their stage timeline and parcels) into the
domain's `Order`, and to lock order rows for writing in key order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import is_postgres
from deliveryhub.adapters.persistence.keyorder import lock_or_create
from deliveryhub.domain.order import Order, Parcel, parcel_rank

_CHUNK = 500
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
# Built once: coercing a fresh IN list per call costs more than the query on SQLite.
_ORDERS_Q = sa.select(t.orders).where(t.orders.c.order_id.in_(_IDS))
_STAGES_Q = sa.select(t.order_stages.c.order_id, t.order_stages.c.stage, t.order_stages.c.occurred_at).where(
    t.order_stages.c.order_id.in_(_IDS)
)
_PARCELS_Q = sa.select(t.parcels).where(t.parcels.c.order_id.in_(_IDS)).order_by(t.parcels.c.shipment_id)
_LOCK_Q = (
    sa.select(t.orders.c.order_id).where(t.orders.c.order_id.in_(_IDS)).order_by(t.orders.c.order_id)
).with_for_update()
_LOCK_COLUMNS = ("order_id", "stage_rank", "updated_at")


# The domain objects' fields that are stored columns of the same name (the rest are derived or loaded
# separately): rows map onto them by name, so a new column needs no second list here.
_ORDER_FIELDS = tuple(f.name for f in fields(Order) if f.name in t.orders.c)
_PARCEL_FIELDS = tuple(f.name for f in fields(Parcel) if f.name in t.parcels.c)


def _order(r: Any) -> Order:
    row = r._mapping
    return Order(**{name: row[name] for name in _ORDER_FIELDS})


def _parcel(r: Any) -> Parcel:
    row = r._mapping
    return Parcel(rank=parcel_rank(r.status), **{name: row[name] for name in _PARCEL_FIELDS})


def load_orders(conn: Connection, order_ids: Iterable[str]) -> dict[str, Order]:
    """The stored orders among `order_ids`, with stages and parcels (unknown ids are left out)."""
    out: dict[str, Order] = {}
    ids = list(dict.fromkeys(order_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for r in conn.execute(_ORDERS_Q, {"ids": chunk}):
            out[r.order_id] = _order(r)
        for r in conn.execute(_STAGES_Q, {"ids": chunk}):
            if r.order_id in out:
                out[r.order_id].stages[r.stage] = r.occurred_at
        for r in conn.execute(_PARCELS_Q, {"ids": chunk}):
            if r.order_id in out:
                out[r.order_id].parcels.append(_parcel(r))
    return out


def load_order(conn: Connection, order_id: str) -> Order | None:
    """One stored order with stages and parcels, or None."""
    return load_orders(conn, [order_id]).get(order_id)


def order_origin(conn: Connection, order_id: str) -> tuple[str | None, dict[str, Any]]:
    """The source and the data of the order's first stored `order.created` ((None, {}) when none)."""
    row = conn.execute(
        sa.select(t.inbox.c.source, t.inbox.c.data)
        .where(t.inbox.c.order_id == order_id, t.inbox.c.type == "order.created")
        .order_by(t.inbox.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None, {}
    return row.source, dict(row.data) if isinstance(row.data, dict) else {}


def lock_orders(conn: Connection, order_ids: Iterable[str]) -> None:
    """Lock the existing rows of these orders in key order (PostgreSQL; SQLite has one writer anyway).

    Every writer of `orders` locks in this one order, so two writers of overlapping orders wait for each
    other instead of deadlocking."""
    if not is_postgres(conn):
        return
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), _CHUNK):
        conn.execute(_LOCK_Q, {"ids": ids[start : start + _CHUNK]}).all()


def lock_or_create_orders(conn: Connection, order_ids: Iterable[str], now: datetime) -> set[str]:
    """Lock every order row in key order, creating missing ones as empty placeholders (stage_rank -1);
    returns the ids created. Two transactions carrying one new order then run one after the other."""
    rows = [(oid, -1, now) for oid in sorted(set(order_ids))]
    return {str(oid) for oid in lock_or_create(conn, t.orders, _LOCK_COLUMNS, rows, "order_id")}


def delete_placeholders(conn: Connection, order_ids: Iterable[str]) -> None:
    """Drop placeholder rows (stage_rank -1) that `lock_or_create_orders` made and nothing filled."""
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), _CHUNK):
        conn.execute(
            t.orders.delete().where(
                t.orders.c.order_id.in_(ids[start : start + _CHUNK]), t.orders.c.stage_rank == -1
            )
        )
