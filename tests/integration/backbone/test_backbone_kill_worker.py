"""Kill -9 of a `deliveryhub worker` mid-stream on PostgreSQL + NATS JetStream, then restart:
every event is applied exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import event, make_hub

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.slow]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def applied(hub: Any) -> tuple[int, int, int]:
    with hub.db.read() as conn:
        outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        processed = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.processed_messages)
            .where(t.processed_messages.c.consumer == "integration_health")
        ).scalar_one()
        counted = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.source_stats.c.events), 0))
        ).scalar_one()
    return int(outbox), int(processed), int(counted)


def test_kill_9_worker_mid_stream_then_restart_applies_every_event_once(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    stream = "K" + uuid.uuid4().hex[:10].upper()
    hub = make_hub(tmp_path, master_key, db_url=pg_url, bus_stream=stream)
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": pg_url,
        "DELIVERYHUB_BUS_URL": nats_url,
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_BUS_STREAM": stream,
        "DELIVERYHUB_ENV": "test",
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
    }
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    accepted = 0
    try:
        for i in range(30):
            batch = [
                event(
                    f"k-{i}-{j}",
                    "order.created" if j % 2 == 0 else "order.paid",
                    f"K-{i}-{j // 2}",
                    "2026-11-01T10:00:00+09:00",
                    {"total": 1000} if j % 2 == 0 else {"amount": 1000},
                )
                for j in range(100)
            ]
            accepted += sum(r.status == "accepted" for r in hub.ingest.ingest(batch))
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
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            outbox, processed, counted = applied(hub)
            if processed >= outbox and counted >= accepted:
                break
            time.sleep(0.5)
        outbox, processed, counted = applied(hub)
        assert accepted == 3000
        assert 0 < at_kill[1] < outbox, "the kill must land mid-stream"
        assert processed == outbox, log.read_text()[-3000:]
        assert counted == accepted  # every event counted exactly once by the consumer's effect
        with hub.db.read() as conn:
            unpublished = conn.execute(
                sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
            ).scalar_one()
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

        async def drop() -> None:
            import nats

            nc = await nats.connect(nats_url)
            try:
                await nc.jetstream().delete_stream(stream)
            except Exception:
                pass
            await nc.close()

        asyncio.run(drop())
