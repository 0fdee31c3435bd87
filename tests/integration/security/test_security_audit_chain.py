"""The audit log is a hash chain: `deliveryhub audit verify` (the real CLI) passes on an untouched log
and exits 1 naming the entry after any edit or deletion made directly in the database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deliveryhub.security.apikeys import Principal
from dh_testkit import make_hub

CLI = str(Path(sys.executable).parent / "deliveryhub")
# Each case runs the real CLI in a subprocess (a few seconds of start-up each).
pytestmark = pytest.mark.slow


def _build(tmp_path: Path, master_key: str) -> Path:
    hub = make_hub(tmp_path, master_key)
    who = Principal("user", "7", "agent@example.com", "cs_agent")
    for i in range(8):
        hub.audit.pii_read(who, f"c{i}", ["name", "phone"], f"GET /v1/orders/O{i}")
    hub.audit.record("user:1:admin@example.com", "user.role_changed", "user:7",
                          {"from": "ops", "to": "cs_agent"})
    hub.close()
    return tmp_path / "hub.db"


def _verify(db: Path, master_key: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DELIVERYHUB_DB_URL": f"sqlite:///{db}", "DELIVERYHUB_MASTER_KEY": master_key,
           "DELIVERYHUB_DATA_DIR": str(data_dir), "DELIVERYHUB_ENV": "test"}
    return subprocess.run([CLI, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)


def _copy(db: Path, dest: Path) -> Path:
    dest.mkdir()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copy(db, dest / "hub.db")
    return dest / "hub.db"


@pytest.fixture
def chain(tmp_path: Path, master_key: str) -> Path:
    return _build(tmp_path / "orig", master_key)


def test_untouched_log_verifies(chain: Path, master_key: str) -> None:
    r = _verify(chain, master_key, chain.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "9 entries verified" in r.stdout


@pytest.mark.parametrize(("name", "sql", "broken"), [
    ("edit-details",
     "UPDATE audit_log SET details = replace(details, 'orders/O3', 'orders/O9') WHERE seq = 4", 4),
    ("edit-actor", "UPDATE audit_log SET actor = 'user:1:someone-else' WHERE seq = 2", 2),
    ("delete-middle", "DELETE FROM audit_log WHERE seq = 5", 5),
    ("delete-last", "DELETE FROM audit_log WHERE seq = 9", 9),
    ("delete-first", "DELETE FROM audit_log WHERE seq = 1", 1),
])
def test_tampering_is_detected_and_named(chain: Path, master_key: str, tmp_path: Path, name: str, sql: str,
                                         broken: int) -> None:
    db = _copy(chain, tmp_path / name)
    con = sqlite3.connect(db)
    assert con.execute(sql).rowcount == 1
    con.commit()
    con.close()
    r = _verify(db, master_key, db.parent)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"BROKEN at entry {broken}:" in r.stdout


def test_rewriting_a_row_and_its_hash_with_sha256_does_not_help(chain: Path, master_key: str,
                                                                tmp_path: Path) -> None:
    # Without the master-derived key an attacker cannot produce a matching HMAC.
    import hashlib

    db = _copy(chain, tmp_path / "rehash")
    con = sqlite3.connect(db)
    con.execute("UPDATE audit_log SET details = '{}', hash = ? WHERE seq = 3",
                (hashlib.sha256(b"forged").hexdigest(),))
    con.commit()
    con.close()
    r = _verify(db, master_key, db.parent)
    assert r.returncode == 1 and "BROKEN at entry 3:" in r.stdout


def test_pruning_past_retention_keeps_the_chain_verifiable(hub) -> None:  # noqa: ANN001
    from datetime import UTC, datetime, timedelta

    log = hub.security.audit
    times = iter([datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(5)])
    log.now = lambda: next(times, datetime(2026, 11, 22, tzinfo=UTC))
    for i in range(8):
        log.record("system:test", "admin.action", f"t{i}", {"i": i})
    assert log.prune(datetime(2024, 11, 22, tzinfo=UTC)) == 5
    result = log.verify()
    assert result.ok, result
    assert result.checked == 4  # 3 kept + the audit.pruned entry
    assert [e["action"] for e in log.entries(1)] == ["audit.pruned"]
