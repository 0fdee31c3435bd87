"""The order projections an ingest advances: each order loaded once, every new event applied in time
order (`Order.apply`), then orders, stage rows and changed parcels written back in key order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import bulk_insert
from deliveryhub.adapters.persistence.orders import load_orders
from deliveryhub.contracts.events import CanonicalEvent
from deliveryhub.domain.lifecycle import StageReached
from deliveryhub.domain.order import Order
from deliveryhub.kernel.timefmt import parse_date
from deliveryhub.service_layer.ingest.batch import automatic, projects

# Columns an order's own events describe it by (set when given, never cleared).
Described = dict[str, Any]


def project(
    conn: Connection, events: list[CanonicalEvent], now: datetime, created: set[str]
) -> list[StageReached]:
    """Apply the events to their orders and write the orders back; returns the stage transitions.

    Every order row exists and is locked already; `created` are the ones this transaction inserted empty."""
    orders = load_orders(conn, sorted({ev.order_id for ev in events if ev.order_id}))
    described: dict[str, Described] = {}
    transitions: list[StageReached] = []
    for ev in sorted(events, key=lambda e: e.occurred_at):
        if not projects(ev) or ev.order_id is None:
            continue
        order = orders.get(ev.order_id) or orders.setdefault(ev.order_id, Order(order_id=ev.order_id))
        _describe(described.setdefault(ev.order_id, {}), ev)
        transitions += order.apply(ev.type, ev.data, ev.occurred_at, ev.source, automatic(ev), ev.shipment_id)
    touched = [orders[oid] for oid in sorted(described)]
    _write_orders(conn, touched, described, now, created)
    _write_stages(conn, touched)
    _write_parcels(conn, touched, now)
    return transitions


def _describe(described: Described, ev: CanonicalEvent) -> None:
    """The descriptive columns an event sets on its order."""
    d = ev.data
    if ev.type == "order.created":
        described.update(
            customer_id=d.get("customer_id"),
            channel=d.get("channel"),
            total=d.get("total"),
            promised_date=parse_date(d.get("promised_delivery_date")),
            warehouse=d.get("warehouse"),
            region=d.get("region"),
            category=d.get("category"),
            created_at=ev.occurred_at,
        )
    elif ev.type == "order.paid":
        described["paid_at"] = ev.occurred_at
    elif ev.type == "order.cancelled":
        described["cancelled_at"] = ev.occurred_at
    elif ev.type in ("fulfillment.packed", "inventory.reserved") and d.get("warehouse"):
        described["warehouse"] = d["warehouse"]


def _state(order: Order, now: datetime) -> dict[str, Any]:
    return {
        "stage": order.current_stage,
        "stage_rank": order.stage_rank,
        "stage_at": order.stage_at,
        "side_state": order.side_state,
        "side_state_at": order.side_state_at,
        "last_event_at": order.last_event_at,
        "delivered_at": order.delivered_at,
        "updated_at": now,
    }


def _write_orders(
    conn: Connection, orders: list[Order], described: dict[str, Described], now: datetime, created: set[str]
) -> None:
    whole, updates = [], []
    for order in orders:
        values = {
            **_state(order, now),
            **{k: v for k, v in described[order.order_id].items() if v is not None},
        }
        if order.order_id in created:
            # Created (empty) by this transaction: written whole in one fast statement.
            whole.append({**_EMPTY_ORDER, **values, "order_id": order.order_id})
        else:
            updates.append(
                {"b_order_id": order.order_id, **{f"b_{c}": values.get(c) for c in _UPDATE_COLUMNS}}
            )
    rows = [tuple(r[c] for c in _ORDER_COLUMNS) for r in whole]
    bulk_insert(conn, t.orders, _ORDER_COLUMNS, rows, conflict_keys=("order_id",))
    if updates:
        conn.execute(_ORDER_UPDATE, updates)


def _write_stages(conn: Connection, orders: list[Order]) -> None:
    # One row per (order, stage) at the earliest time, which the order already holds.
    rows = {
        (o.order_id, tr.stage): (o.order_id, tr.stage, o.stages[tr.stage], tr.source, tr.automatic)
        for o in orders
        for tr in o.new_transitions
    }
    bulk_insert(
        conn, t.order_stages, _STAGE_COLUMNS, list(rows.values()), conflict_keys=("order_id", "stage")
    )


def _write_parcels(conn: Connection, orders: list[Order], now: datetime) -> None:
    rows = [
        (
            o.order_id,
            p.shipment_id,
            p.carrier,
            p.tracking_no,
            p.status,
            p.status_at,
            p.handed_over_at,
            p.delivered_at,
            p.last_event_at,
            p.eta_min,
            p.eta_max,
            now,
        )
        for o in orders
        for p in o.parcels
        if p.changed
    ]
    bulk_insert(conn, t.parcels, _PARCEL_COLUMNS, rows, conflict_keys=("order_id", "shipment_id"))


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
_STATE_COLUMNS = (
    "stage",
    "stage_rank",
    "stage_at",
    "side_state",
    "side_state_at",
    "last_event_at",
    "delivered_at",
    "updated_at",
)
_DESCRIBED_COLUMNS = (
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
_UPDATE_COLUMNS = _STATE_COLUMNS + _DESCRIBED_COLUMNS
# One executemany for every touched order: state columns are set, descriptive columns only when given.
_ORDER_UPDATE = (
    t.orders.update()
    .where(t.orders.c.order_id == sa.bindparam("b_order_id"))
    .values(
        {
            **{c: sa.bindparam(f"b_{c}", type_=t.orders.c[c].type) for c in _STATE_COLUMNS},
            **{
                c: sa.func.coalesce(sa.bindparam(f"b_{c}", type_=t.orders.c[c].type), t.orders.c[c])
                for c in _DESCRIBED_COLUMNS
            },
        }
    )
)
