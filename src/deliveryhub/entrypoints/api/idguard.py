"""Ids in URLs obey the one id rule (deliveryhub.contracts.ids): a path segment or an id-like query
parameter carrying NUL, a control character or an invisible format character (RTL override, zero-width
space, BOM) is answered 422 naming the parameter, before any route, database or log sees it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from deliveryhub.contracts.ids import FORBIDDEN_ID_CHARS, ID_ERROR_CODE, ID_FIELDS, id_problem
from deliveryhub.entrypoints.api.errors import ApiError

# Query parameters that carry ids (filters such as ?order_id= or ?sku=); other query text is free text.
ID_QUERY_NAMES = ID_FIELDS | {"session_id", "carrier", "source"}


def _route_paths(routes: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Path templates of routes, through included routers and mounts (best effort, any FastAPI version)."""
    out: list[str] = []
    for route in routes if depth < 8 else ():
        path = getattr(route, "path", None)
        if isinstance(path, str):
            out.append(prefix + path)
        inner = getattr(route, "original_router", None)  # FastAPI's wrapper of an included router
        if inner is not None:
            extra = str(getattr(getattr(route, "include_context", None), "prefix", "") or "")
            out.extend(_route_paths(getattr(inner, "routes", ()), prefix + extra, depth + 1))
        elif isinstance(path, str) and getattr(route, "routes", None):
            out.extend(_route_paths(route.routes, prefix + path, depth + 1))
    return out


def _templates(app: Any) -> list[re.Pattern[str]]:
    """Regexes of the app's path templates, built once per app."""
    state = getattr(app, "state", None)
    cached = getattr(state, "idguard_templates", None)
    if cached is not None:
        return list(cached)
    paths = _route_paths(getattr(app, "routes", ()))
    patterns = []
    for template in dict.fromkeys(paths):
        rx = re.sub(r"\\\{(\w+)(?::path)?\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template))
        patterns.append(re.compile(f"^{rx}$"))
    if state is not None:
        state.idguard_templates = patterns
    return patterns


def _path_param_name(scope: Scope) -> str:
    """The route parameter holding the bad character ('path' when no route template matches)."""
    path = scope.get("path") or ""
    for rx in _templates(scope.get("app")):
        match = rx.match(path)
        if match is None:
            continue
        for name, value in match.groupdict().items():
            if FORBIDDEN_ID_CHARS.search(value):
                return name
    return "path"


class IdGuard:
    """ASGI middleware: 422 `invalid_id` for control/format characters in the path or id query params."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = self._check(scope)
            if error is not None:
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> ApiError | None:
        path = scope.get("path") or ""
        problem = id_problem(path)
        if problem is not None:
            field = _path_param_name(scope)
            return ApiError(422, ID_ERROR_CODE, f"{field}: {problem}", field)
        raw_query = scope.get("query_string") or b""
        if b"%" not in raw_query and not any(b < 0x20 or b == 0x7F for b in raw_query):
            return None  # nothing encoded: no control or format character can hide in it
        for name, value in parse_qsl(
            raw_query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"
        ):
            if name in ID_QUERY_NAMES and (problem := id_problem(value)) is not None:
                return ApiError(422, ID_ERROR_CODE, f"{name}: {problem}", name)
        return None
