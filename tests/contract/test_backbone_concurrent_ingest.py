"""Concurrent HTTP ingest as an attack, on every backend: many clients post, at the same moment, batches
that share new orders, overlap, repeat event ids inside a batch and race one event id under two orders.
Every answer is 200, every event is stored and accepted exactly once, and the projections come out right."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from backbone_backends import Backend, counts, health_total, lifecycle

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.contracts.events import EVENT_TYPES
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import event, serving

CLIENTS = 8
ORDERS = 16
ROUNDS = 4


@pytest.fixture
def api(backend: Backend) -> Iterator[tuple[str, str]]:
    """The hub's real API on a loopback port (the bus runs separately, in `settle`)."""
    key = create_api_key(backend.hub.db, "contract-attack", "integration")
    with serving(create_app(backend.hub, run_worker=False)) as base:
        yield base, key


def post_all(base: str, key: str, per_client: list[list[list[dict[str, Any]]]]) -> list[httpx.Response]:
    """Every client posts its batches in turn; all clients start at the same instant."""
    start = threading.Barrier(len(per_client))
    answers: list[httpx.Response] = []
    failures: list[str] = []

    def client(batches: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
            start.wait()
            for batch in batches:
                try:
                    answers.append(c.post("/v1/events", json={"events": batch}))
                except httpx.HTTPError as exc:  # surfaced by the assertion below
                    failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(b,)) for b in per_client]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures
    return answers


def statuses(answers: list[httpx.Response]) -> Counter[tuple[str, str]]:
    """How often each event id was answered with each status, over every answer."""
    out: Counter[tuple[str, str]] = Counter()
    for resp in answers:
        assert resp.status_code == 200, resp.text[:500]
        for item in resp.json()["results"]:
            out[(item["event_id"], item["status"])] += 1
    return out


def test_clients_racing_on_the_same_new_orders_store_every_event_once(
    backend: Backend, api: tuple[str, str]
) -> None:
    base, key = api
    rnd = random.Random(13)
    events: list[dict[str, Any]] = []
    per_client: list[list[list[dict[str, Any]]]] = [[] for _ in range(CLIENTS)]
    for round_ in range(ROUNDS):
        # Fresh orders every round, so every round opens with a race to create them. Orders i and
        # i + ORDERS/2 share one customer (same phone): the customer row is raced as well.
        fresh = [e for i in range(ORDERS) for e in lifecycle(f"RACE-{round_}-{i}", i % (ORDERS // 2))]
        events.extend(fresh)
        for batches in per_client:
            mine = fresh[:]
            rnd.shuffle(mine)
            for part in (mine[i::2] for i in range(2)):
                part.extend(rnd.sample(part, 4))  # the same event twice in one batch
                rnd.shuffle(part)
                batches.append(part)
    answers = post_all(base, key, per_client)
    seen = statuses(answers)
    ids = [e["event_id"] for e in events]
    assert {s for _, s in seen} <= {"accepted", "duplicate"}
    # Every event accepted by exactly one answer, however many clients and copies carried it.
    assert sorted(eid for (eid, s), n in seen.items() if s == "accepted" for _ in range(n)) == sorted(ids)
    assert sum(seen.values()) == sum(len(b) for c in per_client for b in c)

    backend.settle()
    n_orders = ORDERS * ROUNDS
    c = counts(backend.hub)
    assert c["inbox"] == len(events) and c["orders"] == n_orders and c["customers"] == ORDERS // 2
    assert c["stages"] == n_orders * 6 and c["quarantine"] == 0
    with backend.hub.db.read() as conn:
        orders = conn.execute(sa.select(t.orders)).all()
        event_messages = conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.topic.in_(sorted(EVENT_TYPES)))
        ).scalar_one()
        owners = conn.execute(
            sa.select(t.orders.c.customer_id, sa.func.count()).group_by(t.orders.c.customer_id)
        ).all()
    assert {o.stage for o in orders} == {"delivered"}
    assert all(o.total == 33000 and o.paid_at and o.created_at and o.delivered_at for o in orders)
    assert all(o.customer_id for o in orders) and sorted(n for _, n in owners) == [2 * ROUNDS] * (ORDERS // 2)
    assert event_messages == len(events)  # published once each: consumers see each event once
    assert health_total(backend.hub) == len(events)


def test_one_event_id_raced_under_two_new_orders_is_stored_once_and_leaves_no_empty_order(
    backend: Backend, api: tuple[str, str]
) -> None:
    base, key = api
    forged = [
        [event("dup-1", "order.created", f"FORK-{k}", "2026-11-01T10:00:00+09:00", {"total": 1000 + k})]
        for k in range(CLIENTS)
    ]
    answers = post_all(base, key, [[batch] * 3 for batch in forged])
    seen = statuses(answers)
    assert seen[("dup-1", "accepted")] == 1 and seen[("dup-1", "duplicate")] == 3 * CLIENTS - 1
    with backend.hub.db.read() as conn:
        stored = conn.execute(sa.select(t.inbox.c.order_id)).scalars().all()
        orders = conn.execute(sa.select(t.orders.c.order_id, t.orders.c.total)).all()
    # The winner's order exists with its data; the losers' orders were never created (not even empty).
    assert len(stored) == 1 and [o.order_id for o in orders] == stored
    assert orders[0].total == 1000 + int(stored[0].split("-")[1])
