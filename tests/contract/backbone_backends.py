"""The backbone's adapters under test (SQLite and PostgreSQL storage, in-process and NATS JetStream
buses, all real, on this machine) and the order lifecycle the contract tests feed them."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.worker import Worker
from dh_testkit import event

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
