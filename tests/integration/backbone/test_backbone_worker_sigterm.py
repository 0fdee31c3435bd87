"""SIGTERM to a `deliveryhub worker` in the middle of a stream on PostgreSQL + NATS JetStream: it exits
within 5 s (a process manager's grace period is longer; past it, the worker would be killed mid-batch),
having finished or handed back what it held; a new worker then applies every message exactly once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from worker_procs import stream_rig, stream_through_a_stop

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.slow]


def test_sigterm_mid_stream_exits_within_5_s_and_a_new_worker_applies_every_message_once(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    log = tmp_path / "worker.log"

    def terminate(worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGTERM)
        # A bound on the subprocess wait (correctness: exit before the process manager kills),
        # not a performance timing.
        try:
            code = worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail("worker still running 5 s after SIGTERM:\n" + log.read_text()[-3000:])
        assert code == 0, log.read_text()[-3000:]

    with stream_rig(tmp_path, master_key, pg_url, nats_url, "S") as rig:
        accepted, at_term, (outbox, processed, counted, unpublished) = stream_through_a_stop(rig, terminate)
        assert accepted == 3000
        assert 0 < at_term[1] < at_term[0], "SIGTERM must land mid-stream"
        text = log.read_text()
        assert "worker_stopped" in text and "DrainTimeoutError" not in text
        assert processed == outbox, text[-3000:]
        assert counted == accepted  # every event counted exactly once by the consumer's effect
        assert unpublished == 0
