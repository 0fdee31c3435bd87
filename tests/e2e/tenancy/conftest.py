"""Fixtures of the tenancy tests (helpers in tests/tenancy_kit.py)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import drain, make_hub
from tenancy_kit import B_ONLY_ID, SHARED_ID, STAFF_ROLES, Tenants, seed


@pytest.fixture(scope="package")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    tmp = tmp_path_factory.mktemp("tenancy")
    platform = make_hub(tmp, base64.b64encode(secrets.token_bytes(32)).decode())
    app = create_platform_app(platform, run_worker=False)
    hubs: ShopHubs = app.hubs
    now = platform.clock.now()
    for slug, name in (("shop-a", "가나다 상점"), ("shop-b", "라마바 상점")):
        hubs.directory.create(name, slug, now)
    world = Tenants(client=TestClient(app), hubs=hubs)
    for slug in ("shop-a", "shop-b"):
        hub = hubs.hub(slug)
        assert hub is not None
        world.keys[slug] = {
            role: create_api_key(hub.db, f"{slug}-{role}", role, shop=slug) for role in STAFF_ROLES
        }
    world.platform_key = create_api_key(platform.db, "operator", "platform")
    with world.client:
        seed(world.client, world.keys["shop-a"]["integration"], "a", "김가나", "010-1111-2222", [SHARED_ID])
        seed(
            world.client,
            world.keys["shop-b"]["integration"],
            "b",
            "이라마",
            "010-3333-4444",
            [SHARED_ID, B_ONLY_ID],
        )
        for slug in ("shop-a", "shop-b"):
            drain(hubs.hub(slug))
        yield world
    hubs.close()
    platform.close()
