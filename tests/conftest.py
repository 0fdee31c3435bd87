"""Fixtures shared by every test layer: hubs on SQLite and PostgreSQL, API clients, keys, shared data."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dh_testkit import (  # noqa: E402,F401  (re-exported for older tests)
    IN_CI,
    NATS_URL,
    PG_ADMIN_URL,
    REPO,
    SHARED,
    drain,
    event,
    free_port,
    make_hub,
    port_open,
)

# A CPU hog that also ends when pytest does (its parent changes), even if pytest is killed.
_BUSY_LOOP = (
    "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(200000): pass\n"
)


@pytest.fixture(scope="session", autouse=True)
def ci_busy_cores() -> Iterator[int]:
    """DH_CI_BUSY=N keeps N busy loops running for the whole session (CI runs the suite with both cores
    busy, so races and starved writers show up before they land); always stopped at the end."""
    n = int(os.environ.get("DH_CI_BUSY", "0") or 0)
    procs = [subprocess.Popen([sys.executable, "-c", _BUSY_LOOP]) for _ in range(n)]
    try:
        yield n
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; skips when absent outside CI, fails when absent under CI=true."""
    path = SHARED / "data"
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing under CI=true")
        pytest.skip("../shared/data is not present")
    return path


@pytest.fixture
def master_key() -> str:
    """A fresh base64 master key."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _running(what: str, port: int, url: str) -> str:
    """`url` of a local service the test needs; the test fails (never skips) when it is not listening."""
    if not port_open("127.0.0.1", port):
        pytest.fail(f"{what} is not listening on 127.0.0.1:{port} (run `make services`)")
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """Admin URL of the local PostgreSQL (must be running; `make services` starts it)."""
    return _running("PostgreSQL", 5432, PG_ADMIN_URL)


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = "dh_test_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = postgres_admin.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                "AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        engine.dispose()


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of the local NATS JetStream server (must be running)."""
    return _running("NATS", 4222, NATS_URL)


@pytest.fixture
def hub(tmp_path: Path, master_key: str) -> Iterator[Any]:
    """A hub on a temporary SQLite database."""
    h = make_hub(tmp_path, master_key)
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def admin_key(hub: Any) -> str:
    """An admin API key on `hub`."""
    from deliveryhub.security.apikeys import create_api_key

    return create_api_key(hub.db, "test-admin", "admin")


@pytest.fixture
def client(hub: Any) -> Iterator[Any]:
    """A TestClient on `hub` WITHOUT the background worker (tests drive consumers explicitly)."""
    from fastapi.testclient import TestClient

    from deliveryhub.entrypoints.api.app import create_app

    with TestClient(create_app(hub, run_worker=False)) as c:
        yield c


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DELIVERYHUB_* setting from the shell reaches the test (the DELIVERYHUB_TEST_* ones stay)."""
    for name in list(os.environ):
        if name.startswith("DELIVERYHUB_") and not name.startswith("DELIVERYHUB_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free local port, collecting what the hub sends."""
    from notif_kit import SmtpSink

    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def provider() -> Iterator[Any]:
    """A local HTTP server answering like NHN Cloud 알림톡/SMS, recording every request."""
    from notif_kit import Provider

    p = Provider().start()
    yield p
    p.stop()
