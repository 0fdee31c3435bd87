"""Two sellers on one hub, as an attacker finds them: shops A and B hold the same order id."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import drain, make_hub, order_created

STAFF_ROLES = ("admin", "ops", "cs_agent", "analyst", "integration", "auditor")
SHARED_ID = "ORD-261204-1001"
B_ONLY_ID = "ORD-261204-7777"
A_NAME, A_PHONE = "김가나", "010-1111-2222"
B_NAME, B_PHONE = "이라마", "010-3333-4444"
# A ships in Seoul, B in Busan: the region on an order page tells whose order it is.
ADDRESSES = {
    "a": {"zip": "06236", "line1": "서울 강남구 테헤란로 152"},
    "b": {"zip": "48058", "line1": "부산 해운대구 센텀중앙로 79"},
}


@dataclass
class Tenants:
    """The platform app, its shops' hubs and every role's key per shop."""

    client: TestClient
    hubs: ShopHubs
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    platform_key: str = ""


def seed(client: TestClient, key: str, prefix: str, name: str, phone: str, order_ids: list[str]) -> None:
    """Orders sent by the shop's own integration key (each event lands in the key's shop)."""
    events = [
        order_created(
            f"{prefix}-{n}",
            order_id,
            "2026-12-01T10:00:00+09:00",
            {"name": name, "phone": phone, "email": f"{prefix}{n}@example.com"},
            address=ADDRESSES[prefix],
            warehouse=f"{prefix}-창고",
        )
        for n, order_id in enumerate(order_ids)
    ]
    res = client.post("/v1/events", json=events, headers={"Authorization": f"Bearer {key}"})
    assert res.status_code in (200, 202), res.text


def auth(key: str, **headers: str) -> dict[str, Any]:
    """Headers of a request made with `key`."""
    return {"Authorization": f"Bearer {key}", **headers}


@contextmanager
def two_shops(tmp: Path) -> Iterator[Tenants]:
    """A platform with shops shop-a and shop-b (same order id in both, one more only in B), a key per
    role per shop and a platform key; the platform app is served by a TestClient without workers."""
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
    try:
        with world.client:
            seed(world.client, world.keys["shop-a"]["integration"], "a", A_NAME, A_PHONE, [SHARED_ID])
            b_orders = [SHARED_ID, B_ONLY_ID]
            seed(world.client, world.keys["shop-b"]["integration"], "b", B_NAME, B_PHONE, b_orders)
            for slug in ("shop-a", "shop-b"):
                drain(hubs.hub(slug))
            yield world
    finally:
        hubs.close()
        platform.close()
