"""`ShopProfile`: each shop hub reads and changes its own row of the platform directory, and a change
reaches the shop's live notices at once."""

from __future__ import annotations

from typing import Any

import pytest

from deliveryhub.shops.directory import ShopError
from deliveryhub.shops.hubs import ShopHubs
from deliveryhub.shops.profile import attach_profiles, shop_settings_view


def test_every_shop_hub_gets_its_own_profile(hub: Any) -> None:
    hubs = ShopHubs(hub)
    try:
        attach_profiles(hubs)
        attach_profiles(hubs)  # a second call adds no second hook
        assert len(hubs.on_new_hub) == 1 and hub.profile is not None and hub.profile.slug == "default"
        hubs.directory.create("가나다 상점", "shop-a", hub.clock.now(), contact="02-000-0000")
        hubs.directory.create("라마바 상점", "shop-b", hub.clock.now())
        a, b = hubs.hub("shop-a"), hubs.hub("shop-b")
        assert a is not None and b is not None and a.profile is not None and b.profile is not None
        assert (a.profile.slug, b.profile.slug) == ("shop-a", "shop-b")
        shop = a.profile.update({"name": "가나다 본점", "brand_color": "#ABCDEF"})
        assert (shop.name, shop.brand_color) == ("가나다 본점", "#abcdef")
        assert a.notifications.settings.shop_name == "가나다 본점"
        assert a.notifications.links.settings.shop_name == "가나다 본점"
        assert b.notifications.settings.shop_name == "라마바 상점"
        assert hubs.directory.get("shop-b").name == "라마바 상점"  # type: ignore[union-attr]
        a.profile.update({"contact": None})
        contact = a.notifications.settings.shop_contact
        assert a.notifications.link_settings.shop_contact == contact != "02-000-0000"
        view = shop_settings_view(a)
        assert view["slug"] == "shop-a" and view["name"] == "가나다 본점" and view["editable"]
        assert view["brand"] == {"color": "#abcdef", "contact": None}
        with pytest.raises(ShopError) as err:
            a.profile.update({"brand_color": "red"})
        assert err.value.field == "brand_color"
        with pytest.raises(ShopError) as err:
            hub.profile.update({"name": "x"})
        assert err.value.status == 409
    finally:
        hubs.close()


def test_a_hub_without_a_platform_shows_its_environment(hub: Any) -> None:
    view = shop_settings_view(hub)
    assert view["slug"] == "default" and not view["editable"]
    assert view["name"] == hub.notifications.settings.shop_name
    assert view["config"] == {"file": None, "source": "defaults"}
