"""Helpers of the effects integration tests: a hub pointed at the local outside servers, orders, rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.effects.driver import Driver
from deliveryhub.effects.tables import outside_actions
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import OutsideAction
from dh_testkit import drain, event, make_hub, order_created

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 10:00 KST
AT = "2026-12-01T10:00:00+09:00"
CUSTOMER = {"name": "김민수", "phone": "010-2345-6789"}


def point_at(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Point every hub built from now on at the servers (DELIVERYHUB_OUTSIDE_*)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def effects_hub(tmp_path: Path, master_key: str, clock: ManualClock, db_url: str | None = None) -> Any:
    """A fully wired hub on this test's database with a pinned clock."""
    return make_hub(tmp_path, master_key, db_url=db_url, clock=clock)


def new_order(hub: Any, oid: str, *, paid: int | None = None) -> None:
    """An order received (and paid when `paid`), projected and consumed."""
    items = [{"sku": "SKU-1", "qty": 2, "price": 15000}]
    events = [order_created(f"{oid}-c", oid, AT, CUSTOMER, items=items)]
    if paid is not None:
        data = {"amount": paid, "payment_key": f"pay_{oid}", "provider": "tosspayments"}
        events.append(event(f"{oid}-p", "order.paid", oid, AT, data))
    assert all(r.status == "accepted" for r in hub.ingest.ingest(events))
    drain(hub)


def say(hub: Any, event_id: str, type_: str, oid: str, data: dict[str, Any], source: str = "oms") -> str:
    """Ingest one event and run the consumers; its ingest status."""
    status = str(hub.ingest.ingest([event(event_id, type_, oid, AT, data, source=source)])[0].status)
    drain(hub)
    return status


def rows(hub: Any) -> dict[str, Any]:
    """Every outside action row by key."""
    with hub.db.read() as conn:
        return {r.key: r for r in conn.execute(sa.select(outside_actions))}


def inbox(hub: Any, prefix: str) -> list[Any]:
    """Stored events whose id starts with `prefix` (the hub's own act:/actfail: records)."""
    with hub.db.read() as conn:
        q = sa.text("SELECT source, event_id, type, data FROM inbox WHERE event_id LIKE :p ORDER BY id")
        return list(conn.execute(q, {"p": prefix + "%"}))


def enqueue_release(hub: Any, oid: str, qty: int = 1) -> bool:
    """Queue the WMS release of the order's reservation (`qty` of SKU-1); whether it was new."""
    payload = {"order_id": oid, "items": [{"sku": "SKU-1", "qty": qty}]}
    with hub.db.write() as conn:
        return bool(
            hub.outside.enqueue(
                conn, OutsideAction(f"release:{oid}", "fulfilment", "release_reservation", oid, payload)
            )
        )


def race_drivers(hub: Any, clock: ManualClock, count: int) -> int:
    """Start `count` drivers at once (a barrier) and wait for them; the rows they tried between them."""
    drivers = [Driver(hub, worker=f"w{i}") for i in range(count)]
    start = threading.Barrier(len(drivers))
    tried: list[int] = []

    def go(d: Driver) -> None:
        start.wait()
        tried.append(d.run(clock.now()))

    threads = [threading.Thread(target=go, args=(d,)) for d in drivers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(tried)
