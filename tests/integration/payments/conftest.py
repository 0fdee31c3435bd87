"""Fixtures of the payments integration tests: a local Toss server the hub is pointed at, and the hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dh_testkit import make_hub
from providers.toss_server import TossState, toss_server


@pytest.fixture
def toss(monkeypatch: pytest.MonkeyPatch) -> Iterator[TossState]:
    """A local Toss server, with every hub built afterwards pointed at it (secret key, base URL)."""
    with toss_server() as state:
        monkeypatch.setenv("DELIVERYHUB_TOSS_SECRET_KEY", state.secret_key)
        monkeypatch.setenv("DELIVERYHUB_TOSS_BASE_URL", state.url)
        yield state


@pytest.fixture
def hub(tmp_path: Path, master_key: str, toss: TossState) -> Iterator[Any]:
    """A fully wired SQLite hub talking to the local Toss server."""
    h = make_hub(tmp_path, master_key)
    yield h
    h.close()
