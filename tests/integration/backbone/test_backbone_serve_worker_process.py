"""`deliveryhub serve --worker-process` (embedded: SQLite, in-process bus): the worker runs in a child
process, not in the API's; a child that is killed is started again and its backlog is applied exactly once;
SIGTERM to serve stops the child too."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import sqlalchemy as sa
from worker_procs import batch, health_counts

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import free_port, make_hub

pytestmark = pytest.mark.slow


def _applied(hub: object) -> tuple[int, int]:
    with hub.db.read() as conn:  # type: ignore[attr-defined]
        return health_counts(conn)


def _wait(what: str, ok: object, proc: subprocess.Popen[bytes], log: Path, bound_s: float = 120) -> None:
    """Poll `ok()` until true; the bound only keeps a broken run from hanging (not a timing)."""
    deadline = time.monotonic() + bound_s
    while not ok():  # type: ignore[operator]
        assert proc.poll() is None and time.monotonic() < deadline, f"{what}\n" + log.read_text()[-3000:]
        time.sleep(0.2)


def _workers(serve: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """serve's live `deliveryhub worker` children (a killed one not yet reaped is a zombie: left out)."""
    found = []
    for child in psutil.Process(serve.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "worker" in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_serve_runs_its_worker_in_a_child_process_and_restarts_it(tmp_path: Path, master_key: str) -> None:
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = make_hub(tmp_path, master_key, db_url=db_url)
    accepted = sum(r.status == "accepted" for i in range(10) for r in hub.ingest.ingest(batch(i)))
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
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deliveryhub.entrypoints.cli",
            "serve",
            "--port",
            str(port),
            "--worker-process",
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait("the child worker applies the backlog", lambda: _applied(hub)[0] > 0, serve, log)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        (child,) = _workers(serve)
        # The API process itself runs no worker: its threads hold no consumer.
        assert "worker_started" not in log.read_text().split("worker_process_started")[0]
        child.kill()
        _wait(
            "a new child after the kill", lambda: any(p.pid != child.pid for p in _workers(serve)), serve, log
        )
        more = sum(r.status == "accepted" for i in range(10, 20) for r in hub.ingest.ingest(batch(i)))

        def caught_up() -> bool:
            with hub.db.read() as conn:
                outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
            return bool(_applied(hub)[0] == outbox)

        _wait("every message applied", caught_up, serve, log)
        assert _applied(hub)[1] == accepted + more  # nothing lost, nothing counted twice
        assert "worker_process_died" in log.read_text()
        (second,) = _workers(serve)
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)  # a bound on the wait, not a timing
        except subprocess.TimeoutExpired:
            pytest.fail("serve still running after SIGTERM:\n" + log.read_text()[-3000:])
        assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
        assert "worker_process_stopped" in log.read_text()
    finally:
        # Whatever failed above, no worker outlives the test (a leaked one keeps a core busy).
        with contextlib.suppress(psutil.Error):
            for p in psutil.Process(serve.pid).children(recursive=True):
                p.kill()
        if serve.poll() is None:
            serve.kill()
        hub.close()
