"""Rotation under load: while a thread streams order events into the API, the real `deliveryhub crypto
rotate` runs in another process; no request fails, every customer decrypts afterwards (in this process
and in a fresh one), phone lookup through the blind index still works, and the old key is retired."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.pii.cipher import decrypt_field
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.erasure import find_customer
from dh_testkit import event, make_hub

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).parent / "deliveryhub")


def _order(i: int) -> dict[str, Any]:
    # Every third event updates an existing customer (same phone): re-encryption under a live key.
    n = i if i % 3 else max(0, i - 3)
    return event(f"o{i}", "order.created", f"ORD-{i}", "2026-11-20T10:00:00+09:00", {
        "customer": {"name": f"고객{n:05d}", "phone": f"010-5{n:03d}-{1000 + n % 9000:04d}",
                     "email": f"c{n}@example.com"},
        "address": {"zip": "06236", "line1": f"서울특별시 강남구 테헤란로 {n % 300 + 1}"},
        "items": [{"sku": "S", "qty": 1, "price": 100}], "total": 100})


def _all_decrypt(hub: Any) -> int:
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(t.customers)).all()
    for r in rows:
        dek = hub.keyring.unwrap_dek(r.customer_id, r.kek_id, r.dek_wrapped)
        assert decrypt_field(dek, r.customer_id, "name", r.name_enc).startswith("고객")
    return len(rows)


def test_rotation_while_events_stream_in(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key)
    key = create_api_key(hub.db, "oms", "integration")
    headers = {"Authorization": f"Bearer {key}"}
    hub.keyring.refresh_interval = 0.5  # follow the other process's rotation quickly
    client = TestClient(create_app(hub, run_worker=False))
    with client:
        r = client.post("/v1/events", json={"events": [_order(i) for i in range(300)]}, headers=headers)
        assert r.status_code == 200
        old_key = hub.keyring.active_kek_id
        failures: list[str] = []
        sent = [300]
        stop = threading.Event()

        def stream() -> None:
            while not stop.is_set() or sent[0] < 460:
                batch = [_order(i) for i in range(sent[0], sent[0] + 20)]
                resp = client.post("/v1/events", json={"events": batch}, headers=headers)
                if resp.status_code != 200:
                    failures.append(f"{resp.status_code} {resp.text[:200]}")
                else:
                    bad = [x for x in resp.json()["results"] if x["status"] != "accepted"]
                    failures.extend(str(b) for b in bad)
                sent[0] += 20
                if sent[0] > 3000:
                    break

        poster = threading.Thread(target=stream)
        poster.start()
        env = {**os.environ, "DELIVERYHUB_DB_URL": hub.settings.db_url, "DELIVERYHUB_MASTER_KEY": master_key,
               "DELIVERYHUB_DATA_DIR": str(tmp_path), "DELIVERYHUB_ENV": "test"}
        proc = subprocess.run([CLI, "crypto", "rotate"], env=env, capture_output=True, text=True, timeout=300)
        stop.set()
        poster.join(timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert failures == []
        assert sent[0] >= 460
        # Reads through the API during/after rotation: full view decrypts.
        admin = create_api_key(hub.db, "admin", "admin")
        for i in (0, 150, 299, sent[0] - 1):
            got = client.get(f"/v1/orders/ORD-{i}", headers={"Authorization": f"Bearer {admin}"})
            assert got.status_code == 200 and got.json()["customer"]["name"].startswith("고객")
    assert _all_decrypt(hub) > 300
    hub.close()
    fresh = make_hub(tmp_path, master_key)  # a new process: only what is in the database
    try:
        assert fresh.keyring.active_kek_id != old_key
        count = _all_decrypt(fresh)
        assert count > 300
        with fresh.db.read() as conn:
            keys = {r.key_id: r.status for r in conn.execute(sa.select(t.data_keys))}
            on_old = conn.execute(sa.select(sa.func.count()).select_from(t.customers)
                                  .where(t.customers.c.kek_id == old_key)).scalar()
        assert on_old == 0
        assert keys[old_key] == "retired"
        assert find_customer(fresh, phone="01050071007") is not None  # blind index survives rotation
        actions = [e["action"] for e in fresh.security.audit.entries(50)]
        assert "key.rotated" in actions and "key.rotation_started" in actions
        assert fresh.security.audit.verify().ok
    finally:
        fresh.close()
