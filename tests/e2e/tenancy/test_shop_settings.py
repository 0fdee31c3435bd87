"""A shop's own settings and onboarding checklist over HTTP: each shop's admin changes only its own shop;
bad input is a 422 naming the field; the checklist tells a fresh shop from one that has traffic."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.tables import audit_log
from tenancy_kit import Tenants, auth


def _shop(tenants: Tenants, key: str, **headers: str) -> dict[str, Any]:
    res = tenants.client.get("/v1/shop", headers=auth(key, **headers))
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    return body


def test_each_shop_reads_its_own_settings(tenants: Tenants) -> None:
    a = _shop(tenants, tenants.keys["shop-a"]["ops"])
    b = _shop(tenants, tenants.keys["shop-b"]["auditor"])
    assert (a["slug"], b["slug"]) == ("shop-a", "shop-b")
    assert a["name"] == "가나다 상점" and b["name"] == "라마바 상점"
    assert a["time_zone"] == "Asia/Seoul"
    assert a["business_calendar"]["workdays"] and a["sla"]["policies"]["urgent"]["first_response"] > 0
    assert any(k["key"] == "on_time_delivery_rate" for k in a["kpi_targets"])
    assert a["config"]["source"] in ("shop", "platform", "defaults")
    assert a["editable"] is True
    via_platform = _shop(tenants, tenants.platform_key, **{"X-Shop": "shop-b"})
    assert via_platform["slug"] == "shop-b"


def test_admin_renames_its_shop_and_only_its_shop(tenants: Tenants) -> None:
    admin = tenants.keys["shop-a"]["admin"]
    try:
        res = tenants.client.patch(
            "/v1/shop",
            json={"name": "가나다 상점 본점", "brand_color": "#1F6FEB", "contact": "1588-0000"},
            headers=auth(admin),
        )
        assert res.status_code == 200, res.text
        after = _shop(tenants, tenants.keys["shop-a"]["ops"])
        assert after["name"] == "가나다 상점 본점"
        assert after["brand"] == {"color": "#1f6feb", "contact": "1588-0000"}
        assert _shop(tenants, tenants.keys["shop-b"]["ops"])["name"] == "라마바 상점"
        # the live hub's notices and tracking pages carry the new name at once
        hub = tenants.hubs.hub("shop-a")
        assert hub is not None and hub.notifications is not None
        assert hub.notifications.settings.shop_name == "가나다 상점 본점"
        assert hub.notifications.link_settings.shop_name == "가나다 상점 본점"
        with hub.db.read() as conn:
            audited = (
                conn.execute(sa.select(audit_log.c.details).where(audit_log.c.action == "shop.updated"))
                .scalars()
                .all()
            )
        assert audited and "가나다 상점 본점" in audited[-1]
    finally:
        res = tenants.client.patch(
            "/v1/shop",
            json={"name": "가나다 상점", "brand_color": None, "contact": None},
            headers=auth(admin),
        )
        assert res.status_code == 200, res.text
    assert _shop(tenants, tenants.keys["shop-a"]["ops"])["brand"] == {"color": None, "contact": None}


def test_bad_settings_are_422_naming_the_field(tenants: Tenants) -> None:
    admin = auth(tenants.keys["shop-a"]["admin"])
    for body, field in (
        ({"brand_color": "blue"}, "brand_color"),
        ({"brand_color": "#12345"}, "brand_color"),
        ({"brand_color": 12}, "brand_color"),
        ({"name": "   "}, "name"),
        ({"contact": "x" * 80}, "contact"),
        ({"slug": "shop-b"}, "slug"),
    ):
        res = tenants.client.patch("/v1/shop", json=body, headers=admin)
        assert res.status_code == 422, (body, res.text)
        assert res.json()["error"]["field"] == field, (body, res.text)
    assert _shop(tenants, tenants.keys["shop-a"]["ops"])["name"] == "가나다 상점"


def test_only_the_admin_changes_settings(tenants: Tenants) -> None:
    for role in ("analyst", "ops", "cs_agent", "integration", "auditor"):
        res = tenants.client.patch(
            "/v1/shop", json={"name": "탈취"}, headers=auth(tenants.keys["shop-a"][role])
        )
        assert res.status_code == 403, (role, res.text)
    # another shop's admin cannot name shop A at all (404, as if it did not exist)
    res = tenants.client.patch(
        "/v1/shop",
        json={"name": "탈취"},
        headers=auth(tenants.keys["shop-b"]["admin"], **{"X-Shop": "shop-a"}),
    )
    assert res.status_code == 404
    assert _shop(tenants, tenants.keys["shop-a"]["ops"])["name"] == "가나다 상점"


def test_the_default_shop_is_named_by_the_environment(tenants: Tenants) -> None:
    body = _shop(tenants, tenants.platform_key)  # no shop named: the platform's own, `default`
    assert body["slug"] == "default" and body["editable"] is False
    res = tenants.client.patch("/v1/shop", json={"name": "x"}, headers=auth(tenants.platform_key))
    assert res.status_code == 409 and res.json()["error"]["field"] == "shop"


def _items(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in body["items"]}


def test_checklist_of_a_shop_with_traffic_and_of_a_fresh_shop(tenants: Tenants) -> None:
    res = tenants.client.get("/v1/shop/checklist", headers=auth(tenants.keys["shop-a"]["admin"]))
    assert res.status_code == 200, res.text
    a = _items(res.json())
    assert a["first_events"]["done"] and a["first_events"]["facts"]["events"] >= 1
    assert a["connectors"]["done"] and a["api_keys"]["done"]
    assert a["first_events"]["next"] is None
    for item in a.values():
        for lang in ("ko", "en"):
            assert item["title"][lang] and item["summary"][lang] and "{" not in item["summary"][lang]
    tenants.hubs.directory.create("새 상점", "shop-fresh", tenants.hubs.platform.clock.now())
    try:
        hub = tenants.hubs.hub("shop-fresh")
        assert hub is not None
        key = create_api_key(hub.db, "fresh-admin", "admin", shop="shop-fresh")
        res = tenants.client.get("/v1/shop/checklist", headers=auth(key))
        assert res.status_code == 200, res.text
        fresh = res.json()
        items = _items(fresh)
        assert fresh["shop"] == "shop-fresh" and not fresh["complete"]
        assert not items["first_events"]["done"] and not items["connectors"]["done"]
        assert not items["staff_users"]["done"] and not items["test_notice"]["done"]
        assert items["api_keys"]["done"]  # the one key just made
        assert items["first_events"]["next"]["ko"] and items["first_events"]["next"]["en"]
        assert "--shop shop-fresh" in items["staff_users"]["command"]
        # the fresh shop's test notice goes out through its own channels and ticks the item
        sent = tenants.client.post(
            "/v1/shop/test-notice", json={"to": "owner@example.com"}, headers=auth(key)
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["sent"] is True and "owner@" not in sent.text
        again = _items(tenants.client.get("/v1/shop/checklist", headers=auth(key)).json())
        assert again["test_notice"]["done"]
        bad = tenants.client.post("/v1/shop/test-notice", json={"to": "not-an-address"}, headers=auth(key))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "to"
    finally:
        tenants.hubs.erase("shop-fresh")
    # shop A's checklist did not move
    after = _items(
        tenants.client.get("/v1/shop/checklist", headers=auth(tenants.keys["shop-a"]["admin"])).json()
    )
    assert after["first_events"]["facts"]["events"] == a["first_events"]["facts"]["events"]


def test_checklist_needs_a_role_that_reads_settings(tenants: Tenants) -> None:
    res = tenants.client.get("/v1/shop/checklist", headers=auth(tenants.keys["shop-a"]["cs_agent"]))
    assert res.status_code == 403
    assert tenants.client.get("/v1/shop/checklist").status_code == 401
