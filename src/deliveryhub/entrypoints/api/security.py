"""Security at the HTTP edge: client address, session cookie and CSRF, the per-request middleware.

The feature (deliveryhub.security) decides who a token belongs to and who is over a rate limit; this
module reads those answers off requests and turns them into HTTP (cookies, 403, 429 with Retry-After).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from fastapi import Request
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deliveryhub.config import Settings
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.middleware import HttpMiddleware
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import request_ip
from deliveryhub.security.ratelimit import RateLimited

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub
    from deliveryhub.security.wiring import SecurityFeature

SESSION_COOKIE = "dh_session"
CSRF_COOKIE = "dh_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_MESSAGE = "missing or wrong CSRF token / CSRF 토큰이 없거나 올바르지 않습니다"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def rate_limited(exc: RateLimited) -> ApiError:
    """The 429 answer (with Retry-After) for a caller over its limit."""
    return ApiError(429, "rate_limited", exc.message, headers={"Retry-After": str(exc.retry_after)})


# ---------------------------------------------------------------------- client address
def trust_proxy(settings: Settings | None) -> bool:
    """Whether X-Forwarded-For is trusted: only with DELIVERYHUB_TRUST_PROXY, behind your own proxy."""
    return bool(getattr(settings, "trust_proxy", False))


def _trusted_hosts(settings: Settings) -> list[Network | str]:
    raw = str(getattr(settings, "forwarded_allow_ips", "") or "")
    out: list[Network | str] = []
    for item in (p.strip() for p in raw.split(",")):
        if item == "*":
            out.append("*")
        elif item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                out.append(item)  # a literal peer name (as uvicorn allows), matched exactly
    return out


def _is_trusted(host: str, trusted: list[Network | str]) -> bool:
    if "*" in trusted or host in trusted:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in trusted if not isinstance(net, str))


def _settings_of(scope: Scope) -> Settings | None:
    app = scope.get("app")
    hub = getattr(getattr(app, "state", None), "hub", None)
    return getattr(hub, "settings", None)


def scope_ip(scope: Scope, settings: Settings | None = None) -> str:
    """The client address of an ASGI request.

    X-Forwarded-For counts only when the operator trusts a proxy and the direct peer is one of the
    allowed proxies; then the right-most address that is not a trusted proxy is the client (the
    left-most entries are whatever the client wrote)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    settings = settings if settings is not None else _settings_of(scope)
    if settings is None or not trust_proxy(settings):
        return peer
    trusted = _trusted_hosts(settings)
    if not _is_trusted(peer, trusted):
        return peer
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
            for hop in reversed(hops):
                if not _is_trusted(hop, trusted):
                    return hop[:64]
            return (hops[0] if hops else peer)[:64]
    return peer


def client_ip(request: Request) -> str:
    """The client address of a request."""
    return scope_ip(request.scope)


# ---------------------------------------------------------------------- cookie session and CSRF
def _same_origin(request: Request) -> bool:
    host = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            return urlsplit(value).netloc == host
    return False


def csrf_ok(request: Request) -> bool:
    """A state-changing cookie request must carry the CSRF token (header) or come from our own origin."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if cookie and header and hmac.compare_digest(cookie, header):
        return True
    return _same_origin(request)


def cookie_principal(security: SecurityFeature, request: Request) -> Principal | None:
    """The staff member of the session cookie, with CSRF checked on state-changing requests."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    principal = security.session_principal(token)
    if principal is not None and request.method in UNSAFE and not csrf_ok(request):
        raise ApiError(403, "csrf_failed", CSRF_MESSAGE)
    return principal


# ---------------------------------------------------------------------- middleware
class SecurityMiddleware(HttpMiddleware):
    """Per-request guards: remembers the client IP for the audit log; rate-limits chat per IP and key;
    sends a browser without a session from a page to /login."""

    def __init__(self, app: ASGIApp, security: SecurityFeature, settings: Settings) -> None:
        super().__init__(app)
        self.security = security
        self.settings = settings

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ip = scope_ip(scope, self.settings)
        token = request_ip.set(ip)
        try:
            path: str = scope.get("path", "")
            if scope.get("method") == "POST" and path.startswith("/v1/chat/"):
                try:
                    self.security.limits.chat(ip, _chat_key(scope, path))
                except RateLimited as exc:
                    await rate_limited(exc).response()(scope, receive, send)
                    return
            if _wants_page(scope):
                await self.app(scope, receive, _login_redirect(scope, send))
            else:
                await self.app(scope, receive, send)
        finally:
            request_ip.reset(token)


def middleware(hub: Hub) -> Middleware | None:
    """The security middleware of a hub with the security feature (None without it)."""
    if hub.security is None:
        return None
    return Middleware(SecurityMiddleware, security=hub.security, settings=hub.settings)


def _wants_page(scope: Scope) -> bool:
    if scope.get("method") != "GET" or str(scope.get("path", "")).startswith("/v1/"):
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept


def _login_redirect(scope: Scope, send: Send) -> Send:
    """A browser asking for a page without a session is sent to /login (pages use require() like the API)."""
    swallowed = {"on": False}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 401:
            swallowed["on"] = True
            target = scope.get("path", "/") + (
                "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
            )
            base = str(scope.get("root_path") or "")  # a shop's prefix (/s/<slug>), when there is one
            location = base + "/login?next=" + quote(target, safe="")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if swallowed["on"]:
            return
        await send(message)

    return wrapped


def _chat_key(scope: Scope, path: str) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            return "auth:" + hmac.new(b"rl", value, "sha256").hexdigest()
    parts = path.split("/")
    # /v1/chat/sessions/{id}/messages: one customer session
    if len(parts) >= 5 and parts[3] == "sessions" and parts[4]:
        return "session:" + parts[4][:100]
    return None
