"""Two workers applying monitors batches at the same time on PostgreSQL, whose stock reservations name the
same SKUs in opposite orders: no deadlock (each batch is applied without any retry) and every
reservation is counted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.monitors.tables import stock
from deliveryhub.service_layer.messaging import Message
from dh_testkit import event, make_hub

pytestmark = pytest.mark.postgres

SKUS = [f"SKU-{i:02d}" for i in range(12)]
ROUNDS = 15
PER_BATCH = 8
START_QTY = 10_000


def reserved(msg_id: int, order_id: str, skus: list[str]) -> Message:
    """An inventory.reserved message for one order, its items in the given order."""
    payload = {
        "event_id": f"r-{msg_id}",
        "source": "wms",
        "type": "inventory.reserved",
        "occurred_at": "2026-11-01T10:05:00+09:00",
        "order_id": order_id,
        "data": {"warehouse": "W1", "items": [{"sku": s, "qty": 1} for s in skus]},
    }
    return Message(msg_id, "inventory.reserved", order_id, 0, payload)


def test_batches_reserving_the_same_skus_in_opposite_orders_never_deadlock(
    tmp_path: Path, master_key: str, pg_url: str
) -> None:
    hub = make_hub(tmp_path, master_key, db_url=pg_url)
    try:
        orders = [f"LK-{i}" for i in range(2 * PER_BATCH)]
        hub.ingest.ingest(
            [
                event(f"c-{o}", "order.created", o, "2026-11-01T10:00:00+09:00", {"warehouse": "W1"})
                for o in orders
            ]
        )
        now = datetime.now(UTC)
        with hub.db.write() as conn:
            conn.execute(
                stock.insert(),
                [{"warehouse": "W1", "sku": s, "qty": START_QTY, "counted_at": now} for s in SKUS],
            )
        handle = next(c for c in hub.consumers if c.name == "monitors").handle
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker(side: int) -> None:
            skus = SKUS if side == 0 else SKUS[::-1]
            mine = orders[side * PER_BATCH : (side + 1) * PER_BATCH]
            for r in range(ROUNDS):
                batch = [reserved(10_000 * side + 100 * r + i, o, skus) for i, o in enumerate(mine)]
                start.wait()
                try:
                    # No retry here: a deadlock surfaces as the test's failure.
                    with hub.db.write() as conn:
                        handle(conn, batch)
                except BaseException as exc:  # reported by the assertion below
                    errors.append(exc)
                    start.abort()
                    return

        threads = [threading.Thread(target=worker, args=(side,)) for side in (0, 1)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        assert not real, [str(e)[:300] for e in real]
        with hub.db.read() as conn:
            qty: dict[str, Any] = dict(conn.execute(sa.select(stock.c.sku, stock.c.qty)).all())
        assert qty == {s: START_QTY - 2 * ROUNDS * PER_BATCH for s in SKUS}
    finally:
        hub.close()
