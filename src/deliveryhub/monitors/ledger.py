"""The stock ledger: system stock per warehouse and SKU (the last physical count minus reservations
since), and the rows a monitors batch will change, locked up front in one key order.

Workers apply different partitions at the same time, and one partition's `inventory.reserved` events
name SKUs in any order: two batches decrementing the same SKUs row by row in different orders deadlock
on PostgreSQL. Locking every row the batch will touch first, sorted by (warehouse, sku), makes the second
batch wait for the first instead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.dialect import is_postgres, upsert
from deliveryhub.monitors.rules import inventory_mismatches
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
    if not keys or not is_postgres(conn):
        return
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        conn.execute(
            sa.select(stock.c.warehouse, stock.c.sku)
            .where(sa.tuple_(stock.c.warehouse, stock.c.sku).in_(chunk))
            .order_by(stock.c.warehouse, stock.c.sku)
            .with_for_update()
        )


def reserve(conn: Connection, warehouse: str | None, items: list[Any]) -> None:
    """Take reserved items off the warehouse's system stock."""
    if not warehouse:
        return
    for it in items:
        if isinstance(it, dict) and it.get("sku"):
            conn.execute(
                stock.update()
                .where(stock.c.warehouse == warehouse, stock.c.sku == str(it["sku"]))
                .values(qty=stock.c.qty - int(it.get("qty") or 1))
            )


@dataclass
class Mismatch:
    """A counted SKU off the system stock by more than the tolerance."""

    sku: str
    evidence: dict[str, Any]
    threshold: dict[str, Any]


def take_count(
    conn: Connection, th: Mapping[str, Any], data: Mapping[str, Any], at: datetime
) -> tuple[list[Mismatch], list[str]]:
    """Compare a physical count (`inventory.snapshot` data) with the system stock, then make the count
    the system stock from now on; returns the mismatches and the counted SKUs that match."""
    warehouse = str(data.get("warehouse") or "")
    counts = {str(k): int(v) for k, v in (data.get("counts") or {}).items()}
    system_counts = data.get("system_counts")
    if isinstance(system_counts, dict):
        expected = {str(k): int(v) for k, v in system_counts.items()}
    else:
        expected = {
            r.sku: r.qty
            for r in conn.execute(sa.select(stock.c.sku, stock.c.qty).where(stock.c.warehouse == warehouse))
        }
    bad = inventory_mismatches(
        counts, expected, int(th.get("tolerance_units", 0)), float(th.get("tolerance_pct", 0.0))
    )
    threshold = {k: th.get(k, 0) for k in ("tolerance_units", "tolerance_pct")}
    mismatches = [Mismatch(str(b["sku"]), b, threshold) for b in bad]
    bad_skus = {m.sku for m in mismatches}
    upsert(
        conn,
        stock,
        [{"warehouse": warehouse, "sku": s, "qty": q, "counted_at": at} for s, q in sorted(counts.items())],
        ["warehouse", "sku"],
    )
    return mismatches, [sku for sku in counts if sku not in bad_skus]
