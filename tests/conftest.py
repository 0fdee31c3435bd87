"""Fixtures shared by every test layer: hubs on SQLite and PostgreSQL, API clients, keys, shared data."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("DELIVERYHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("DELIVERYHUB_TEST_NATS", "nats://127.0.0.1:4222")
IN_CI = os.environ.get("CI", "").lower() == "true"


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """Admin URL of the local PostgreSQL (must be running; `make services` starts it)."""
    if not port_open("127.0.0.1", 5432):
        pytest.fail("PostgreSQL is not listening on 127.0.0.1:5432 (run `make services`)")
    return PG_ADMIN_URL


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
    if not port_open("127.0.0.1", 4222):
        pytest.fail("NATS is not listening on 127.0.0.1:4222 (run `make services`)")
    return NATS_URL


def make_hub(tmp_path: Path, master_key: str, db_url: str | None = None, **overrides: Any) -> Any:
    """A fully wired hub on a temporary SQLite file (or the given URL)."""
    from deliveryhub.bootstrap import bootstrap

    # DH_TEST_FEATURES=0 builds the bare backbone (to test it in isolation while features change).
    overrides.setdefault("features", os.environ.get("DH_TEST_FEATURES", "1") != "0")
    return bootstrap(
        db_url=db_url or f"sqlite:///{tmp_path}/hub.db",
        data_dir=tmp_path,
        master_key=master_key,
        env="test",
        **overrides,
    )


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


def drain(hub: Any, rounds: int = 50) -> int:
    """Relay the outbox and run every consumer until nothing is left (in-process bus, synchronously)."""
    import asyncio

    from deliveryhub.adapters.bus.inprocess import InProcessBus
    from deliveryhub.service_layer.relay import OutboxRelay

    bus = InProcessBus(hub.db)
    relay = OutboxRelay(hub.db, bus)
    total = 0
    for _ in range(rounds):
        moved = asyncio.run(relay.run_once())
        applied = sum(bus.poll_once(c) for c in hub.consumers)
        total += applied
        if moved == 0 and applied == 0:
            break
    relay.release()
    return total


def event(
    event_id: str,
    type_: str,
    order_id: str | None,
    at: str,
    data: dict[str, Any] | None = None,
    source: str = "oms",
    **extra: Any,
) -> dict[str, Any]:
    """A canonical event dict for tests."""
    out: dict[str, Any] = {
        "event_id": event_id,
        "source": source,
        "type": type_,
        "occurred_at": at,
        "order_id": order_id,
        "data": data or {},
    }
    out.update(extra)
    return out
