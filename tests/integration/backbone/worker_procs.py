"""`deliveryhub worker` subprocesses on PostgreSQL + NATS JetStream, and what they have applied."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import event, make_hub, stop_process


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


def start_worker(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen[bytes]:
    """Start `deliveryhub worker [options]`, its output appended to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "worker", *options],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def health_counts(conn: Any) -> tuple[int, int]:
    """(messages integration_health applied, events it counted in source_stats) on one connection."""
    processed = conn.execute(
        sa.select(sa.func.count())
        .select_from(t.processed_messages)
        .where(t.processed_messages.c.consumer == "integration_health")
    ).scalar_one()
    counted = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.source_stats.c.events), 0))).scalar_one()
    return int(processed), int(counted)


def applied(hub: Any) -> tuple[int, int, int, int]:
    """(outbox messages, messages integration_health applied, events it counted in source_stats, outbox
    rows not yet published), all from one snapshot: the monitors consumer keeps adding outbox rows
    (exception.opened), so counts read statement by statement need not agree."""
    engine = hub.db.engine
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        processed, counted = health_counts(conn)
        unpublished = conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
        ).scalar_one()
    return int(outbox), int(processed), int(counted), int(unpublished)


def wait_until_applying(hub: Any, timeout: float = 90) -> tuple[int, int, int, int]:
    """Let a worker get going (start-up loads every feature): the first snapshot where it has applied
    something (or the last one, at the timeout)."""
    deadline = time.monotonic() + timeout
    while applied(hub)[1] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    return applied(hub)


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


@dataclass
class StreamRig:
    """A hub on PostgreSQL whose bus is a fresh JetStream stream, and the worker processes started on it."""

    hub: Any
    env: dict[str, str]
    log: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *options: str) -> subprocess.Popen[bytes]:
        """Start one more `deliveryhub worker [options]` on this hub."""
        self.procs.append(start_worker(self.env, self.log, *options))
        return self.procs[-1]


@contextmanager
def stream_rig(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str, prefix: str
) -> Iterator[StreamRig]:
    """A StreamRig; afterwards its workers are stopped, the hub closed and the stream deleted."""
    stream = prefix + uuid.uuid4().hex[:10].upper()
    hub = make_hub(tmp_path, master_key, db_url=pg_url, bus_stream=stream)
    rig = StreamRig(hub, worker_env(tmp_path, master_key, pg_url, nats_url, stream), tmp_path / "worker.log")
    try:
        yield rig
    finally:
        for proc in rig.procs:
            stop_process(proc)
        hub.close()
        drop_stream(nats_url, stream)


def stream_through_a_stop(
    rig: StreamRig, stop: Callable[[subprocess.Popen[bytes]], None]
) -> tuple[int, tuple[int, int, int, int], tuple[int, int, int, int]]:
    """Ingest 30 batches while a worker applies them; after batch 12, once it is applying, `stop` ends
    that worker and a new one takes over. (events accepted, snapshot at the stop, settled snapshot)"""
    first = rig.start()
    accepted = 0
    for i in range(30):
        accepted += sum(r.status == "accepted" for r in rig.hub.ingest.ingest(batch(i)))
        if i == 12:
            at_stop = wait_until_applying(rig.hub)
            stop(first)
            rig.start()
        time.sleep(0.05)
    return accepted, at_stop, settle(rig.hub, accepted, 120)
