"""Erasure by crypto-shredding, retention per data class, anonymised export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.erasure import find_customer
from deliveryhub.security.export import export_events
from deliveryhub.security.retention import run_pii_retention
from dh_testkit import event

A = {"name": "김하늘", "phone": "010-3333-4444", "email": "sky@example.com"}
B = {"name": "박바다", "phone": "010-5555-6666", "email": "sea@example.com"}
C = {"name": "이구름", "phone": "010-7777-8888", "email": "cloud@example.com"}


def _created(oid: str, who: dict[str, str], day: int) -> dict[str, Any]:
    return event(f"c-{oid}", "order.created", oid, f"2026-10-{day:02d}T10:00:00+09:00", {
        "customer": who, "address": {"zip": "04524", "line1": "서울특별시 중구 세종대로 110"},
        "items": [{"sku": "S", "qty": 1, "price": 1000}], "total": 1000})


def _post(client: TestClient, key: str, events: list[dict[str, Any]]) -> None:
    r = client.post("/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and all(x["status"] == "accepted" for x in r.json()["results"]), r.text


def _cid(hub: Any, oid: str) -> str:
    with hub.db.read() as conn:
        return str(conn.execute(sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == oid)).scalar())


def test_erasure_shreds_personal_data_keeps_orders_and_is_audited(hub: Any, client: TestClient,
                                                                  admin_key: str) -> None:
    _post(client, admin_key, [_created("A1", A, 1), _created("A2", A, 2), _created("A3", A, 3),
                              _created("B1", B, 4)])
    cid = _cid(hub, "A1")
    assert find_customer(hub, phone=A["phone"]) == cid
    with hub.db.read() as conn:
        before = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == cid)).one()
    hdr = {"Authorization": f"Bearer {admin_key}"}
    r = client.post(f"/v1/customers/{cid}/erasure", json={"reason": "정보주체 삭제 요청 #42"}, headers=hdr)
    assert r.status_code == 200, r.text
    assert r.json()["orders_kept"] == 3
    with hub.db.read() as conn:
        row = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == cid)).one()
        orders = conn.execute(sa.select(sa.func.count()).select_from(t.orders)
                              .where(t.orders.c.customer_id == cid)).scalar()
        total = conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar()
    assert (row.dek_wrapped, row.kek_id, row.name_enc, row.phone_enc, row.email_enc, row.address_enc) == (
        None, None, None, None, None, None)
    assert row.phone_bidx is None and row.erased_at is not None
    assert orders == 3 and total == 4  # KPIs count the orders as before
    # Nothing decryptable is left: no wrapped data key, no ciphertext; the in-memory cache was evicted.
    assert (before.kek_id, before.dek_wrapped) not in hub.keyring._dek_cache
    assert find_customer(hub, phone=A["phone"]) is None
    detail = client.get("/v1/orders/A1", headers=hdr).json()
    assert detail["customer"] == {"customer_id": cid, "erased": True}
    assert detail["stage"] is not None
    entries = hub.security.audit.entries(20, action="customer.erased")
    assert len(entries) == 1 and entries[0]["target"] == f"customer:{cid}"
    assert entries[0]["details"]["orders_kept"] == 3 and entries[0]["actor"].startswith("api_key:")
    assert "42" in entries[0]["details"]["reason"]
    assert hub.security.audit.verify().ok
    # Other customers untouched
    assert client.get("/v1/orders/B1", headers=hdr).json()["customer"]["name"] == B["name"]
    # Only admins may erase
    ops = create_api_key(hub.db, "ops", "ops")
    assert client.post(f"/v1/customers/{cid}/erasure", json={"reason": "x"},
                       headers={"Authorization": f"Bearer {ops}"}).status_code == 403


def test_retention_deletes_after_delivery_unless_a_claim_is_open(hub: Any, client: TestClient,
                                                                 admin_key: str) -> None:
    _post(client, admin_key, [
        _created("A1", A, 1), event("d-A1", "shipment.delivered", "A1", "2026-10-03T10:00:00+09:00", {}),
        _created("B1", B, 1), event("d-B1", "shipment.delivered", "B1", "2026-10-03T10:00:00+09:00", {}),
        event("k-B1", "claim.opened", "B1", "2026-10-05T10:00:00+09:00", {"kind": "damage"}),
        _created("C1", C, 1),  # never delivered
    ])
    early = run_pii_retention(hub, datetime(2026, 11, 22, tzinfo=UTC))
    assert early["deleted"] == 0  # 180 days have not passed
    later = run_pii_retention(hub, datetime(2026, 10, 3, tzinfo=UTC) + timedelta(days=181))
    assert later == {"deleted": 1, "kept_open_claim": 1}
    with hub.db.read() as conn:
        erased = {r.customer_id: r.erased_at is not None for r in conn.execute(sa.select(t.customers))}
    assert erased[_cid(hub, "A1")] is True
    assert erased[_cid(hub, "B1")] is False and erased[_cid(hub, "C1")] is False
    actors = {e["actor"] for e in hub.security.audit.entries(20, action="customer.erased")}
    assert actors == {"system:retention"}


def test_anonymised_export_uses_stable_pseudonyms(hub: Any, client: TestClient, admin_key: str,
                                                  tmp_path: Path) -> None:
    _post(client, admin_key, [_created("A1", A, 1), _created("A2", A, 2), _created("B1", B, 3),
                              event("w-A1", "shipment.waybill_created", "A1", "2026-10-02T10:00:00+09:00",
                                    {"carrier": "cj", "tracking_no": "612345678901"}),
                              event("x-B1", "order.cancelled", "B1", "2026-10-04T10:00:00+09:00",
                                    {"reason": "전화 010-5555-6666 으로 연락 바랍니다"})])
    first = export_events(hub, tmp_path / "one", anonymize=True)
    second = export_events(hub, tmp_path / "two", anonymize=True)
    assert first["events"] == second["events"] == 5
    text = (tmp_path / "one" / "events.jsonl").read_text()
    assert text == (tmp_path / "two" / "events.jsonl").read_text()  # stable
    for secret in (A["name"], A["phone"], A["email"], B["name"], "5555-6666", "612345678901", "A1", "B1",
                   _cid(hub, "A1")):
        assert secret not in text, secret
    rows = [json.loads(line) for line in text.splitlines()]
    with hub.db.read() as conn:
        pseud = dict(conn.execute(sa.select(t.customers.c.customer_id, t.customers.c.pseudonym)).all())
    created = [r for r in rows if r["type"] == "order.created"]
    assert {r["customer"] for r in created} == {pseud[_cid(hub, "A1")], pseud[_cid(hub, "B1")]}
    assert created[0]["customer"] == created[1]["customer"]  # same customer, same pseudonym
    assert created[0]["order_id"] != created[1]["order_id"]
    table = pq.read_table(tmp_path / "one" / "events.parquet")
    assert table.num_rows == 5 and set(table.column("customer").to_pylist()) >= set(pseud.values())
    assert any(e["action"] == "data.exported" for e in hub.security.audit.entries(10))
