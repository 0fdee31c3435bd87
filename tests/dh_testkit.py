"""Helpers shared by every test layer (import with `from dh_testkit import ...`)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def serving(app: Any, port: int | None = None, **config: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port in a thread; yields its base URL once it answers."""
    import uvicorn

    port = port or free_port()
    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Started is a condition, not a time budget: a loaded box only makes it come later.
    deadline = time.monotonic() + 120
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"uvicorn did not start on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
