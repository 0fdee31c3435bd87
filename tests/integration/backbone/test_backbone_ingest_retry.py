"""Ingest on PostgreSQL when another writer deadlocks with it: the database aborts the ingest's
transaction (once inside a plain statement, once inside a pipelined executemany, which leaves the psycopg
connection in error); the ingest starts a new transaction on a fresh connection and the batch is stored
exactly once, the caller never sees the failure."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.service_layer.ingest import ItemResult
from dh_testkit import event, make_hub

pytestmark = pytest.mark.postgres


def waiting_on_a_lock(engine: sa.Engine, db_name: str) -> bool:
    """Whether some session of the test database waits for a row or transaction lock."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock'"
                ),
                {"d": db_name},
            ).scalar_one()
        )


@pytest.mark.parametrize("where", ["order_row", "stage_row_in_executemany"])
def test_a_deadlock_with_another_writer_is_retried_in_a_new_transaction(
    tmp_path: Path, master_key: str, pg_url: str, where: str
) -> None:
    hub = make_hub(tmp_path, master_key, db_url=pg_url, features=False)
    at = "2026-11-01T10:00:00+09:00"
    hub.ingest.ingest(
        [event("a-c", "order.created", "DL-A", at, {"total": 1}), event("b-c", "order.created", "DL-B", at)]
    )
    if where == "order_row":
        # The ingest locks DL-A, then waits for DL-B (held below); the other writer then wants DL-A.
        batch = [
            event("a-p", "order.paid", "DL-A", "2026-11-01T10:01:00+09:00"),
            event("b-p", "order.paid", "DL-B", "2026-11-01T10:01:00+09:00"),
        ]
    else:
        # The ingest holds DL-A and waits, in its stage-row executemany, on a stage row the other writer
        # inserted and has not committed; the other writer then wants DL-A.
        batch = [event("a-r", "inventory.reserved", "DL-A", "2026-11-01T10:05:00+09:00", source="wms")]
    db_name = pg_url.rsplit("/", 1)[1]
    other = sa.create_engine(pg_url)
    watcher = sa.create_engine(pg_url)
    results: list[ItemResult] = []
    errors: list[BaseException] = []
    try:
        with other.connect() as conn:
            # The other writer never gives up first: the ingest's deadlock check (1 s) fires long before.
            conn.exec_driver_sql("SET deadlock_timeout = '30s'")
            conn.commit()
            tx = conn.begin()
            if where == "order_row":
                conn.execute(
                    sa.select(t.orders.c.order_id).where(t.orders.c.order_id == "DL-B").with_for_update()
                )
            else:
                conn.execute(
                    t.order_stages.insert().values(
                        order_id="DL-A",
                        stage="stock_confirmed",
                        occurred_at=sa.func.now(),
                        source="other",
                        automatic=True,
                    )
                )

            def run() -> None:
                try:
                    results.extend(hub.ingest.ingest(batch))
                except BaseException as exc:  # reported by the assertion below
                    errors.append(exc)

            ingest = threading.Thread(target=run)
            ingest.start()
            deadline = time.monotonic() + 30
            while not waiting_on_a_lock(watcher, db_name):
                assert time.monotonic() < deadline, "the ingest never waited for the other writer"
                time.sleep(0.05)
            # Closes the cycle; PostgreSQL aborts the ingest (its deadlock check runs first).
            conn.execute(t.orders.update().where(t.orders.c.order_id == "DL-A").values(channel="other"))
            tx.commit()
            ingest.join(timeout=60)
        assert not ingest.is_alive()
        assert not errors, errors
        assert [r.status for r in results] == ["accepted"] * len(batch)
        with hub.db.read() as conn:
            stored = conn.execute(
                sa.select(t.inbox.c.event_id).where(t.inbox.c.event_id.in_([e["event_id"] for e in batch]))
            ).scalars()
            row: Any = conn.execute(sa.select(t.orders).where(t.orders.c.order_id == "DL-A")).one()
            outbox = conn.execute(
                sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.topic == batch[0]["type"])
            ).scalar_one()
        assert sorted(stored) == sorted(e["event_id"] for e in batch)
        assert outbox == len(batch)  # the aborted attempt left nothing behind
        assert row.channel == "other"  # the other writer's change survives the retried ingest
        if where == "order_row":
            assert row.paid_at is not None
        else:
            assert row.stage == "stock_confirmed"
        # The pool still works afterwards: no connection stuck in a failed pipeline was handed back.
        for i in range(5):
            assert hub.ingest.ingest([event(f"after-{i}", "order.paid", "DL-B", at)])[0].status == "accepted"
    finally:
        other.dispose()
        watcher.dispose()
        hub.close()
