"""`deliveryhub worker` at scale (PostgreSQL + NATS JetStream) runs every shop: each shop's outbox goes to
its own stream and each shop's consumers apply it in its own schema — shops created after the worker
started included."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.bootstrap import bootstrap
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import order_created, stop_process


def start_shop_worker(
    tmp_path: Path, master: str, pg_url: str, nats_url: str, stream: str, discover_seconds: int
) -> subprocess.Popen[bytes]:
    """`deliveryhub worker` of this platform, looking for new shops every `discover_seconds`."""
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": pg_url,
        "DELIVERYHUB_BUS_URL": nats_url,
        "DELIVERYHUB_MASTER_KEY": master,
        "DELIVERYHUB_BUS_STREAM": stream,
        "DELIVERYHUB_ENV": "test",
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_SHOP_DISCOVER_SECONDS": str(discover_seconds),
    }
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def health_applied(hub: Any) -> int:
    """Messages the shop's integration_health consumer has applied (in the shop's own schema)."""
    processed = t.processed_messages
    with hub.db.read() as conn:
        query = sa.select(sa.func.count()).where(processed.c.consumer == "integration_health")
        return int(conn.execute(query).scalar_one())


def _order(hub: object, order_id: str) -> None:
    event = order_created(
        f"e-{order_id}", order_id, "2026-12-01T10:00:00+09:00", {"name": "김가나", "phone": "010-1111-2222"}
    )
    results = hub.ingest.ingest([event])  # type: ignore[attr-defined]
    assert results[0].status == "accepted", results


def test_one_worker_serves_every_shop_and_finds_new_ones(pg_url: str, nats_url: str, tmp_path: Path) -> None:
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    stream = "DHT" + uuid.uuid4().hex[:8].upper()
    platform = bootstrap(
        db_url=pg_url, bus_url=nats_url, master_key=master, data_dir=tmp_path, env="test", bus_stream=stream
    )
    hubs = ShopHubs(platform)
    hubs.directory.create("가나다 상점", "shop-a", platform.clock.now())
    proc = start_shop_worker(tmp_path, master, pg_url, nats_url, stream, discover_seconds=1)
    try:
        hub_a = hubs.hub("shop-a")
        assert hub_a is not None
        _order(platform, "ORD-P-1")
        _order(hub_a, "ORD-A-1")
        # A shop created while the worker runs: the worker finds it and applies its events too.
        log = tmp_path / "worker.log"
        deadline = time.monotonic() + 120
        while log.read_text().count("worker_started") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.read_text().count("worker_started") == 2
        hubs.directory.create("라마바 상점", "shop-b", platform.clock.now())
        hub_b = hubs.hub("shop-b")
        assert hub_b is not None
        _order(hub_b, "ORD-B-1")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(health_applied(h) >= 1 for h in (platform, hub_a, hub_b)):
                break
            time.sleep(0.5)
        assert [health_applied(h) >= 1 for h in (platform, hub_a, hub_b)] == [True, True, True]
        assert "worker_shop_added" in log.read_text()
        # Each shop's events stayed in its own schema.
        for hub, mine in ((platform, "ORD-P-1"), (hub_a, "ORD-A-1"), (hub_b, "ORD-B-1")):
            with hub.db.read() as conn:
                ids = conn.execute(sa.text("SELECT order_id FROM orders")).scalars().all()
            assert ids == [mine]
    finally:
        stop_process(proc)
        hubs.close()
        platform.close()
