"""Kill -9 of a `deliveryhub worker` mid-stream on PostgreSQL + NATS JetStream, then restart:
every event is applied exactly once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from worker_procs import stream_rig, stream_through_a_stop

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.slow]


def test_kill_9_worker_mid_stream_then_restart_applies_every_event_once(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    def kill(worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    with stream_rig(tmp_path, master_key, pg_url, nats_url, "K") as rig:
        accepted, at_kill, (outbox, processed, counted, unpublished) = stream_through_a_stop(rig, kill)
        assert accepted == 3000
        assert 0 < at_kill[1] < outbox, "the kill must land mid-stream"
        assert processed == outbox, rig.log.read_text()[-3000:]
        assert counted == accepted  # every event counted exactly once by the consumer's effect
        assert unpublished == 0
