"""Shared plumbing of the benchmarks: a throw-away database (SQLite file or a temporary PostgreSQL
database), a unique JetStream stream, and the real `deliveryhub serve` / `worker` processes."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import sqlalchemy as sa

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0–100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` and all their children have used so far (from the OS).

    The hub's own CPU per unit of work is the stable figure on a shared box, where throughput is not.
    """
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def answers_healthz(base: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll `base`/healthz until it answers 200 (True), `proc` exits or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Terminate every process, wait up to `timeout` seconds each, kill those still running."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass(frozen=True)
class BenchRequest:
    """What `deliveryhub bench WHICH` was asked: where to run and how much (None: the benchmark's default)."""

    db_url: str | None = None
    bus_url: str | None = None
    orders: int | None = None
    seconds: float | None = None
    rate: float | None = None


class BenchEnv:
    """A fresh hub environment for one benchmark run; `with BenchEnv(...)` cleans it up (`close()`)."""

    def __enter__(self) -> BenchEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __init__(self, db_url: str | None, bus_url: str | None) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="dh-bench-"))
        self.master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.bus_url = bus_url or "inprocess://"
        self.stream = "DHBENCH" + uuid.uuid4().hex[:8].upper()
        self._pg_admin: str | None = None
        self._pg_name: str | None = None
        if db_url and db_url.startswith(("postgresql", "postgres")):
            # Never write benchmark rows into the user's database: a temporary one on the same server.
            url = "postgresql+psycopg://" + db_url.split("://", 1)[1]
            base, _name = url.rsplit("/", 1)
            self._pg_admin = base + "/postgres"
            self._pg_name = "dh_bench_" + uuid.uuid4().hex[:10]
            engine = sa.create_engine(self._pg_admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self._pg_name}"')
            engine.dispose()
            self.db_url = f"{base}/{self._pg_name}"
        else:
            self.db_url = f"sqlite:///{self.tmp}/bench.db"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.hub: Hub | None = None

    @property
    def mode(self) -> str:
        """embedded | postgresql+nats | … (for the report)."""
        db = "postgresql" if self._pg_name else "sqlite"
        bus = "nats" if self.bus_url.startswith("nats") else "inprocess"
        return "embedded" if (db, bus) == ("sqlite", "inprocess") else f"{db}+{bus}"

    def env(self) -> dict[str, str]:
        """Environment of the hub processes."""
        env = dict(os.environ)
        env.update(
            {
                "DELIVERYHUB_DB_URL": self.db_url,
                "DELIVERYHUB_BUS_URL": self.bus_url,
                "DELIVERYHUB_MASTER_KEY": self.master_key,
                "DELIVERYHUB_DATA_DIR": str(self.tmp),
                "DELIVERYHUB_BUS_STREAM": self.stream,
                "DELIVERYHUB_RATE_LIMIT_PER_MINUTE": "100000000",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        return env

    def bootstrap(self) -> Hub:
        """The hub in this process (migrates; used for keys, direct seeding and measurements)."""
        from deliveryhub.bootstrap import bootstrap

        hub = bootstrap(
            db_url=self.db_url,
            bus_url=self.bus_url,
            master_key=self.master_key,
            data_dir=self.tmp,
            bus_stream=self.stream,
        )
        self.hub = hub
        return hub

    def api_key(self, role: str = "admin") -> str:
        """A fresh API key."""
        from deliveryhub.security.apikeys import create_api_key

        assert self.hub is not None, "bootstrap() first"
        return create_api_key(self.hub.db, f"bench-{role}", role)

    def _cli(self) -> list[str]:
        exe = shutil.which("deliveryhub", path=str(Path(sys.executable).parent))
        return [exe] if exe else [sys.executable, "-m", "deliveryhub.entrypoints.cli"]

    def start_server(self, port: int, timeout: float = 60.0) -> str:
        """`deliveryhub serve` as a separate process (the load generator must not share its GIL)."""
        proc = subprocess.Popen(
            [*self._cli(), "serve", "--port", str(port)],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        if answers_healthz(base, timeout, proc):
            return base
        if proc.poll() is not None:
            raise RuntimeError(f"deliveryhub serve exited with {proc.returncode}")
        raise RuntimeError("deliveryhub serve did not become ready")

    def server_cpu_seconds(self) -> float:
        """CPU seconds used so far by every process this environment started (server, workers)."""
        return process_cpu_seconds([p.pid for p in self.procs])

    def start_worker(self) -> None:
        """`deliveryhub worker` (needed with NATS; the in-process bus runs the worker inside serve)."""
        proc = subprocess.Popen(
            [*self._cli(), "worker"], env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs.append(proc)

    def serve(self, timeout: float = 60.0) -> str:
        """Base URL of `deliveryhub serve` on a free port (plus a worker when the bus is NATS)."""
        base = self.start_server(free_port(), timeout=timeout)
        if self.bus_url.startswith("nats"):
            self.start_worker()
        return base

    def close(self) -> None:
        """Stop processes, drop the temporary database and stream, remove files."""
        stop_processes(self.procs, timeout=15)
        if self.hub is not None:
            self.hub.close()
        if self.bus_url.startswith("nats"):
            _delete_stream(self.bus_url, self.stream)
        if self._pg_name and self._pg_admin:
            engine = sa.create_engine(self._pg_admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{self._pg_name}'"
                )
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self._pg_name}"')
            engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for_consumers(hub: Hub, timeout: float = 180.0) -> bool:
    """Wait until every consumer has applied every outbox message (so a measurement runs on a quiet hub)."""
    from deliveryhub.adapters.persistence import tables as t

    wanted = len(hub.consumers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
            done = conn.execute(sa.select(sa.func.count()).select_from(t.processed_messages)).scalar_one()
        if done >= total * wanted:
            return True
        time.sleep(0.5)
    return False


def wait_for_quiet(hub: Hub, timeout: float = 600.0) -> bool:
    """Consumers caught up and every feature's background backlog (e.g. notices due) worked off."""
    deadline = time.monotonic() + timeout
    if not wait_for_consumers(hub, timeout=timeout):
        return False
    backlogs = dict(hub.backlogs)
    while time.monotonic() < deadline:
        if all(probe() == 0 for probe in backlogs.values()):
            return True
        time.sleep(0.5)
    return False


def _delete_stream(url: str, stream: str) -> None:
    import asyncio

    import nats

    async def run() -> None:
        nc = await nats.connect(servers=url.split(","), connect_timeout=3)
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    try:
        asyncio.run(run())
    except Exception:  # noqa: S110 - best effort: a leftover bench stream is harmless
        pass
