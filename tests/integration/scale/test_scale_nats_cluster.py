"""Scale-out on PostgreSQL + a three-node NATS JetStream cluster (stream replicas = 3) with several
`deliveryhub worker` processes: throughput with 1, 2 and 4 workers, and a fault test that kills -9 one
NATS node and one worker mid-stream — nothing lost, nothing applied twice, ingest keeps accepting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from scale_accounting import settled, wait_settled

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.bench.common import answers_healthz, stop_processes
from deliveryhub.bench.ingest import shop_events
from dh_testkit import free_port, make_hub

pytestmark = [pytest.mark.scale, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]
NATS_SERVER = "/usr/sbin/nats-server"
RESULTS = Path(os.environ.get("DELIVERYHUB_SCALE_RESULTS", "/tmp/deliveryhub-scale-results.json"))


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class NatsCluster:
    """Three nats-server processes with JetStream, clustered over loopback routes."""

    def __init__(self, root: Path) -> None:
        self.client_ports = [free_port() for _ in range(3)]
        self.route_ports = [free_port() for _ in range(3)]
        self.procs: list[subprocess.Popen[bytes]] = []
        for i in range(3):
            routes = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(self.route_ports) if j != i)
            store = root / f"nats-{i}"
            store.mkdir()
            self.procs.append(
                subprocess.Popen(
                    [
                        NATS_SERVER,
                        "-js",
                        "-a",
                        "127.0.0.1",
                        "-p",
                        str(self.client_ports[i]),
                        "-sd",
                        str(store),
                        "-n",
                        f"dh-n{i}",
                        "--cluster_name",
                        "dhscale",
                        "--cluster",
                        f"nats://127.0.0.1:{self.route_ports[i]}",
                        "--routes",
                        routes,
                    ],
                    stdout=(root / f"nats-{i}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        for p in self.client_ports:
            _wait_port(p)

    @property
    def url(self) -> str:
        """Comma-separated client URLs (what DELIVERYHUB_BUS_URL takes)."""
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.client_ports)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until JetStream has a meta leader and can create an R3 stream."""
        import asyncio

        import nats

        async def probe() -> None:
            nc = await nats.connect(servers=self.url.split(","), connect_timeout=2)
            try:
                js = nc.jetstream(timeout=5)
                from nats.js.api import StreamConfig

                await js.add_stream(StreamConfig(name="PROBE", subjects=["probe.>"], num_replicas=3))
                await js.delete_stream("PROBE")
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                asyncio.run(probe())
                return
            except Exception as exc:  # cluster still electing its leader
                last = exc
                time.sleep(1.0)
        raise RuntimeError(f"NATS cluster not ready: {last}")

    def kill(self, i: int) -> None:
        """kill -9 one node."""
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(timeout=10)

    def stop(self) -> None:
        """Stop every node."""
        stop_processes(self.procs, timeout=10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A fresh three-node JetStream cluster."""
    c = NatsCluster(tmp_path)
    try:
        c.wait_ready()
        yield c
    finally:
        c.stop()


class Deployment:
    """The hub as deployed: one API process, N worker processes, PostgreSQL, the NATS cluster."""

    def __init__(self, tmp: Path, master_key: str, pg_url: str, bus_url: str) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DELIVERYHUB_DB_URL": pg_url,
            "DELIVERYHUB_BUS_URL": bus_url,
            "DELIVERYHUB_MASTER_KEY": master_key,
            "DELIVERYHUB_BUS_REPLICAS": "3",
            "DELIVERYHUB_ENV": "test",
            "DELIVERYHUB_DATA_DIR": str(tmp),
            "DELIVERYHUB_RATE_LIMIT_PER_MINUTE": "100000000",
        }
        self.hub = make_hub(tmp, master_key, db_url=pg_url, bus_url=bus_url, bus_replicas=3)
        from deliveryhub.security.apikeys import create_api_key

        self.key = create_api_key(self.hub.db, "scale", "integration")
        self.workers: list[subprocess.Popen[bytes]] = []
        self.port = free_port()
        self.api = self._spawn(["serve", "--port", str(self.port)], "api")
        self.base = f"http://127.0.0.1:{self.port}"
        if not answers_healthz(self.base, 60, self.api):
            raise RuntimeError("API did not start: " + (tmp / "api.log").read_text()[-2000:])

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "deliveryhub.entrypoints.cli", *args],
            env=self.env,
            stdout=(self.tmp / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

    def add_worker(self) -> subprocess.Popen[bytes]:
        """Start one more `deliveryhub worker`."""
        proc = self._spawn(["worker"], f"worker-{len(self.workers)}")
        self.workers.append(proc)
        return proc

    def post(self, events: list[dict[str, Any]]) -> int:
        """POST a batch over HTTP; returns how many were accepted."""
        resp = httpx.post(
            self.base + "/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=60,
        )
        assert resp.status_code == 200, resp.text[:500]
        return sum(r["status"] == "accepted" for r in resp.json()["results"])

    def progress(self) -> dict[str, int]:
        """Outbox size, and per-consumer applied counts."""
        with self.hub.db.read() as conn:
            outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
            per = dict(
                conn.execute(
                    sa.select(t.processed_messages.c.consumer, sa.func.count()).group_by(
                        t.processed_messages.c.consumer
                    )
                ).all()
            )
        return {"outbox": int(outbox), **{k: int(v) for k, v in per.items()}}

    def caught_up(self) -> bool:
        """Every consumer has applied every outbox message."""
        p = self.progress()
        names = [c.name for c in self.hub.consumers]
        return p["outbox"] > 0 and all(p.get(n, 0) >= p["outbox"] for n in names)

    def wait_caught_up(self, timeout: float) -> bool:
        """Poll until caught up or timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.caught_up():
                return True
            time.sleep(0.25)
        return self.caught_up()

    def close(self) -> None:
        """Stop every process."""
        for p in [*self.workers, self.api]:
            if p.poll() is None:
                p.terminate()
        for p in [*self.workers, self.api]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.hub.close()


def _record(key: str, value: Any) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=1))


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_throughput_with_n_workers(
    workers: int, tmp_path: Path, master_key: str, pg_url: str, cluster: NatsCluster
) -> None:
    dep = Deployment(tmp_path, master_key, pg_url, cluster.url)
    try:
        events = shop_events(400, seed=workers)
        for _ in range(workers):
            dep.add_worker()
        # Warm-up: workers connected and consumers created before the clock starts.
        dep.post(events[:200])
        assert dep.wait_caught_up(120), dep.progress()
        t0 = time.perf_counter()
        accepted = 200
        for i in range(200, len(events), 1000):
            accepted += dep.post(events[i : i + 1000])
        posted = time.perf_counter()
        assert dep.wait_caught_up(300), dep.progress()
        elapsed = time.perf_counter() - t0
        messages = dep.progress()["outbox"]
        result = {
            "workers": workers,
            "events": accepted,
            "outbox_messages": messages,
            "events_per_s_end_to_end": round((accepted - 200) / elapsed, 1),
            "ingest_s": round(posted - t0, 2),
            "total_s": round(elapsed, 2),
            "consumers": len(dep.hub.consumers),
        }
        print("scale throughput:", result)
        _record(f"workers_{workers}", result)
        assert accepted == len(events)
    finally:
        dep.close()


def test_kill_one_nats_node_and_one_worker_mid_stream(
    tmp_path: Path, master_key: str, pg_url: str, cluster: NatsCluster
) -> None:
    dep = Deployment(tmp_path, master_key, pg_url, cluster.url)
    try:
        events = shop_events(500, seed=42)
        first = dep.add_worker()
        dep.add_worker()
        accepted = 0
        errors: list[str] = []
        sent = threading.Event()

        def feed() -> None:
            nonlocal accepted
            try:
                for i in range(0, len(events), 250):
                    accepted += dep.post(events[i : i + 250])
                    time.sleep(0.1)
            except Exception as exc:  # surfaced by the assertion below
                errors.append(repr(exc))
            finally:
                sent.set()

        feeder = threading.Thread(target=feed)
        feeder.start()
        # Mid-stream: some messages applied, many still coming.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and dep.progress().get("integration_health", 0) < 500:
            time.sleep(0.2)
        before = dep.progress()
        cluster.kill(1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        feeder.join(timeout=300)
        assert sent.is_set() and not errors, errors
        assert accepted == len(events), "the hub must keep accepting events through the faults"
        assert 0 < before.get("integration_health", 0) < len(events), "the faults must land mid-stream"
        # One snapshot, judged settled in itself: timers keep ingesting derived events meanwhile.
        acc = wait_settled(dep.hub, [c.name for c in dep.hub.consumers], 300)
        assert settled(acc, [c.name for c in dep.hub.consumers]), (
            {k: v for k, v in acc.items() if k != "stored"},
            (tmp_path / "worker-1.log").read_text()[-3000:],
        )
        stored, outbox = acc["stored"], acc["outbox"]
        # Nothing lost: every event we posted is stored, and integration_health's effect (source_stats)
        # counted every stored event exactly once (the hub's own derived events included).
        assert {(e["source"], e["event_id"]) for e in events} <= stored
        assert acc["counted"] == len(stored) >= accepted
        # Nothing applied twice: one tracking row per (consumer, message); one per outbox message.
        assert acc["dupes"] == 0
        assert acc["processed"]["integration_health"] == outbox
        seq_gaps = acc["seq"]
        assert acc["unpublished"] == 0 and seq_gaps[0] == seq_gaps[1] == seq_gaps[2]
        _record(
            "fault_test",
            {
                "events": accepted,
                "outbox_messages": int(outbox),
                "applied_before_faults": before.get("integration_health", 0),
            },
        )
    finally:
        dep.close()
