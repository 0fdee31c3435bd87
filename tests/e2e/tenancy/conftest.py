"""Fixtures of the tenancy tests (helpers in tests/tenancy_kit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenancy_kit import Tenants, two_shops


@pytest.fixture(scope="package")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    """Shops A and B, shared by the read-only tests of this package."""
    with two_shops(tmp_path_factory.mktemp("tenancy")) as world:
        yield world
