"""Request dependencies: the hub, the caller, and the permission a route requires."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import cookie_principal
from deliveryhub.security.apikeys import Principal, authenticate_key
from deliveryhub.security.rbac import allowed, permits

if TYPE_CHECKING:
    # Only for types: importing bootstrap here would import every feature from the request layer.
    from deliveryhub.bootstrap import Hub


def get_hub(request: Request) -> Hub:
    """The hub the app was built with."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated["Hub", Depends(get_hub)]


def current_principal(request: Request) -> Principal | None:
    """The caller from a Bearer token (API key or session token) or the session cookie."""
    hub: Hub = request.app.state.hub
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("authorization", "")
    token = None
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    principal = None
    if token:
        principal = authenticate_key(hub.db, token, hub.clock.now())
        if principal is None and hub.security is not None:
            principal = hub.security.session_principal(token)
    elif hub.security is not None:
        principal = cookie_principal(hub.security, request)
    request.state.principal = principal
    return principal


def require(
    permission: str, public_when: Callable[[Hub], bool] | None = None
) -> Callable[..., Principal | None]:
    """Dependency: 401 without credentials, 403 when the role (or a key's scopes) lacks `permission`.

    `public_when(hub)` true lets anyone in (e.g. /metrics with DELIVERYHUB_METRICS_PUBLIC=true)."""

    def dependency(request: Request) -> Principal | None:
        if public_when is not None and public_when(request.app.state.hub):
            return current_principal(request)
        principal = current_principal(request)
        if principal is None:
            raise ApiError(
                401, "unauthorized", "missing or invalid credentials", headers={"WWW-Authenticate": "Bearer"}
            )
        if not allowed(principal.role, permission):
            raise ApiError(403, "forbidden", f"role {principal.role} may not {permission}")
        if not permits(principal, permission):
            raise ApiError(
                403,
                "forbidden",
                f"이 API 키의 범위(scopes)에 {permission} 권한이 없습니다 / "
                f"this API key's scopes do not include {permission}",
            )
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def route_permission(dep: Any) -> str | None:
    """The permission a dependency enforces (for the permission-matrix test)."""
    return getattr(dep, "permission", None)
