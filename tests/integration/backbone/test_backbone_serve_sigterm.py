"""SIGTERM to `deliveryhub serve` (embedded: SQLite, in-process bus, the worker in a thread) while its
worker is applying a backlog: the process exits within 5 s, its worker having stopped on its own (not
killed with the process), and what it had not applied yet is applied later exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from worker_procs import batch, health_counts

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import drain, free_port, make_hub

pytestmark = pytest.mark.slow


def health_applied(hub: object) -> tuple[int, int]:
    """(messages integration_health applied, events it counted)."""
    with hub.db.read() as conn:  # type: ignore[attr-defined]
        return health_counts(conn)


def test_sigterm_to_serve_stops_its_worker_cleanly_within_5_s(tmp_path: Path, master_key: str) -> None:
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = make_hub(tmp_path, master_key, db_url=db_url)
    accepted = sum(r.status == "accepted" for i in range(20) for r in hub.ingest.ingest(batch(i)))
    with hub.db.read() as conn:
        backlog = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
    port = free_port()
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": db_url,
        "DELIVERYHUB_BUS_URL": "inprocess://",
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_ENV": "test",
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
    }
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while health_applied(hub)[0] == 0:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        at_term = health_applied(hub)
        proc.send_signal(signal.SIGTERM)
        # A bound on the subprocess wait (exit before a process manager's kill), not a timing.
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail("serve still running 5 s after SIGTERM:\n" + log.read_text()[-3000:])
        text = log.read_text()
        assert code in (0, -signal.SIGTERM), text[-3000:]  # uvicorn re-raises the signal once stopped
        assert "worker_stopped" in text, text[-3000:]
        assert 0 < at_term[0] < backlog, "SIGTERM must land while the worker has a backlog"
        drain(hub)
        processed, counted = health_applied(hub)
        with hub.db.read() as conn:
            outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        assert processed == outbox and counted == accepted  # nothing lost, nothing counted twice
    finally:
        if proc.poll() is None:
            proc.kill()
        hub.close()
