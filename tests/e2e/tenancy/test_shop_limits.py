"""A platform operator changes one seller's settings on a running hub: the other seller is untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.shops import hubs as shop_hubs
from tenancy_kit import auth, two_shops


def _sessions_until_refused(client: object, prefix: str, tries: int) -> int:
    """How many chat sessions one client opens before the shop answers 429 (tries if never)."""
    for n in range(tries):
        res = client.post(f"{prefix}/v1/chat/sessions", json={})  # type: ignore[attr-defined]
        if res.status_code == 429:
            assert "retry" in res.json()["error"]["message"]
            return n
        assert res.status_code in (200, 201), res.text
    return tries


def test_a_lowered_rate_limit_reaches_only_that_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop_hubs, "RECHECK_SECONDS", 0.0)  # the running hub re-reads the directory at once
    with two_shops(tmp_path) as world:
        platform = world.platform_key
        res = world.client.patch(
            "/v1/shops/shop-b", json={"rate_limit_per_minute": 10}, headers=auth(platform)
        )
        assert res.status_code == 200, res.text
        assert res.json()["rate_limit_per_minute"] == 10
        # 10 a minute allows a burst of 30 chat writes per client; the 31st is refused, in shop B only.
        assert _sessions_until_refused(world.client, "/s/shop-b", 40) == 30
        assert _sessions_until_refused(world.client, "/s/shop-a", 40) == 40
        audit = world.client.get("/v1/audit", headers=auth(platform)).json()
        changed = [e for e in audit["entries"] if e["action"] == "shop.changed"]
        assert changed and changed[0]["target"] == "shop:shop-b"


def test_only_the_platform_changes_a_shop_and_bad_values_are_named(tmp_path: Path) -> None:
    with two_shops(tmp_path) as world:
        seller_admin = world.keys["shop-b"]["admin"]
        res = world.client.patch(
            "/v1/shops/shop-b", json={"rate_limit_per_minute": 100000}, headers=auth(seller_admin)
        )
        assert res.status_code in (403, 404)  # a seller cannot raise its own limit
        platform = world.platform_key
        for body, field in (
            ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
            ({"brand_color": "red"}, "brand_color"),
            ({"owner": "me"}, "owner"),
            ({}, "body"),
        ):
            res = world.client.patch("/v1/shops/shop-b", json=body, headers=auth(platform))
            assert res.status_code == 422, (body, res.text)
            assert field in res.text
        res = world.client.patch("/v1/shops/nope", json={"name": "x"}, headers=auth(platform))
        assert res.status_code == 404
        res = world.client.patch(
            "/v1/shops/default", json={"rate_limit_per_minute": 50}, headers=auth(platform)
        )
        assert res.status_code == 422
