"""Kill -9 of a `deliveryhub worker` mid-stream on PostgreSQL + NATS JetStream, then restart:
every event is applied exactly once."""

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


def test_kill_9_worker_mid_stream_then_restart_applies_every_event_once(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    stream = "K" + uuid.uuid4().hex[:10].upper()
    hub = make_hub(tmp_path, master_key, db_url=pg_url, bus_stream=stream)
    env = worker_env(tmp_path, master_key, pg_url, nats_url, stream)
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    accepted = 0
    try:
        for i in range(30):
            accepted += sum(r.status == "accepted" for r in hub.ingest.ingest(batch(i)))
            if i == 12:
                # Let the worker get going (start-up loads every feature), then kill it mid-stream.
                deadline = time.monotonic() + 90
                while applied(hub)[1] == 0 and time.monotonic() < deadline:
                    time.sleep(0.2)
                at_kill = applied(hub)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
                second = start_worker(env, log)
            time.sleep(0.05)
        outbox, processed, counted, unpublished = settle(hub, accepted, 120)
        assert accepted == 3000
        assert 0 < at_kill[1] < outbox, "the kill must land mid-stream"
        assert processed == outbox, log.read_text()[-3000:]
        assert counted == accepted  # every event counted exactly once by the consumer's effect
        assert unpublished == 0
    finally:
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        hub.close()
        drop_stream(nats_url, stream)
