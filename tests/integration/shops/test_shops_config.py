"""A shop's own config file: its connectors (e.g. a seller's Shopify webhook secret) are its own, and what
it does not override comes from the platform's file (`extends:`)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from deliveryhub.connectors.pushes import shopify_secrets
from deliveryhub.kernel.configfile import ConfigError
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


def test_each_shop_sends_from_its_own_account(tmp_path: Path) -> None:
    """A seller's 알림톡/SMS account and templates come from its own file; the others keep the platform's."""
    shop_file = tmp_path / "shop-a.yaml"
    shop_file.write_text(
        "notifications:\n  sms_sender_no: '0212345678'\n  kakao_sender_key: ${SELLER_A_KAKAO_KEY}\n",
        encoding="utf-8",
    )
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    platform = make_hub(tmp_path, master)
    hubs = ShopHubs(platform)
    try:
        now = platform.clock.now()
        hubs.directory.create("가나다 상점", "shop-a", now, config_file=str(shop_file))
        hubs.directory.create("라마바 상점", "shop-b", now)
        hub_a, hub_b = hubs.hub("shop-a"), hubs.hub("shop-b")
        assert hub_a is not None and hub_b is not None
        assert hub_a.notifications is not None and hub_b.notifications is not None
        assert hub_a.notifications.settings.sms_sender_no == "0212345678"
        assert hub_b.notifications.settings.sms_sender_no == platform.notifications.settings.sms_sender_no
    finally:
        hubs.close()
        platform.close()


def test_a_mistyped_notification_setting_names_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("notifications:\n  sms_sender: '0212345678'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        make_hub(tmp_path, base64.b64encode(secrets.token_bytes(32)).decode(), config_file=bad)
    assert "bad.yaml:2" in str(err.value) and "sms_sender" in str(err.value)
