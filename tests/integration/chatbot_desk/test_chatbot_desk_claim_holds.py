"""The desk holds a customer past retention while a ticket on their order is unsolved (core.claim_holds,
read by security's retention run), and lets go once it is resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.retention import run_pii_retention
from dh_testkit import event

OID = "ORD-2026-000901"
DELIVERED = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


def _erased(hub: Any) -> bool:
    with hub.db.read() as conn:
        at = conn.execute(
            sa.select(t.customers.c.erased_at)
            .join(t.orders, t.orders.c.customer_id == t.customers.c.customer_id)
            .where(t.orders.c.order_id == OID)
        ).scalar()
    return at is not None


def test_an_open_ticket_keeps_the_customer_until_it_is_resolved(hub: Any) -> None:
    hub.ingest.ingest(
        [
            event(
                "c1",
                "order.created",
                OID,
                "2026-03-01T10:00:00+09:00",
                {"customer": {"name": "박서연", "phone": "010-3333-4444"}, "total": 9000},
            ),
            event("d1", "shipment.delivered", OID, DELIVERED.isoformat(), {}),
        ]
    )
    assert hub.chat is not None
    desk = hub.chat.desk
    tid = desk.create_ticket(channel="email", subject="환불 문의", text="아직 환불이 안 됐어요", order_id=OID)
    with hub.db.read() as conn:
        assert hub.claim_holds.orders_with_open_claims(conn, [OID, "ORD-OTHER"]) == {OID}
    later = DELIVERED + timedelta(days=400)
    assert run_pii_retention(hub, later) == {"deleted": 0, "kept_open_claim": 1}
    assert not _erased(hub)
    desk.resolve(tid, "agent1")
    with hub.db.read() as conn:
        assert hub.claim_holds.orders_with_open_claims(conn, [OID]) == set()
    assert run_pii_retention(hub, later)["deleted"] == 1
    assert _erased(hub)
