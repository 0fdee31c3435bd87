"""Stock rows a monitors batch will change, locked up front in one key order.

Workers apply different partitions at the same time, and one partition's `inventory.reserved` events
name SKUs in any order: two batches decrementing the same SKUs row by row in different orders deadlock
on PostgreSQL. Locking every row the batch will touch first, sorted by (warehouse, sku), makes the second
batch wait for the first instead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.monitors.tables import stock
from deliveryhub.service_layer.messaging import Message


def stock_keys(messages: Sequence[Message], facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(warehouse, sku) of every stock row the batch's reservations and snapshots write, sorted."""
    keys: set[tuple[str, str]] = set()
    for m in messages:
        data = m.payload.get("data") or {}
        if m.topic == "inventory.reserved":
            f = facts.get(m.order_id or "")
            warehouse = (getattr(f, "warehouse", None) if f is not None else None) or data.get("warehouse")
            if warehouse:
                for it in data.get("items") or []:
                    if isinstance(it, dict) and it.get("sku"):
                        keys.add((str(warehouse), str(it["sku"])))
        elif m.topic == "inventory.snapshot" and data.get("warehouse"):
            keys.update((str(data["warehouse"]), str(sku)) for sku in data.get("counts") or {})
    return sorted(keys)


def lock_stock(conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
    """Lock the existing stock rows of `keys` in key order (PostgreSQL; SQLite has one writer anyway)."""
    if not keys or conn.dialect.name != "postgresql":
        return
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        conn.execute(
            sa.select(stock.c.warehouse, stock.c.sku)
            .where(sa.tuple_(stock.c.warehouse, stock.c.sku).in_(chunk))
            .order_by(stock.c.warehouse, stock.c.sku)
            .with_for_update()
        )
