"""The platform operator's API over HTTP: every seller with its health and usage (GET /v1/shops), a new
shop (POST /v1/shops) and a seller's monthly report — and nobody but the platform role gets near it.

A platform of its own (not the package's `tenants`, which other tests erase from): shop-a sends one late
order and opens one chat, shop-b sends three orders; the numbers are counted from each shop's own
database, and must be exactly what the API shows."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.tables import audit_log
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import drain, make_hub, order_created
from tenancy_kit import auth


@dataclass
class Platform:
    """A platform app with shops shop-a and shop-b, their admin and integration keys, the operator's."""

    client: TestClient
    hubs: ShopHubs
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    operator: str = ""
    default_admin: str = ""


def _orders(prefix: str, ids: list[str], promised: str, created: str) -> list[dict[str, object]]:
    return [
        order_created(
            f"{prefix}-{n}",
            oid,
            created,
            {"name": "김가나", "phone": "010-1111-2222", "email": f"{prefix}{n}@example.com"},
            promised_delivery_date=promised,
        )
        for n, oid in enumerate(ids)
    ]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("platform")
    hub = make_hub(tmp, base64.b64encode(secrets.token_bytes(32)).decode())
    app = create_platform_app(hub, run_worker=False)
    hubs: ShopHubs = app.hubs
    now = hub.clock.now()
    for slug, name in (("shop-a", "가나다 상점"), ("shop-b", "라마바 상점")):
        hubs.directory.create(name, slug, now)
    world = Platform(client=TestClient(app), hubs=hubs)
    for slug in ("shop-a", "shop-b"):
        shop_hub = hubs.hub(slug)
        assert shop_hub is not None
        world.keys[slug] = {
            role: create_api_key(shop_hub.db, f"{slug}-{role}", role, shop=slug)
            for role in ("admin", "integration")
        }
    world.operator = create_api_key(hub.db, "operator", "platform")
    world.default_admin = create_api_key(hub.db, "default-admin", "admin")
    local = now.astimezone(ZoneInfo(hub.settings.tz))
    created = (local - timedelta(hours=1)).isoformat()
    past = (local.date() - timedelta(days=3)).isoformat()
    future = (local.date() + timedelta(days=5)).isoformat()
    with world.client:
        for slug, events in (
            ("shop-a", _orders("a", ["ORD-A-1"], past, created)),
            ("shop-b", _orders("b", ["ORD-B-1", "ORD-B-2", "ORD-B-3"], future, created)),
        ):
            res = world.client.post("/v1/events", json=events, headers=auth(world.keys[slug]["integration"]))
            assert res.status_code in (200, 202), res.text
            drain(hubs.hub(slug))
        chat = world.client.post("/s/shop-a/v1/chat/sessions", json={"order_id": "ORD-A-1"})
        assert chat.status_code in (200, 201), chat.text
        yield world
    hubs.close()
    hub.close()


def _by_slug(body: dict[str, object]) -> dict[str, dict[str, object]]:
    shops = body["shops"]
    assert isinstance(shops, list)
    return {s["slug"]: s for s in shops}


def test_the_operator_sees_every_seller_with_its_usage_and_health(platform: Platform) -> None:
    res = platform.client.get("/v1/shops", headers=auth(platform.operator))
    assert res.status_code == 200, res.text
    shops = _by_slug(res.json())
    assert list(shops) == ["default", "shop-a", "shop-b"]
    a, b = shops["shop-a"], shops["shop-b"]
    assert a["name"] == "가나다 상점" and b["name"] == "라마바 상점"
    assert a["created_at"] and b["created_at"]
    assert a["usage"]["events"] == 1 and b["usage"]["events"] == 3  # type: ignore[index]
    assert a["usage"]["chats"] == 1 and b["usage"]["chats"] == 0  # type: ignore[index]
    assert shops["default"]["usage"]["events"] == 0  # type: ignore[index]
    assert a["health"]["late_orders"] == 1 and b["health"]["late_orders"] == 0  # type: ignore[index]
    for shop in (a, b):
        health = shop["health"]
        assert isinstance(health, dict)
        assert health["last_event_at"] is not None
        assert set(health) >= {"open_exceptions", "silent_integrations", "silent_count"}
        assert shop["report"] == f"/v1/shops/{shop['slug']}/report?month={shop['month']}"


def test_the_numbers_are_each_shops_own(platform: Platform) -> None:
    """Same definitions as the rest of the hub, counted again in each shop's database."""
    from deliveryhub.shops.usage import usage_of

    body = platform.client.get("/v1/shops", headers=auth(platform.operator)).json()
    for slug, row in _by_slug(body).items():
        hub = platform.hubs.hub(slug)
        assert hub is not None
        expected = usage_of(hub, hub.clock.now())
        assert {k: row["usage"][k] for k in ("events", "notices", "chats")} == {  # type: ignore[index]
            k: expected[k] for k in ("events", "notices", "chats")
        }
        opened = sum(hub.monitors.open_counts().values()) if hub.monitors else 0
        assert row["health"]["open_exceptions"] == opened  # type: ignore[index]


def test_no_one_but_the_platform_reaches_the_shops_api(platform: Platform) -> None:
    """A shop's admin is routed to its own shop's app, where /v1/shops does not exist: 404 (the same as
    any unknown path, so nothing says the platform API is there). The default shop's admin reaches the
    platform's app but lacks shops:admin: 403. No credentials: 401."""
    for key in platform.keys["shop-a"].values():
        for method, path in (("GET", "/v1/shops"), ("POST", "/v1/shops"), ("GET", "/v1/shops/shop-a/report")):
            res = platform.client.request(method, path, headers=auth(key), json={"name": "x", "slug": "x-y"})
            assert res.status_code == 404, (method, path, res.text)
    assert platform.client.get("/v1/shops", headers=auth(platform.default_admin)).status_code == 403
    assert platform.client.get("/v1/shops").status_code == 401
    # The operator naming a shop is acting inside that shop: the platform routes are not there either.
    named = platform.client.get("/v1/shops", headers=auth(platform.operator, **{"X-Shop": "shop-a"}))
    assert named.status_code == 404


def test_post_creates_a_shop_whose_key_then_works(platform: Platform) -> None:
    res = platform.client.post(
        "/v1/shops", json={"name": "새 판매자", "slug": "shop-new"}, headers=auth(platform.operator)
    )
    assert res.status_code == 201, res.text
    assert res.json()["slug"] == "shop-new" and res.json()["name"] == "새 판매자"
    again = platform.client.post(
        "/v1/shops", json={"name": "또", "slug": "shop-new"}, headers=auth(platform.operator)
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "slug", again.text
    key = platform.client.post(
        "/v1/keys",
        json={"name": "new-system", "role": "integration"},
        headers=auth(platform.operator, **{"X-Shop": "shop-new"}),
    )
    assert key.status_code == 201, key.text
    token = key.json()["key"]
    assert token.startswith("dhk_shop-new.")
    events = _orders("n", ["ORD-N-1"], "2030-01-01", platform.hubs.platform.clock.now().isoformat())
    sent = platform.client.post("/v1/events", json=events, headers=auth(token))
    assert sent.status_code in (200, 202), sent.text
    listed = _by_slug(platform.client.get("/v1/shops", headers=auth(platform.operator)).json())
    assert listed["shop-new"]["usage"]["events"] == 1  # type: ignore[index]
    other = platform.client.get("/v1/orders/ORD-N-1", headers=auth(platform.keys["shop-a"]["admin"]))
    assert other.status_code == 404
    with platform.hubs.platform.db.read() as conn:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.action == "shop.created")).all()
    assert [r.target for r in rows] == ["shop:shop-new"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "나쁜 슬러그", "slug": "Bad Slug!"}, 422, "slug"),
        ({"name": "예약", "slug": "platform"}, 422, "slug"),
        ({"name": "", "slug": "shop-empty"}, 422, "name"),
        ({"name": "슬러그 없음"}, 422, "slug"),
    ],
)
def test_a_bad_shop_is_422_naming_the_field(
    platform: Platform, body: dict[str, str], status: int, field: str
) -> None:
    res = platform.client.post("/v1/shops", json=body, headers=auth(platform.operator))
    assert res.status_code == status, res.text
    assert res.json()["error"]["field"] == field, res.text


def test_a_sellers_monthly_report(platform: Platform) -> None:
    ok = platform.client.get("/v1/shops/shop-b/report", headers=auth(platform.operator))
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["summary"]["orders"] == 3 and body["rows"]
    html = platform.client.get(
        f"/v1/shops/shop-b/report?month={body['month']}&format=html", headers=auth(platform.operator)
    )
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    for path, status in (
        ("/v1/shops/shop-zz/report", 404),
        ("/v1/shops/NOPE/report", 404),
        ("/v1/shops/shop-b/report?month=2026-13", 422),
        ("/v1/shops/shop-b/report?month=december", 422),
    ):
        res = platform.client.get(path, headers=auth(platform.operator))
        assert res.status_code == status, (path, res.text)
