"""`doctor --shop SLUG`: the shop's database, root key and onboarding items, each a plain-words result."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from deliveryhub.service_layer.doctor import run_checks
from deliveryhub.shops.doctor import shop_checks
from deliveryhub.shops.hubs import ShopHubs
from deliveryhub.shops.tables import shops


def test_doctor_checks_one_shop(hub: Any) -> None:
    hubs = ShopHubs(hub)
    try:
        hubs.directory.create("가나다 상점", "shop-a", hub.clock.now())
        assert hubs.hub("shop-a") is not None
        results = {r.name: r for r in run_checks(shop_checks(hubs, "shop-a"))}
        assert results["shop shop-a"].ok and "가나다 상점" in results["shop shop-a"].detail
        assert results["shop shop-a database"].ok, results["shop shop-a database"].detail
        assert results["shop shop-a root key"].ok, results["shop shop-a root key"].detail
        events = results["shop shop-a checklist: First events received"]
        assert not events.ok and "Next:" in events.detail and "POST /v1/events" in events.detail
        keys = results["shop shop-a checklist: API keys created"]
        assert not keys.ok and "deliveryhub keys create --shop shop-a" in keys.detail
        # a root key that is not the shop's is a failed check, not a crash
        with hub.db.write() as conn:
            conn.execute(shops.update().where(shops.c.slug == "shop-a").values(key_wrapped=os.urandom(60)))
        again = {r.name: r for r in run_checks(shop_checks(hubs, "shop-a"))}
        assert not again["shop shop-a root key"].ok
    finally:
        hubs.close()


def test_doctor_names_an_unknown_shop(hub: Any) -> None:
    hubs = ShopHubs(hub)
    results = list(run_checks(shop_checks(hubs, "shop-zz")))
    assert not results[0].ok and "shops list" in results[0].detail
    assert not any(r.ok for r in results)
    with hub.db.read() as conn:  # nothing was created for the unknown shop
        assert conn.execute(sa.select(sa.func.count()).select_from(shops)).scalar_one() == 0
