"""Shared fixtures: one trained model cache per test session (in a tmp dir), kiwi loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _nlu_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from deliveryhub.chatbot.nlu import model

    cache = tmp_path_factory.mktemp("nlu-cache")
    old = os.environ.get("DELIVERYHUB_CACHE_DIR")
    os.environ["DELIVERYHUB_CACHE_DIR"] = str(cache)
    model.reset_models()
    yield cache
    model.reset_models()
    if old is None:
        os.environ.pop("DELIVERYHUB_CACHE_DIR", None)
    else:
        os.environ["DELIVERYHUB_CACHE_DIR"] = old


def shared_data_dir(name: str) -> Path:
    """Path to ../shared/data/NAME; skips when absent, fails when CI=true."""
    path = (SHARED_DATA / name).resolve()
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared evaluation data missing: {path}")
        pytest.skip(f"shared evaluation data not present: {path}")
    return path
