"""Ingest on SQLite and PostgreSQL, checked by reading the database itself: personal data hidden in free
text and unknown fields is stored masked; ids with NUL or bidi overrides are refused naming the field,
never stored, and never take the valid events of the same batch down with them."""

from __future__ import annotations

import glob
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import HIDDEN_PII, drain, event, make_hub, order_data_with_hidden_pii

AT = "2026-11-03T14:05:00+09:00"
SECRETS = HIDDEN_PII


def hostile_order(oid: str) -> dict[str, Any]:
    return event(f"{oid}-created", "order.created", oid, AT, order_data_with_hidden_pii())


@pytest.fixture
def hub(tmp_path: Path, master_key: str, backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A hub on the test's `backend` (parametrized: sqlite or postgresql), closed after the test."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    hub = make_hub(tmp_path, master_key, db_url=url)
    yield hub
    hub.close()


def _all_text(hub: Any) -> str:
    """Every row of the tables ingest writes (inbox, outbox, orders, parcels, quarantine) as text."""
    parts = []
    with hub.db.read() as conn:
        for table in (t.inbox, t.outbox, t.orders, t.parcels, t.quarantine):
            for row in conn.execute(sa.select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(parts)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_personal_data_in_memo_and_unknown_fields_is_stored_masked(
    tmp_path: Path, hub: Any, backend: str
) -> None:
    results = hub.ingest.ingest([hostile_order("HYG-1")])
    assert [r.status for r in results] == ["accepted"]
    drain(hub)
    stored = _all_text(hub)
    for secret in SECRETS:
        assert secret not in stored, secret
    with hub.db.read() as conn:
        data = conn.execute(sa.select(t.inbox.c.data).where(t.inbox.c.order_id == "HYG-1")).scalar_one()
    # free text keeps its meaning; the structured fields are as sent
    assert data["memo"] == "문 앞에 놓아주세요 010-****-****"
    assert data["gift_message"].startswith("생일 축하해, 답장은 h***@example.com")
    assert data["items"][0]["sku"] == "MUG" and data["total"] == 12000
    # the customer was encrypted (not masked): the hub still knows the real contact data
    find = hub.security.find_customer
    assert find(phone="010-2345-6789") is not None
    if backend == "sqlite":  # the raw file and its WAL, not just what SQL shows
        blob = b"".join(Path(p).read_bytes() for p in glob.glob(str(tmp_path / "hub.db*")))
        for secret in SECRETS:
            assert secret.encode() not in blob, secret


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_nul_and_rtl_override_ids_are_refused_and_the_rest_of_the_batch_is_stored(hub: Any) -> None:
    good = event("ok-1", "order.paid", "ORD-OK", AT, {"amount": 1000})
    bad = [
        event("nul\x00id", "order.paid", "ORD-OK", AT, {"amount": 1}),
        event("rlo-1", "order.paid", "ORD\u202e1-DRO", AT, {"amount": 1}),
        event("zw-1", "order.paid", "ORD-OK", AT, {"amount": 1}, shipment_id="S\u200b1"),
        {**event("src-1", "order.paid", "ORD-OK", AT, {"amount": 1}), "source": "oms\x00"},
        event("sku-1", "inventory.shortage", "ORD-OK", AT, {"sku": "A\x00", "requested": 1, "available": 0}),
    ]
    results = hub.ingest.ingest([bad[0], good, *bad[1:]])
    statuses = {r.event_id: (r.status, (r.error or {}).get("field")) for r in results}
    assert statuses["ok-1"] == ("accepted", None)
    assert statuses["nul<U+0000>id"] == ("rejected", "event_id")
    assert statuses["rlo-1"] == ("rejected", "order_id")
    assert statuses["zw-1"] == ("rejected", "shipment_id")
    assert statuses["src-1"] == ("rejected", "source")
    assert statuses["sku-1"] == ("rejected", "data.sku")
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.inbox.c.event_id)).scalars().all() == ["ok-1"]
        assert conn.execute(sa.select(t.orders.c.order_id)).scalars().all() == ["ORD-OK"]
        quarantined = conn.execute(sa.select(t.quarantine.c.event_id, t.quarantine.c.field)).all()
    assert len(quarantined) == 5  # nothing sent is lost: kept (encrypted) for fixing and replay
    assert ("nul<U+0000>id", "event_id") in quarantined
    assert "\x00" not in _all_text(hub) and "\u202e" not in _all_text(hub)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0005_masks_personal_data_stored_in_clear_by_older_versions(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from datetime import UTC, datetime

    from deliveryhub.adapters.persistence.database import Database
    from deliveryhub.migrations import runner

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/old.db"
    db = Database(url)
    try:
        runner.upgrade(db, "0004")
        now = datetime(2026, 11, 3, 5, 6, tzinfo=UTC)
        legacy = {
            "amount": 12000,
            "memo": "문 앞에 놓아주세요 010-4827-1936",
            "vendor": {"receiver_phone": "01098765432", "수령인": "유재석"},
            "customer_id": "c0102345678901234567",  # ingest's own id: kept even though it is digit-heavy
        }
        with db.engine.begin() as conn:
            conn.execute(
                t.inbox.insert(),
                [
                    {
                        "source": "oms",
                        "event_id": "old-1",
                        "type": "order.paid",
                        "order_id": "OLD-1",
                        "occurred_at": now,
                        "received_at": now,
                        "data": legacy,
                        "manual": False,
                        "schema_version": 1,
                    },
                    {
                        "source": "oms",
                        "event_id": "old-2",
                        "type": "order.paid",
                        "order_id": "OLD-2",
                        "occurred_at": now,
                        "received_at": now,
                        "data": {"amount": 1},
                        "manual": False,
                        "schema_version": 1,
                    },
                ],
            )
            conn.execute(
                t.outbox.insert(),
                [
                    {
                        "topic": "order.paid",
                        "order_id": "OLD-1",
                        "partition": 0,
                        "created_at": now,
                        "payload": {
                            "event_id": "old-1",
                            "type": "order.paid",
                            "order_id": "OLD-1",
                            "data": legacy,
                        },
                    },
                    {
                        "topic": "order.stage_changed",
                        "order_id": "OLD-1",
                        "partition": 0,
                        "created_at": now,
                        "payload": {"order_id": "OLD-1", "stage": "received"},
                    },
                ],
            )
        runner.upgrade(db)
        assert runner.current(db) is not None
        with db.engine.connect() as conn:
            inbox = dict(conn.execute(sa.select(t.inbox.c.event_id, t.inbox.c.data)).all())
            outbox = [r.payload for r in conn.execute(sa.select(t.outbox.c.payload).order_by(t.outbox.c.id))]
        assert inbox["old-1"]["memo"] == "문 앞에 놓아주세요 010-****-****"
        assert inbox["old-1"]["customer_id"] == legacy["customer_id"] and inbox["old-1"]["amount"] == 12000
        assert inbox["old-2"] == {"amount": 1}
        assert outbox[1] == {"order_id": "OLD-1", "stage": "received"}
        for secret in ("4827-1936", "98765432", "유재석"):
            assert secret not in json.dumps([inbox, outbox], ensure_ascii=False), secret
    finally:
        db.engine.dispose()
