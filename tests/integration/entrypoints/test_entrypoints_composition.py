"""The composition root: every port is provided by its feature, every router comes from ROUTER_BUILDERS,
and a hub without features still serves the backbone with null ports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from deliveryhub.bootstrap import Hub
from deliveryhub.entrypoints.api.app import MIDDLEWARE_BUILDERS, ROUTER_BUILDERS, create_app
from deliveryhub.entrypoints.api.routers import shops as shops_api
from deliveryhub.entrypoints.web import shops as shop_pages
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.service_layer.hub import Core
from dh_testkit import make_hub

PORTS = ("ops_alerts", "audit", "exceptions", "notice_facts", "links", "customer_files", "claim_holds")
CORE_FIELDS = {f.name for f in dataclasses.fields(Core)}
# The feature handles; `shops` and `profile` are the platform's (set when a hub serves several shops).
PLATFORM_FIELDS = ("shops", "profile")
HANDLES = tuple(
    f.name for f in dataclasses.fields(Hub) if f.name not in CORE_FIELDS and f.name not in PLATFORM_FIELDS
)


def _null(port: object) -> bool:
    return type(port).__module__ == Core.__module__  # the null objects live in service_layer/hub.py


def _paths(hub: Hub) -> set[str]:
    # FastAPI wraps included routers; iter_route_contexts yields every effective route with its full path.
    return {str(ctx.path) for ctx in iter_route_contexts(create_app(hub, run_worker=False).routes)}


def test_a_wired_hub_has_every_handle_and_every_port_provided(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key, features=True)
    try:
        assert set(HANDLES) == {
        "security",
        "monitors",
        "connectors",
        "notifications",
        "kpi",
        "chat",
        "effects",
        "payments_feature",
        "aftersales",
    }
        assert all(getattr(hub, name) is not None for name in HANDLES)
        assert not [name for name in PORTS if _null(getattr(hub, name))]
        assert hub.security is not None and hub.audit is hub.security.audit
        # Every router but the platform's own (the sellers overview needs the list of shops).
        platform_only = {shops_api.build_router, shop_pages.build_router}
        assert all(build(hub) is not None for build in ROUTER_BUILDERS if build not in platform_only)
        assert hub.shops is None and all(build(hub) is None for build in platform_only)
        assert all(build(hub) is not None for build in MIDDLEWARE_BUILDERS)
        paths = _paths(hub)
        assert {"/healthz", "/login", "/v1/auth/login", "/v1/audit", "/v1/exceptions"} <= paths
    finally:
        hub.close()


def test_a_bare_hub_serves_the_backbone_with_null_ports(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key, features=False)
    try:
        assert all(getattr(hub, name) is None for name in HANDLES)
        assert all(_null(getattr(hub, name)) for name in PORTS)
        assert all(build(hub) is None for build in MIDDLEWARE_BUILDERS)
        paths = _paths(hub)
        assert "/healthz" in paths and "/v1/orders" in paths
        assert "/login" not in paths and "/v1/audit" not in paths and "/v1/exceptions" not in paths
        key = create_api_key(hub.db, "ops", "ops", [], None, hub.clock.now())
        with TestClient(create_app(hub, run_worker=False)) as client:
            # The exceptions port answers "none" without monitors instead of failing on a missing key.
            r = client.get("/v1/orders?exception=delivery_delay", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200 and r.json()["orders"] == []
            assert client.get("/login").status_code == 404
    finally:
        hub.close()


def test_a_rate_limited_login_is_a_429_with_retry_after(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key, features=True, login_rate_limit_per_minute=4)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            body = {"email": "nobody@example.com", "password": "wrong password"}
            statuses = [client.post("/v1/auth/login", json=body).status_code for _ in range(2)]
            r = client.post("/v1/auth/login", json=body)
        assert statuses == [401, 401]
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
    finally:
        hub.close()
