"""The one dialect switch (insert_or_ignore, upsert, greatest), the outbox writer and the order repository
run the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.dialect import (
    excluded,
    greatest,
    insert_or_ignore,
    insert_or_ignore_returning,
    is_postgres,
    upsert,
)
from deliveryhub.adapters.persistence.orders import (
    load_order,
    load_orders,
    lock_or_create_orders,
    lock_orders,
)
from deliveryhub.adapters.persistence.outbox import write_outbox
from deliveryhub.domain.messages import Message, partition_of

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)

meta = sa.MetaData()
counters = sa.Table(
    "dialect_counters",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("k", sa.String(16), nullable=False, unique=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("label", sa.String(16)),
)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/d.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url)
    t.metadata.create_all(database.engine)
    meta.create_all(database.engine)
    try:
        yield database
    finally:
        database.dispose()


def _counts(db: Database) -> dict[str, tuple[int, str | None]]:
    with db.read() as conn:
        return {r.k: (r.n, r.label) for r in conn.execute(sa.select(counters))}


def test_is_postgres_names_the_backend(db: Database) -> None:
    with db.read() as conn:
        assert is_postgres(conn) == (db.dialect == "postgresql")
    assert is_postgres("postgresql") and not is_postgres("sqlite")


def test_insert_or_ignore_counts_only_new_rows(db: Database) -> None:
    with db.write() as conn:
        assert insert_or_ignore(conn, counters, [{"k": "b", "n": 1}, {"k": "a", "n": 1}], ["k"]) == 2
        assert insert_or_ignore(conn, counters, [{"k": "a", "n": 9}, {"k": "c", "n": 3}], ["k"]) == 1
        assert insert_or_ignore(conn, counters, [{"k": "c", "n": 7}]) == 0  # any unique key
        assert insert_or_ignore(conn, counters, [], ["k"]) == 0
    assert _counts(db) == {"a": (1, None), "b": (1, None), "c": (3, None)}


def test_insert_or_ignore_returning_gives_the_new_id_or_none(db: Database) -> None:
    with db.write() as conn:
        first = insert_or_ignore_returning(conn, counters, {"k": "a", "n": 1}, counters.c.id)
        again = insert_or_ignore_returning(conn, counters, {"k": "a", "n": 2}, counters.c.id, ["k"])
    assert isinstance(first, int) and again is None


def test_upsert_replaces_named_columns_and_applies_expressions(db: Database) -> None:
    with db.write() as conn:
        upsert(conn, counters, [{"k": "a", "n": 1, "label": "x"}], ["k"])
        upsert(conn, counters, [{"k": "a", "n": 5, "label": "y"}, {"k": "b", "n": 2, "label": "z"}], ["k"])
    assert _counts(db) == {"a": (5, "y"), "b": (2, "z")}
    with db.write() as conn:
        add = {"n": counters.c.n + excluded(counters, "n")}
        upsert(conn, counters, [{"k": "a", "n": 10, "label": "ignored"}], ["k"], add)
        upsert(conn, counters, [{"k": "b", "n": 0, "label": "w"}], ["k"], ["label"])
        upsert(conn, counters, [{"k": "c", "n": 4}], ["k"], [])  # nothing to update: insert or ignore
        upsert(conn, counters, [{"k": "c", "n": 8}], ["k"], [])
    assert _counts(db) == {"a": (15, "y"), "b": (2, "w"), "c": (4, None)}


def test_greatest_takes_the_larger_value(db: Database) -> None:
    with db.write() as conn:

        def keep_larger(row: dict[str, Any]) -> None:
            upsert(conn, counters, [row], ["k"], {"n": greatest(conn, counters.c.n, excluded(counters, "n"))})

        upsert(conn, counters, [{"k": "a", "n": 5}], ["k"])
        keep_larger({"k": "a", "n": 3})
        upsert(conn, counters, [{"k": "b", "n": 3}], ["k"])
        keep_larger({"k": "b", "n": 7})
        assert (
            conn.execute(sa.select(greatest(conn, sa.literal(2), sa.literal(9), sa.literal(4)))).scalar() == 9
        )
    assert {k: n for k, (n, _) in _counts(db).items()} == {"a": 5, "b": 7}


def test_write_outbox_appends_partitioned_messages_in_order(db: Database) -> None:
    msgs = [Message.new("order.created", "O1", {"x": 1}, 8), Message.new("exception.opened", None, {"y": 2})]
    with db.write() as conn:
        write_outbox(conn, msgs, now=T0)
        write_outbox(conn, [])
    with db.read() as conn:
        rows = conn.execute(sa.select(t.outbox).order_by(t.outbox.c.id)).all()
    assert [(r.topic, r.order_id, r.partition, r.payload) for r in rows] == [
        ("order.created", "O1", partition_of("O1", 8), {"x": 1}),
        ("exception.opened", None, partition_of(None), {"y": 2}),
    ]
    assert rows[0].created_at == T0 and rows[0].published_at is None


def test_order_repository_loads_orders_with_stages_and_parcels(db: Database) -> None:
    with db.write() as conn:
        created = lock_or_create_orders(conn, ["O2", "O1"], T0)
        assert created == {"O1", "O2"}
        conn.execute(
            t.orders.update()
            .where(t.orders.c.order_id == "O1")
            .values(stage="handed_over", stage_rank=4, stage_at=T0, channel="web", region="서울")
        )
        conn.execute(
            t.order_stages.insert(),
            [
                {
                    "order_id": "O1",
                    "stage": "received",
                    "occurred_at": T0 - timedelta(days=1),
                    "source": "oms",
                    "automatic": True,
                },
                {
                    "order_id": "O1",
                    "stage": "handed_over",
                    "occurred_at": T0,
                    "source": "carrier:cj",
                    "automatic": True,
                },
            ],
        )
        conn.execute(
            t.parcels.insert(),
            [
                {
                    "order_id": "O1",
                    "shipment_id": "P2",
                    "status": "in_transit",
                    "carrier": "cj",
                    "updated_at": T0,
                },
                {
                    "order_id": "O1",
                    "shipment_id": "P1",
                    "status": "info_received",
                    "carrier": None,
                    "updated_at": T0,
                },
            ],
        )
        assert lock_or_create_orders(conn, ["O1", "O3"], T0) == {"O3"}
        lock_orders(conn, ["O3", "O1", "nope"])
    with db.read() as conn:
        orders = load_orders(conn, ["O1", "O2", "O1", "missing"])
        one = load_order(conn, "O1")
        assert load_order(conn, "missing") is None
    assert set(orders) == {"O1", "O2"}
    assert one == orders["O1"]
    o1 = orders["O1"]
    assert (o1.stage, o1.stage_rank, o1.channel, o1.region) == ("handed_over", 4, "web", "서울")
    assert o1.stages == {"received": T0 - timedelta(days=1), "handed_over": T0}
    assert [(p.shipment_id, p.rank) for p in o1.parcels] == [("P1", 3), ("P2", 5)]
    assert o1.carrier == "cj" and o1.reached("waybill_created") and not o1.reached("in_transit")
    # A placeholder row (stage_rank -1) reads as an order without a stage.
    assert orders["O2"].stage is None and orders["O2"].stage_rank == -1
