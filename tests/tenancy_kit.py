"""Two sellers on one hub, as an attacker finds them: shops A and B hold the same order id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import order_created

STAFF_ROLES = ("admin", "ops", "cs_agent", "analyst", "integration", "auditor")
SHARED_ID = "ORD-261204-1001"
B_ONLY_ID = "ORD-261204-7777"


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
            warehouse=f"{prefix}-창고",
        )
        for n, order_id in enumerate(order_ids)
    ]
    res = client.post("/v1/events", json=events, headers={"Authorization": f"Bearer {key}"})
    assert res.status_code in (200, 202), res.text


def auth(key: str, **headers: str) -> dict[str, Any]:
    """Headers of a request made with `key`."""
    return {"Authorization": f"Bearer {key}", **headers}
