"""The platform's front door: every request goes to the app of exactly one shop.

Which shop:
- a credential (API key or session token, Bearer header or session cookie) names its own shop; the secret
  is then checked in that shop's database only;
- a path prefix `/s/<slug>/…` (every link a shop's hub makes: tracking pages, chat, webhooks), or
  `X-Shop: <slug>` / `?shop=<slug>`, names the shop for anonymous callers and for the platform operator;
- anything else is the `default` shop, so a one-shop hub works exactly as before.

A credential of one shop naming another gets 404, the same answer as a shop that does not exist: nothing
tells a caller whether shop B (or B's order 1001) is there. Only the platform role crosses shops; it is
authenticated in the platform database and handed to the target shop's app as the request's principal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import SESSION_COOKIE, cookie_principal
from deliveryhub.security.apikeys import KEY_PREFIX, Principal, authenticate_key
from deliveryhub.security.tenancy import DEFAULT_SHOP, PLATFORM_ROLE, SLUG_PATTERN, shop_of_token
from deliveryhub.security.users import SESSION_PREFIX

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub
    from deliveryhub.shops.hubs import ShopHubs

_PATH_SHOP = re.compile(r"^/s/([a-z0-9-]{2,32})(/.*)?$")
NOT_FOUND = ApiError(404, "not_found", "찾을 수 없습니다 / not found")


def _credential(scope: Scope) -> tuple[str | None, bool]:
    """The caller's token and whether it came from the session cookie."""
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None, False
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value, True
    return None, False


def _named_shop(scope: Scope) -> str | None:
    headers = dict(scope.get("headers") or [])
    named = headers.get(b"x-shop", b"").decode("latin-1").strip()
    if not named and scope.get("query_string"):
        values = parse_qs(scope["query_string"].decode("latin-1")).get("shop")
        named = values[0].strip() if values else ""
    return named or None


def token_shop(token: str) -> str | None:
    """The shop a presented token names (None when it is no token of ours)."""
    return shop_of_token(token, KEY_PREFIX) or shop_of_token(token, SESSION_PREFIX)


class ShopRouter:
    """ASGI app: resolves the shop of each request and hands it to that shop's app (built on first use)."""

    def __init__(self, hubs: ShopHubs, make_app: Callable[[Hub], ASGIApp]) -> None:
        self.hubs = hubs
        self.make_app = make_app
        self.apps: dict[str, ASGIApp] = {DEFAULT_SHOP: make_app(hubs.platform)}
        self._stack: AsyncExitStack | None = None
        hubs.on_gone.append(self._retire)

    def _retire(self, slug: str) -> None:
        """A shop erased (possibly by another process): stop its in-process worker, drop its app."""
        app = self.apps.pop(slug, None)
        worker = getattr(getattr(app, "state", None), "worker", None)
        if worker is not None:
            worker.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self.apps[DEFAULT_SHOP](scope, receive, send)
            return
        try:
            slug, scope = self._route(scope)
            app = await self._app(slug)
        except ApiError as exc:
            await exc.response()(scope, receive, send)
            return
        await app(scope, receive, send)

    def _route(self, scope: Scope) -> tuple[str, Scope]:
        """The target shop and the scope to hand on (prefix stripped, platform principal attached)."""
        path_shop = None
        match = _PATH_SHOP.match(scope.get("path", ""))
        if match:
            path_shop = match.group(1)
            rest = match.group(2) or "/"
            scope = {**scope, "path": rest, "root_path": scope.get("root_path", "") + f"/s/{path_shop}"}
            scope["raw_path"] = rest.encode()
        named = path_shop or _named_shop(scope)
        if named is not None and not SLUG_PATTERN.match(named):
            raise NOT_FOUND
        token, from_cookie = _credential(scope)
        own = token_shop(token) if token else None
        if own is None:  # anonymous (or not a token of ours: the shop's app answers 401 itself)
            return named or DEFAULT_SHOP, scope
        if named is None or named == own:
            return own, scope
        principal = self._platform_principal(scope, token or "", from_cookie) if own == DEFAULT_SHOP else None
        if principal is None:
            raise NOT_FOUND
        acting = replace(principal, kind=f"platform_{principal.kind}")
        return named, {**scope, "state": {**(scope.get("state") or {}), "principal": acting}}

    def _platform_principal(self, scope: Scope, token: str, from_cookie: bool) -> Principal | None:
        platform = self.hubs.platform
        if from_cookie:
            principal = cookie_principal(platform.security, Request(scope)) if platform.security else None
        else:
            principal = authenticate_key(platform.db, token, platform.clock.now())
            if principal is None and platform.security is not None:
                principal = platform.security.session_principal(token)
        return principal if principal is not None and principal.role == PLATFORM_ROLE else None

    async def _app(self, slug: str) -> ASGIApp:
        hub = self.hubs.hub(slug)
        if hub is None:
            raise NOT_FOUND
        app = self.apps.get(slug)
        if app is None or app.state.hub is not hub:  # type: ignore[attr-defined]
            app = self.make_app(hub)
            if self._stack is not None:
                await self._stack.enter_async_context(_lifespan_of(app))
            self.apps[slug] = app
        return app

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"  # noqa: S101 - the ASGI lifespan protocol
        self._stack = AsyncExitStack()
        try:
            await self._stack.enter_async_context(_lifespan_of(self.apps[DEFAULT_SHOP]))
            for shop in self.hubs.directory.list()[1:]:
                await self._app(shop.slug)
        except Exception as exc:  # noqa: BLE001 - reported to the server, which exits
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await self._stack.aclose()
        self.hubs.close()
        await send({"type": "lifespan.shutdown.complete"})


def _lifespan_of(app: Any) -> Any:
    """The lifespan context of a FastAPI app (starts its in-process worker)."""
    return app.router.lifespan_context(app)
