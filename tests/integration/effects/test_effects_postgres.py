"""The claim on PostgreSQL: two transactions claiming one row — the second waits for the first and then
finds it held; several drivers racing over many rows send each one once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from effects_kit import effects_hub, enqueue_release, race_drivers, rows

from deliveryhub.effects import ledger
from deliveryhub.effects.driver import LEASE
from deliveryhub.kernel.clock import ManualClock
from providers.outside_servers import OutsideServers

pytestmark = pytest.mark.postgres


def _queue(hub: Any, oids: list[str]) -> None:
    for oid in oids:
        enqueue_release(hub, oid)


def test_a_second_claim_waits_then_finds_the_row_held(
    tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers, pg_url: str
) -> None:
    hub = effects_hub(tmp_path, master_key, clock, db_url=pg_url)
    try:
        _queue(hub, ["O-1"])
        first = hub.db.engine.connect()
        tx = first.begin()
        assert ledger.claim(first, "release:O-1", "w1", clock.now(), LEASE) is not None
        second: list[Any] = []

        def other() -> None:
            with hub.db.write() as conn:
                second.append(ledger.claim(conn, "release:O-1", "w2", clock.now(), LEASE))

        t = threading.Thread(target=other)
        t.start()
        t.join(timeout=1.0)
        assert t.is_alive()  # blocked on the first transaction's row lock
        tx.commit()
        first.close()
        t.join()
        assert second == [None]
        row = rows(hub)["release:O-1"]
        assert (row.claimed_by, row.attempts) == ("w1", 1)
    finally:
        hub.close()


def test_racing_drivers_send_each_row_once(
    tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers, pg_url: str
) -> None:
    hub = effects_hub(tmp_path, master_key, clock, db_url=pg_url)
    try:
        oids = [f"O-{i}" for i in range(16)]
        _queue(hub, oids)
        assert race_drivers(hub, clock, 4) == len(oids)
        assert sorted(servers.wms.keys("/release")) == sorted(f"release:{o}" for o in oids)
        assert {r.status for r in rows(hub).values()} == {"done"}
    finally:
        hub.close()
