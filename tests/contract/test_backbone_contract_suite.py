"""One contract suite for the backbone, run against every adapter: SQLite and PostgreSQL storage,
in-process and NATS JetStream buses (all real, on this machine)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.worker import Worker
from dh_testkit import event, make_hub

BACKENDS = [
    pytest.param(("sqlite", "inprocess"), id="sqlite-inprocess"),
    pytest.param(("postgres", "inprocess"), id="postgres-inprocess", marks=pytest.mark.postgres),
    pytest.param(("sqlite", "nats"), id="sqlite-nats", marks=pytest.mark.nats),
    pytest.param(("postgres", "nats"), id="postgres-nats", marks=[pytest.mark.postgres, pytest.mark.nats]),
]


class Backend:
    """A hub plus a way to run its bus until every outbox message has been applied."""

    def __init__(self, hub: Any, bus_kind: str, nats_url: str | None) -> None:
        self.hub = hub
        self.bus_kind = bus_kind
        self.nats_url = nats_url
        self.stream = "T" + uuid.uuid4().hex[:10].upper()

    def make_bus(self) -> Any:
        if self.bus_kind == "nats":
            from deliveryhub.adapters.bus.nats_jetstream import NatsJetStreamBus

            return NatsJetStreamBus(
                self.nats_url or "", self.hub.db, partitions=4, stream=self.stream, ack_wait=2
            )
        from deliveryhub.adapters.bus.inprocess import InProcessBus

        return InProcessBus(self.hub.db)

    def settle(self, timeout: float = 60.0) -> None:
        """Run a worker until every consumer has applied every outbox message."""
        worker = Worker(self.hub, self.make_bus(), scheduler=False)
        worker.start_in_thread()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with self.hub.db.read() as conn:
                    total = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
                    done = conn.execute(
                        sa.select(t.processed_messages.c.consumer, sa.func.count()).group_by(
                            t.processed_messages.c.consumer
                        )
                    ).all()
                counts = dict(done)
                if all(counts.get(c.name, 0) >= total for c in self.hub.consumers):
                    return
                time.sleep(0.1)
            raise AssertionError(f"consumers did not catch up: {counts} of {total}")
        finally:
            worker.stop()
            time.sleep(0.3)

    def cleanup(self) -> None:
        if self.bus_kind == "nats":
            import nats

            async def drop() -> None:
                nc = await nats.connect(self.nats_url)
                try:
                    await nc.jetstream().delete_stream(self.stream)
                except Exception:
                    pass
                await nc.close()

            asyncio.run(drop())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, master_key: str) -> Iterator[Backend]:
    store, bus = request.param
    db_url = None
    if store == "postgres":
        db_url = request.getfixturevalue("pg_url")
    nats_url = request.getfixturevalue("nats_url") if bus == "nats" else None
    hub = make_hub(tmp_path, master_key, db_url=db_url, features=False)
    b = Backend(hub, bus, nats_url)
    try:
        yield b
    finally:
        b.cleanup()
        hub.close()


def lifecycle(order_id: str, n: int = 0) -> list[dict[str, Any]]:
    day = "2026-11-0"
    return [
        event(
            f"{order_id}-c",
            "order.created",
            order_id,
            f"{day}1T10:00:00+09:00",
            {
                "customer": {
                    "name": "김민지",
                    "phone": f"010-5555-{n:04d}",
                    "email": f"minji{n}@example.com",
                },
                "address": {"zip": "04524", "line1": "서울특별시 중구 세종대로 110"},
                "items": [{"sku": "TSHIRT-L", "qty": 2, "price": 15000}],
                "total": 33000,
                "channel": "web",
                "promised_delivery_date": "2026-11-04",
            },
        ),
        event(f"{order_id}-p", "order.paid", order_id, f"{day}1T10:01:00+09:00", {"amount": 33000}),
        event(f"{order_id}-r", "inventory.reserved", order_id, f"{day}1T10:05:00+09:00", source="wms"),
        event(
            f"{order_id}-k",
            "fulfillment.packed",
            order_id,
            f"{day}1T15:00:00+09:00",
            {"packaging": "green"},
            source="wms",
        ),
        event(
            f"{order_id}-w",
            "shipment.waybill_created",
            order_id,
            f"{day}1T16:00:00+09:00",
            {"carrier": "cj", "tracking_no": "553825406594"},
            source="tms",
        ),
        event(
            f"{order_id}-h",
            "shipment.handed_over",
            order_id,
            f"{day}1T18:00:00+09:00",
            {"carrier": "cj"},
            source="carrier:cj",
        ),
        event(f"{order_id}-d", "shipment.delivered", order_id, f"{day}3T14:00:00+09:00", source="carrier:cj"),
    ]


def counts(hub: Any) -> dict[str, int]:
    with hub.db.read() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in [
                ("inbox", t.inbox),
                ("orders", t.orders),
                ("stages", t.order_stages),
                ("outbox", t.outbox),
                ("quarantine", t.quarantine),
                ("customers", t.customers),
            ]
        }


def health_total(hub: Any) -> int:
    with hub.db.read() as conn:
        return int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.source_stats.c.events), 0))).scalar_one()
        )


def test_same_batch_twice_is_duplicate_everywhere_and_has_no_second_effect(backend: Backend):
    batch = lifecycle("A-1") + lifecycle("A-2", 2)
    first = backend.hub.ingest.ingest(batch)
    assert [r.status for r in first] == ["accepted"] * len(batch)
    backend.settle()
    before = counts(backend.hub)
    before_health = health_total(backend.hub)
    second = backend.hub.ingest.ingest(batch)
    assert [r.status for r in second] == ["duplicate"] * len(batch)
    assert [r.event_id for r in second] == [e["event_id"] for e in batch]
    backend.settle()
    assert counts(backend.hub) == before
    assert health_total(backend.hub) == before_health == len(batch)


def test_mixed_batch_stores_the_valid_items_and_quarantines_the_rest(backend: Backend):
    good = lifecycle("B-1")[:2]
    naive = event("bad-naive", "order.paid", "B-1", "2026-11-01T10:00:00")
    unknown = event("bad-type", "order.teleported", "B-1", "2026-11-01T10:00:00Z")
    no_order = event("bad-order", "order.paid", None, "2026-11-01T10:00:00Z")
    del no_order["order_id"]
    results = backend.hub.ingest.ingest([good[0], naive, unknown, no_order, good[1]])
    assert [r.status for r in results] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert results[1].error["field"] == "occurred_at"
    assert results[2].error["field"] == "type"
    assert results[3].error["field"] == "order_id"
    with backend.hub.db.read() as conn:
        q = conn.execute(
            sa.select(t.quarantine.c.event_id, t.quarantine.c.reason_code, t.quarantine.c.field).order_by(
                t.quarantine.c.id
            )
        ).all()
    assert [(r.event_id, r.field) for r in q] == [
        ("bad-naive", "occurred_at"),
        ("bad-type", "type"),
        ("bad-order", "order_id"),
    ]
    assert counts(backend.hub)["inbox"] == 2


def test_delivered_before_handover_leaves_the_order_delivered_with_an_ordered_timeline(backend: Backend):
    events = lifecycle("C-1")
    delivered, handed = events[6], events[5]
    backend.hub.ingest.ingest(events[:5])
    backend.hub.ingest.ingest([delivered])
    backend.hub.ingest.ingest([handed])
    backend.settle()
    from deliveryhub.views.orders import order_detail

    with backend.hub.db.read() as conn:
        detail = order_detail(conn, "C-1")
    assert detail is not None
    assert detail["stage"] == "delivered"
    stages = [s["stage"] for s in detail["timeline"]]
    assert stages == [
        "received",
        "stock_confirmed",
        "picked_packed",
        "waybill_created",
        "handed_over",
        "delivered",
    ]
    times = [s["occurred_at"] for s in detail["timeline"]]
    assert times == sorted(times)
    assert [e["type"] for e in detail["events"]][-2:] == ["shipment.handed_over", "shipment.delivered"]


def test_consumers_see_every_message_once_and_in_order_per_order(backend: Backend):
    seen: list[tuple[str, int]] = []
    from deliveryhub.service_layer.messaging import Consumer

    def record(_conn: Any, messages: Any) -> None:
        seen.extend((m.order_id, m.id) for m in messages)

    backend.hub.consumers.append(Consumer("recorder", record))
    for i in range(5):
        backend.hub.ingest.ingest(lifecycle(f"D-{i}", i))
    backend.settle()
    ids = [mid for _, mid in seen]
    assert len(ids) == len(set(ids))
    with backend.hub.db.read() as conn:
        assert len(ids) == conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
    for i in range(5):
        per_order = [mid for oid, mid in seen if oid == f"D-{i}"]
        assert per_order == sorted(per_order)


def test_personal_data_is_encrypted_and_found_by_blind_index(backend: Backend):
    backend.hub.ingest.ingest(lifecycle("E-1", 77))
    hub = backend.hub
    with hub.db.read() as conn:
        row = conn.execute(sa.select(t.customers)).one()
        data = conn.execute(sa.select(t.inbox.c.data).where(t.inbox.c.type == "order.created")).scalar_one()
        found = conn.execute(
            sa.select(t.customers.c.customer_id).where(
                t.customers.c.phone_bidx == hub.keyring.blind.phone("+82 10 5555 0077")
            )
        ).all()
    assert b"5555" not in row.phone_enc and "김민지" not in str(data) and "customer" not in data
    assert len(found) == 1
    from deliveryhub.views.orders import customer_view

    with hub.db.read() as conn:
        full = customer_view(conn, hub.keyring, row.customer_id, "full")
    assert full is not None and full["name"] == "김민지" and full["phone"] == "010-5555-0077"
