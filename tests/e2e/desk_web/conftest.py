"""A desk with thousands of open tickets, written in one SQL insert, for the queue tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, make_hub, order_created, waybill

NOW = datetime.fromisoformat("2026-12-01T10:00:00+09:00")  # a Tuesday, business hours
OID = "ORD-2026-007701"
PHONE = "010-7777-3141"
TRACKING = "410099887766"
EMAIL = "minsu.oh@example.com"
N = 2000
CHANNELS = ("email", "api", "claim", "chat")
PRIORITIES = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def bulk_tickets(hub: Any, n: int = N) -> None:
    """`n` open tickets with SLA due times spread around now (one in ten already late), some assigned."""
    rows = []
    for i in range(n):
        prio = list(PRIORITIES)[i % 4]
        at = NOW - timedelta(hours=1 + i % 48)
        rows.append(
            {
                "created_at": at,
                "updated_at": at,
                "channel": CHANNELS[i % 3],  # no live chat among them
                "subject": f"문의 {i}",
                "status": "pending" if i % 5 == 0 else "open",
                "priority": prio,
                "priority_rank": PRIORITIES[prio],
                "assignee": "kim@shop.example" if i % 7 == 0 else None,
                "canonical_id": f"tk-bulk-{i}",
                "customer_verified": False,
                "awaiting_reply_since": at,
                "first_due": NOW + timedelta(minutes=(i % 100) - 10),
                "resolve_due": NOW + timedelta(days=2),
                "sla_missed": [],
            }
        )
    with hub.db.write() as conn:
        conn.execute(ct.tickets.insert(), rows)


@pytest.fixture
def seed() -> SimpleNamespace:
    """What the seeded desk holds (order, phone, tracking number, ticket count)."""
    return SimpleNamespace(now=NOW, oid=OID, phone=PHONE, email=EMAIL, tracking=TRACKING, n=N)


def desk_hub(tmp_path: Path, master_key: str, db_url: str | None = None) -> Iterator[Any]:
    """A hub on a pinned clock with one customer's order (phone, tracking number) and N open tickets,
    closed after the test."""
    hub = make_hub(tmp_path, master_key, db_url=db_url, clock=ManualClock(NOW))
    try:
        customer = {"name": "오민수", "phone": PHONE, "email": EMAIL}
        hub.ingest.ingest(
            [
                order_created("d1", OID, "2026-11-28T10:00:00+09:00", customer),
                waybill("d2", OID, "2026-11-29T09:00:00+09:00", "cj", TRACKING),
            ]
        )
        drain(hub)
        bulk_tickets(hub)
        yield hub
    finally:
        hub.close()


@pytest.fixture
def busy_hub(tmp_path: Path, master_key: str) -> Iterator[Any]:
    """`desk_hub` on SQLite."""
    yield from desk_hub(tmp_path, master_key)


@pytest.fixture
def busy_pg_hub(tmp_path: Path, master_key: str, pg_url: str) -> Iterator[Any]:
    """`desk_hub` on a fresh PostgreSQL database."""
    yield from desk_hub(tmp_path, master_key, pg_url)


def escalate(client: Any) -> int:
    """A customer in the chat widget asks for a person (the real dialogue's hand-off); the ticket id."""
    r = client.post("/v1/chat/sessions", json={})
    assert r.status_code == 200, r.text
    sid = r.json()["session_id"]
    r = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": "상담원 연결해주세요"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["escalated"] and out["ticket_id"], out
    return int(out["ticket_id"])


@pytest.fixture
def chat_escalation() -> Callable[[Any], int]:
    """`escalate` (a fixture, since test modules here do not import each other)."""
    return escalate
