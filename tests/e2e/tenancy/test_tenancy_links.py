"""A shop's tracking link: made under its own prefix, opened through the front door, in its own name and
colour — and a link of shop B opened under shop A's prefix is nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from tenancy_kit import SHARED_ID, Tenants, auth


def _link(tenants: Tenants, slug: str) -> str:
    res = tenants.client.post(
        f"/v1/orders/{SHARED_ID}/tracking-link/copy", headers=auth(tenants.keys[slug]["ops"])
    )
    assert res.status_code == 200, res.text
    return str(res.json()["url"])


def test_each_shop_links_to_its_own_page(tenants: Tenants) -> None:
    hub_a = tenants.hubs.hub("shop-a")
    assert hub_a is not None and hub_a.profile is not None
    hub_a.profile.update({"brand_color": "#aa3300"})
    a_url, b_url = _link(tenants, "shop-a"), _link(tenants, "shop-b")
    a_path, b_path = urlsplit(a_url).path, urlsplit(b_url).path
    assert a_path.startswith("/s/shop-a/track/") and b_path.startswith("/s/shop-b/track/")
    page_a = tenants.client.get(a_path)
    assert page_a.status_code == 200
    assert "가나다 상점" in page_a.text and "#aa3300" in page_a.text
    page_b = tenants.client.get(b_path)
    assert page_b.status_code == 200 and "라마바 상점" in page_b.text and "#aa3300" not in page_b.text
    # B's link token under A's prefix (or with no prefix at all) opens nothing.
    token_b = b_path.rsplit("/", 1)[1]
    assert tenants.client.get(f"/s/shop-a/track/{token_b}").status_code == 404
    assert tenants.client.get(f"/track/{token_b}").status_code == 404
