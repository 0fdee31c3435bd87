"""A shop's own config file: its connectors (e.g. a seller's Shopify webhook secret) are its own, and what
it does not override comes from the platform's file (`extends:`)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from deliveryhub.connectors.pushes import shopify_secrets
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import make_hub

DOMAIN = "seller.myshopify.com"


def test_each_shop_signs_with_its_own_connector_secret(tmp_path: Path) -> None:
    platform_file = tmp_path / "deliveryhub.yaml"
    platform_file.write_text(
        f"connectors:\n  shopify:\n    shops:\n      {DOMAIN}:\n        webhook_secret: platform-secret\n",
        encoding="utf-8",
    )
    shop_file = tmp_path / "shop-a.yaml"
    shop_file.write_text(
        "extends: deliveryhub.yaml\n"
        f"connectors:\n  shopify:\n    shops:\n      {DOMAIN}:\n        webhook_secret: seller-a-secret\n",
        encoding="utf-8",
    )
    platform = make_hub(
        tmp_path, base64.b64encode(secrets.token_bytes(32)).decode(), config_file=platform_file
    )
    hubs = ShopHubs(platform)
    try:
        now = platform.clock.now()
        hubs.directory.create("가나다 상점", "shop-a", now, config_file=str(shop_file))
        hubs.directory.create("라마바 상점", "shop-b", now)
        hub_a, hub_b = hubs.hub("shop-a"), hubs.hub("shop-b")
        assert hub_a is not None and hub_b is not None
        assert shopify_secrets(hub_a, DOMAIN) == ["seller-a-secret"]
        # B has no file of its own: the platform's settings apply to it.
        assert shopify_secrets(hub_b, DOMAIN) == ["platform-secret"]
        assert shopify_secrets(platform, DOMAIN) == ["platform-secret"]
    finally:
        hubs.close()
        platform.close()
