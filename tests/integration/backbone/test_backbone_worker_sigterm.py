"""SIGTERM to a `deliveryhub worker` in the middle of a stream on PostgreSQL + NATS JetStream: it exits
within 5 s (a process manager's grace period is longer; past it, the worker would be killed mid-batch),
having finished or handed back what it held; a new worker then applies every message exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from worker_procs import applied, batch, drop_stream, settle, start_worker, worker_env

from dh_testkit import make_hub

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.slow]


def test_sigterm_mid_stream_exits_within_5_s_and_a_new_worker_applies_every_message_once(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    stream = "S" + uuid.uuid4().hex[:10].upper()
    hub = make_hub(tmp_path, master_key, db_url=pg_url, bus_stream=stream)
    env = worker_env(tmp_path, master_key, pg_url, nats_url, stream)
    log = tmp_path / "worker.log"
    procs: list[subprocess.Popen[bytes]] = [start_worker(env, log)]
    accepted = 0
    try:
        for i in range(30):
            accepted += sum(r.status == "accepted" for r in hub.ingest.ingest(batch(i)))
            if i == 12:
                # Let the worker get going (start-up loads every feature), then stop it mid-stream.
                deadline = time.monotonic() + 90
                while applied(hub)[1] == 0 and time.monotonic() < deadline:
                    time.sleep(0.2)
                at_term = applied(hub)
                procs[0].send_signal(signal.SIGTERM)
                # A bound on the subprocess wait (correctness: exit before the process manager kills),
                # not a performance timing.
                try:
                    code = procs[0].wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pytest.fail("worker still running 5 s after SIGTERM:\n" + log.read_text()[-3000:])
                assert code == 0, log.read_text()[-3000:]
                procs.append(start_worker(env, log))
            time.sleep(0.05)
        outbox, processed, counted, unpublished = settle(hub, accepted, 120)
        assert accepted == 3000
        assert 0 < at_term[1] < at_term[0], "SIGTERM must land mid-stream"
        text = log.read_text()
        assert "worker_stopped" in text and "DrainTimeoutError" not in text
        assert processed == outbox, text[-3000:]
        assert counted == accepted  # every event counted exactly once by the consumer's effect
        assert unpublished == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        hub.close()
        drop_stream(nats_url, stream)
