"""The permission matrix, generated from the app's routes: every route either declares a require()
dependency or is public; every route × every role gets exactly the allowed answer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.entrypoints.api.deps import route_permission
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.rbac import PERMISSIONS, PUBLIC_PATHS, PUBLIC_PREFIXES, ROLES
from deliveryhub.security.users import create_session, create_user
from dh_testkit import make_hub


def _permissions(dependant: Any) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        perm = route_permission(dep.call)
        if perm:
            found.add(perm)
        found |= _permissions(dep)
    return found


def _public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import base64
    import secrets

    tmp = tmp_path_factory.mktemp("perm")
    hub = make_hub(tmp, base64.b64encode(secrets.token_bytes(32)).decode())
    create_api_key(hub.db, "sacrificial", "integration")  # id 1: DELETE /v1/keys/1 may revoke it
    keys = {role: create_api_key(hub.db, f"k-{role}", role) for role in ROLES}
    user_id = create_user(hub, "ops-user@example.com", "ops", "a long enough password")

    class U:
        id = user_id
        role = "ops"

    session = create_session(hub, U, "127.0.0.1", "bearer").token
    app = create_app(hub, run_worker=False)
    with TestClient(app) as client:
        yield hub, app, client, keys, session
    hub.close()


def _routes(app: Any) -> list[tuple[str, str, set[str]]]:
    # FastAPI wraps included routers; iter_route_contexts yields every effective route with its full path.
    out = []
    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            continue
        for method in sorted(ctx.methods or ()):
            out.append((method, str(ctx.path), _permissions(ctx.original_route.dependant)))
    return out


def test_every_route_has_exactly_one_rule(world: Any) -> None:
    _, app, _, _, _ = world
    routes = _routes(app)
    assert len(routes) >= 20
    missing = [(m, p) for m, p, perms in routes if not perms and not _public(p)]
    assert missing == [], f"routes without require() that are not public: {missing}"
    several = [(m, p, perms) for m, p, perms in routes if len(perms) > 1]
    assert several == []
    unknown = {perm for _, _, perms in routes for perm in perms} - set(PERMISSIONS)
    assert unknown == set()


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{[^}]+\}", "1", path)
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    response = client.request(method, url, **kwargs)
    if response.status_code in (302, 303, 307) and response.headers["location"].startswith("/login"):
        return 401  # pages answer "no credentials" with a redirect to the login page
    return response.status_code


def test_every_route_times_every_role(world: Any) -> None:
    hub, app, client, keys, session = world
    checked = 0
    # Destructive admin routes last, so they cannot disturb the other checks.
    routes = sorted(_routes(app), key=lambda r: (r[0] == "DELETE" or "rotate" in r[1], r[1]))
    for method, path, perms in routes:
        if not perms:
            continue
        (perm,) = perms
        assert _call(client, method, path, {}) == 401, (method, path)
        assert _call(client, method, path, {"Authorization": "Bearer dhk_not-a-real-key"}) == 401
        for role in ROLES:
            status = _call(client, method, path, {"Authorization": f"Bearer {keys[role]}"})
            if role in PERMISSIONS[perm]:
                assert status not in (401, 403), (method, path, role, status)
            else:
                assert status == 403, (method, path, role, status)
            checked += 1
        # A user session token (role ops) gets the same answer as an ops key.
        status = _call(client, method, path, {"Authorization": f"Bearer {session}"})
        assert (status == 403) == ("ops" not in PERMISSIONS[perm]), (method, path, status)
    assert checked >= 20 * len(ROLES)
