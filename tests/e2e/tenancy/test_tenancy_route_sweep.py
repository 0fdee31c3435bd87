"""Every route of a shop's app × every role of shop A, aimed at shop B: nothing of B comes back and not one
row of B's database changes. Runs on its own pair of shops (some routes change A's data)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts

from deliveryhub.schema import all_tables
from tenancy_kit import B_NAME, B_ONLY_ID, B_PHONE, STAFF_ROLES, Tenants, auth, two_shops

B_MARKERS = ("b-창고", B_NAME, B_PHONE, B_PHONE.replace("-", ""), "b0@example.com", "b1@example.com")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    with two_shops(tmp_path_factory.mktemp("sweep")) as tenants:
        yield tenants


def _routes(app: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            out.extend((method, str(ctx.path)) for method in sorted(ctx.methods or ()))
    # Destructive routes last (a revoked key of A would make the rest of the sweep weaker).
    return sorted(out, key=lambda r: (r[0] == "DELETE" or "rotate" in r[1], r[1], r[0]))


def _url(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return B_ONLY_ID if "order" in match.group(1) else "1"

    return re.sub(r"\{([^}]+)\}", fill, path)


def _snapshot(engine: sa.Engine) -> dict[str, str]:
    """A digest of every row of every table: equal digests mean not one row changed."""
    out = {}
    with engine.connect() as conn:
        for table in all_tables().sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return out


def test_no_route_and_no_role_of_a_reaches_b(world: Tenants) -> None:
    hub_b = world.hubs.hub("shop-b")
    assert hub_b is not None
    before = _snapshot(hub_b.db.engine)
    app_a = world.client.app.apps["shop-a"]  # type: ignore[attr-defined]
    routes = _routes(app_a)
    assert len(routes) >= 60
    sent = 0
    for method, path in routes:
        for role in STAFF_ROLES:
            key = world.keys["shop-a"][role]
            for headers, url in (
                (auth(key), _url(path)),
                (auth(key, **{"X-Shop": "shop-b"}), _url(path)),
                (auth(key), "/s/shop-b" + _url(path)),
            ):
                kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
                if method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {}
                res = world.client.request(method, url, **kwargs)
                sent += 1
                assert res.status_code < 500, (method, url, role, res.status_code, res.text[:200])
                leaked = [m for m in B_MARKERS if m in res.text]
                assert not leaked, (method, url, role, leaked)
                if url.startswith("/s/shop-b") or "X-Shop" in headers:
                    assert res.status_code == 404, (method, url, role, res.status_code)
    assert sent >= 60 * len(STAFF_ROLES) * 3
    assert _snapshot(hub_b.db.engine) == before


def test_each_shop_has_its_own_database_and_root_key(world: Tenants) -> None:
    hub_a, hub_b = world.hubs.hub("shop-a"), world.hubs.hub("shop-b")
    assert hub_a is not None and hub_b is not None
    assert hub_a.db.url != hub_b.db.url
    assert hub_a.keyring.master.derive("x") != hub_b.keyring.master.derive("x")
