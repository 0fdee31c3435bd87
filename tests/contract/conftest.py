"""Fixtures of the contract tests: one real backend (storage × bus) per parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backbone_backends import BACKENDS, Backend

from dh_testkit import make_hub


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, master_key: str) -> Iterator[Backend]:
    store, bus = request.param
    db_url = None
    if store == "postgres":
        db_url = request.getfixturevalue("pg_url")
    nats_url = request.getfixturevalue("nats_url") if bus == "nats" else None
    hub = make_hub(tmp_path, master_key, db_url=db_url, features=False)
    b = Backend(hub, bus, nats_url)
    try:
        yield b
    finally:
        b.cleanup()
        hub.close()
