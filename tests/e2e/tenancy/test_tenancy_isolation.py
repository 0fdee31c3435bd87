"""Isolation as an attack: every key of shop A, on every route, sees only A's rows."""

from __future__ import annotations

from tenancy_kit import B_ONLY_ID, SHARED_ID, STAFF_ROLES, Tenants, auth


def test_each_shop_reads_its_own_order_under_the_same_id(tenants: Tenants) -> None:
    for slug, warehouse in (("shop-a", "a-창고"), ("shop-b", "b-창고")):
        res = tenants.client.get(f"/v1/orders/{SHARED_ID}", headers=auth(tenants.keys[slug]["ops"]))
        assert res.status_code == 200, res.text
        assert warehouse in res.text
        other = "b-창고" if slug == "shop-a" else "a-창고"
        assert other not in res.text


def test_a_never_learns_that_b_has_an_order(tenants: Tenants) -> None:
    for role in STAFF_ROLES:
        key = tenants.keys["shop-a"][role]
        missing = tenants.client.get("/v1/orders/ORD-NOPE-0000", headers=auth(key))
        b_only = tenants.client.get(f"/v1/orders/{B_ONLY_ID}", headers=auth(key))
        assert b_only.status_code == missing.status_code, role
        assert b_only.text.replace(B_ONLY_ID, "ID") == missing.text.replace("ORD-NOPE-0000", "ID"), role


def test_naming_another_shop_is_404_for_every_shop_role(tenants: Tenants) -> None:
    for role in STAFF_ROLES:
        key = tenants.keys["shop-a"][role]
        for headers, path in (
            (auth(key, **{"X-Shop": "shop-b"}), f"/v1/orders/{SHARED_ID}"),
            (auth(key), f"/v1/orders/{SHARED_ID}?shop=shop-b"),
            (auth(key), f"/s/shop-b/v1/orders/{SHARED_ID}"),
        ):
            res = tenants.client.get(path, headers=headers)
            assert res.status_code == 404, (role, path, res.text)
            assert "b-창고" not in res.text


def test_a_forged_shop_in_the_token_is_not_a_key(tenants: Tenants) -> None:
    secret = tenants.keys["shop-a"]["admin"].split(".", 1)[1]
    res = tenants.client.get(f"/v1/orders/{SHARED_ID}", headers=auth(f"dhk_shop-b.{secret}"))
    assert res.status_code == 401


def test_the_platform_operator_names_the_shop(tenants: Tenants) -> None:
    for slug, warehouse in (("shop-a", "a-창고"), ("shop-b", "b-창고")):
        res = tenants.client.get(
            f"/v1/orders/{SHARED_ID}", headers=auth(tenants.platform_key, **{"X-Shop": slug})
        )
        assert res.status_code == 200, res.text
        assert warehouse in res.text
    unknown = tenants.client.get("/v1/orders/x", headers=auth(tenants.platform_key, **{"X-Shop": "shop-zz"}))
    assert unknown.status_code == 404
