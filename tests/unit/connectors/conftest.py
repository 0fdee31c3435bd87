"""Fixtures for connector tests: the shared real payloads live outside the repo (../shared/data)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_DEFAULT = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skipped when absent, except under CI=true where absence is a failure."""
    path = Path(os.environ.get("DELIVERYHUB_SHARED_DATA", str(_DEFAULT)))
    if not (path / "carrier_shop_api_payloads").is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data directory missing under CI: {path}")
        pytest.skip(f"shared data directory not present: {path}")
    return path


@pytest.fixture(scope="session")
def payload(shared_data: Path):  # type: ignore[no-untyped-def]
    """Load a file under carrier_shop_api_payloads/ (recorded cassettes are unwrapped to response_body)."""

    def load(relative: str) -> Any:
        data = json.loads((shared_data / "carrier_shop_api_payloads" / relative).read_text(encoding="utf-8"))
        if isinstance(data, dict) and "response_body" in data and "interaction" in data:
            return data["response_body"]
        return data

    return load
