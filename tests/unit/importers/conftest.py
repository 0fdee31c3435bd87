from __future__ import annotations

import os
from pathlib import Path

import pytest

OLIST_SAMPLE = Path(os.environ.get("DELIVERYHUB_OLIST_SAMPLE", "/work/shared/data/olist/sample_8135_orders"))


def _require_data(path: Path, what: str) -> Path:
    if path.is_dir() and any(path.iterdir()):
        return path
    message = f"{what} not found at {path} (set DELIVERYHUB_OLIST_SAMPLE)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def olist_sample_dir() -> Path:
    """The 8,135-order Olist sample; skipped when absent, a failure when CI=true."""
    return _require_data(OLIST_SAMPLE, "Olist sample")
