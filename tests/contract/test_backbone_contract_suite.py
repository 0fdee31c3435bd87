"""One contract suite for the backbone, run against every adapter: SQLite and PostgreSQL storage,
in-process and NATS JetStream buses (all real, on this machine)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from backbone_backends import Backend, counts, health_total, lifecycle

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import event


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
