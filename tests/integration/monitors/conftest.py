"""Fixtures of the monitors integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from monitors_helpers import monitor_hub


@pytest.fixture
def new_hub(tmp_path: Path, master_key: str) -> Iterator[Callable[..., Any]]:
    """`new_hub(clock, **settings)`: a monitors-only hub on this test's database, closed at teardown
    (call it again for a restarted worker on the same database)."""
    hubs: list[Any] = []

    def make(clock: Any, **settings: Any) -> Any:
        hubs.append(monitor_hub(tmp_path, master_key, clock, **settings))
        return hubs[-1]

    yield make
    for hub in hubs:
        hub.close()
