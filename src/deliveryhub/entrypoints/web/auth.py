"""Page authentication: the logged-in user or a redirect to /login (browsers get no 401 JSON)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from deliveryhub.entrypoints.api.deps import current_principal
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.rbac import permits


@dataclass
class PageAuth:
    """Either the principal, or the response to send instead of the page."""

    principal: Principal | None
    response: Response | None = None


def page_require(permission: str) -> Callable[[Request], PageAuth]:
    """Dependency for pages: redirect to /login?next=… without a session, 403 page without the permission."""

    def dependency(request: Request) -> PageAuth:
        principal = current_principal(request)
        if principal is None:
            base = str(request.scope.get("root_path") or "")  # a shop's prefix /s/<slug>, if any
            target = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = f"{base}/login?next={quote(target, safe='')}"
            return PageAuth(None, RedirectResponse(login, status_code=303))
        if not permits(principal, permission):  # the role, and a scoped key's scopes
            lang = "en" if request.query_params.get("lang") == "en" else "ko"
            msg = (
                f"Your role ({principal.role}) may not open this page ({permission})."
                if lang == "en"
                else f"이 화면을 볼 권한이 없습니다 (역할 {principal.role}, 필요 권한 {permission})."
            )
            return PageAuth(
                principal,
                HTMLResponse(
                    f"<!doctype html><meta charset=utf-8><title>403</title>"
                    f"<p>{msg}</p><p><a href='/'>Home</a></p>",
                    status_code=403,
                ),
            )
        return PageAuth(principal)

    dependency.__name__ = f"page_require_{permission.replace(':', '_')}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
