"""Fixtures of the effects integration tests: the local outside servers, a pinned clock, a hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from effects_kit import T0, effects_hub, point_at

from deliveryhub.kernel.clock import ManualClock
from providers.outside_servers import OutsideServers, outside_servers


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> Iterator[OutsideServers]:
    """The pickup, WMS, TMS and rewards servers, with every hub built afterwards pointed at them."""
    with outside_servers() as srv:
        point_at(monkeypatch, srv.env())
        yield srv


@pytest.fixture
def clock() -> ManualClock:
    """A clock pinned to 2026-12-01 10:00 KST."""
    return ManualClock(T0)


@pytest.fixture
def hub(tmp_path: Path, master_key: str, clock: ManualClock, servers: OutsideServers) -> Iterator[Any]:
    """A hub pointed at the outside servers (built after them), closed after the test."""
    built = effects_hub(tmp_path, master_key, clock)
    try:
        yield built
    finally:
        built.close()
