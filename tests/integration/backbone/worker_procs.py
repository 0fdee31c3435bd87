"""`deliveryhub worker` subprocesses on PostgreSQL + NATS JetStream, and what they have applied."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import event


def worker_env(tmp_path: Path, master_key: str, pg_url: str, nats_url: str, stream: str) -> dict[str, str]:
    """Environment of a worker process of this test's hub."""
    return {
        **os.environ,
        "DELIVERYHUB_DB_URL": pg_url,
        "DELIVERYHUB_BUS_URL": nats_url,
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_BUS_STREAM": stream,
        "DELIVERYHUB_ENV": "test",
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `deliveryhub worker`, its output appended to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def applied(hub: Any) -> tuple[int, int, int, int]:
    """(outbox messages, messages integration_health applied, events it counted in source_stats, outbox
    rows not yet published), all from one snapshot: the monitors consumer keeps adding outbox rows
    (exception.opened), so counts read statement by statement need not agree."""
    engine = hub.db.engine
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        processed = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.processed_messages)
            .where(t.processed_messages.c.consumer == "integration_health")
        ).scalar_one()
        counted = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.source_stats.c.events), 0))
        ).scalar_one()
        unpublished = conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
        ).scalar_one()
    return int(outbox), int(processed), int(counted), int(unpublished)


def settle(hub: Any, accepted: int, timeout: float) -> tuple[int, int, int, int]:
    """The first snapshot with everything published and applied (or the last one, at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = applied(hub)
        outbox, processed, counted, unpublished = snap
        if (unpublished == 0 and processed >= outbox and counted >= accepted) or time.monotonic() > deadline:
            return snap
        time.sleep(0.5)


def batch(i: int, size: int = 100) -> list[dict[str, Any]]:
    """Batch `i` of a stream: orders created and paid."""
    return [
        event(
            f"k-{i}-{j}",
            "order.created" if j % 2 == 0 else "order.paid",
            f"K-{i}-{j // 2}",
            "2026-11-01T10:00:00+09:00",
            {"total": 1000} if j % 2 == 0 else {"amount": 1000},
        )
        for j in range(size)
    ]


def drop_stream(nats_url: str, stream: str) -> None:
    """Delete the test's JetStream stream."""

    async def drop() -> None:
        import nats

        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(stream)
        except Exception:  # already gone
            pass
        await nc.close()

    asyncio.run(drop())
