"""Login and logout pages, the session-token API, cookie/session authentication, CSRF and request guards."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import audit_log_of, request_ip
from deliveryhub.security.ratelimit import TokenBucket, enforce
from deliveryhub.security.users import (
    IDLE_MINUTES,
    SESSION_HOURS,
    AuthError,
    authenticate,
    create_session,
    revoke_session,
    session_principal,
)

SESSION_COOKIE = "dh_session"
CSRF_COOKIE = "dh_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_MESSAGE = "missing or wrong CSRF token / CSRF 토큰이 없거나 올바르지 않습니다"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def trust_proxy(settings: Any) -> bool:
    """Whether X-Forwarded-For is trusted: only with DELIVERYHUB_TRUST_PROXY, behind your own proxy."""
    return bool(getattr(settings, "trust_proxy", False))


def _trusted_hosts(settings: Any) -> list[Any]:
    raw = str(getattr(settings, "forwarded_allow_ips", "") or "")
    out: list[Any] = []
    for item in (p.strip() for p in raw.split(",")):
        if item == "*":
            out.append("*")
        elif item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                out.append(item)  # a literal peer name (as uvicorn allows), matched exactly
    return out


def _is_trusted(host: str, trusted: list[Any]) -> bool:
    if "*" in trusted:
        return True
    if host in trusted:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in trusted if not isinstance(net, str))


def _settings_of(scope: Scope) -> Any:
    app = scope.get("app")
    hub = getattr(getattr(app, "state", None), "hub", None)
    return getattr(hub, "settings", None)


def scope_ip(scope: Scope, settings: Any = None) -> str:
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


class Guards:
    """The rate limiters of one hub."""

    def __init__(self, settings: Any) -> None:
        login = max(1, int(getattr(settings, "login_rate_limit_per_minute", 20)))
        general = max(1, int(getattr(settings, "rate_limit_per_minute", 600)))
        self.login_ip = TokenBucket(login, burst=login)
        self.login_account = TokenBucket(max(1, login // 2), burst=max(1, login // 2))
        self.chat_ip = TokenBucket(general, burst=max(30, general // 5))
        self.chat_key = TokenBucket(max(1, general // 10), burst=max(10, general // 20))


# ---------------------------------------------------------------------- authentication hooks
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


def make_cookie_auth(hub: Any) -> Any:
    """hub.services['cookie_auth']: the principal of the session cookie, with CSRF checked on writes."""

    def cookie_auth(request: Request) -> Principal | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        principal = session_principal(hub, token)
        if principal is not None and request.method in UNSAFE and not csrf_ok(request):
            raise ApiError(403, "csrf_failed", CSRF_MESSAGE)
        return principal

    return cookie_auth


def make_session_auth(hub: Any) -> Any:
    """hub.services['session_auth']: the principal of a bearer session token."""

    def session_auth(token: str, _request: Request) -> Principal | None:
        return session_principal(hub, token)

    return session_auth


# ---------------------------------------------------------------------- middleware
class SecurityMiddleware:
    """Per-request guards: remembers the client IP for the audit log; rate-limits chat per IP and key."""

    def __init__(self, app: ASGIApp, hub: Any) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ip = scope_ip(scope, self.hub.settings)
        token = request_ip.set(ip)
        try:
            path: str = scope.get("path", "")
            if scope.get("method") == "POST" and path.startswith("/v1/chat/"):
                guards: Guards = self.hub.services["security_guards"]
                try:
                    enforce(guards.chat_ip, ip, "chat")
                    key = _chat_key(scope, path)
                    if key:
                        enforce(guards.chat_key, key, "chat")
                except ApiError as exc:
                    await exc.response()(scope, receive, send)
                    return
            if _wants_page(scope):
                await self.app(scope, receive, _login_redirect(scope, send))
            else:
                await self.app(scope, receive, send)
        finally:
            request_ip.reset(token)


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
            location = "/login?next=" + quote(target, safe="")
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


# ---------------------------------------------------------------------- pages
_ENV = Environment(loader=PackageLoader("deliveryhub.security", "templates"), autoescape=True)
_LOGIN = _ENV.get_template("login.html")
_TEXT = {
    "ko": {
        "title": "로그인",
        "email": "이메일",
        "password": "비밀번호",
        "totp": "인증 코드 (설정한 경우)",
        "submit": "로그인",
        "other": "English",
        "csrf": "보안 토큰이 만료되었습니다. 다시 시도하세요.",
        "out": "로그아웃되었습니다.",
    },
    "en": {
        "title": "Sign in",
        "email": "E-mail",
        "password": "Password",
        "totp": "One-time code (if enabled)",
        "submit": "Sign in",
        "other": "한국어",
        "csrf": "The security token expired; please try again.",
        "out": "You are signed out.",
    },
}


def _lang(value: str | None) -> str:
    return "en" if (value or "").lower().startswith("en") else "ko"


def _safe_next(value: str | None) -> str:
    # Only local paths: an attacker-chosen absolute URL would turn login into an open redirect.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


def _secure(request: Request, hub: Any) -> bool:
    return request.url.scheme == "https" or str(hub.settings.public_url).startswith("https://")


def _login_page(
    request: Request, hub: Any, lang: str, error: str | None = None, status: int = 200, next_: str = "/"
) -> HTMLResponse:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    html = _LOGIN.render(lang=lang, t=_TEXT[lang], error=error, csrf=csrf, next=_safe_next(next_))
    response = HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request, hub), path="/"
    )
    return response


class LoginBody(BaseModel):
    """Credentials for a bearer session token."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=10)


class LoginOut(BaseModel):
    """A bearer session token (shown once)."""

    token: str
    token_type: str = "bearer"
    expires_at: str
    role: str
    idle_timeout_minutes: int


def build_router(hub: Any) -> APIRouter:
    """The login/logout pages and the /v1/auth API."""
    router = APIRouter()
    guards: Guards = hub.services["security_guards"]

    @router.get("/login", include_in_schema=False)
    def login_form(request: Request, lang: str | None = None, next: str | None = None) -> Response:  # noqa: A002
        return _login_page(request, hub, _lang(lang), next_=next or "/")

    @router.post("/login", include_in_schema=False)
    async def login_submit(
        request: Request,
        email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        totp: Annotated[str, Form(max_length=10)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
        lang: Annotated[str, Form(max_length=5)] = "ko",
        next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002
    ) -> Response:
        lg = _lang(lang)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not csrf or not hmac.compare_digest(cookie, csrf):
            return _login_page(request, hub, lg, _TEXT[lg]["csrf"], 403, next)
        ip = client_ip(request)
        try:
            enforce(guards.login_ip, ip, "login")
            enforce(guards.login_account, email.strip().lower(), "login")
        except ApiError as exc:
            return _login_page(request, hub, lg, exc.message, 429, next)
        try:
            user = await run_in_threadpool(authenticate, hub, email, password, totp or None, ip)
        except AuthError as exc:
            return _login_page(request, hub, lg, exc.message, exc.status, next)
        session = await run_in_threadpool(create_session, hub, user, ip, "cookie")
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=_secure(request, hub),
            path="/",
        )
        # A fresh CSRF token per session (login CSRF / fixation).
        response.set_cookie(
            CSRF_COOKIE,
            secrets.token_urlsafe(24),
            httponly=True,
            samesite="strict",
            secure=_secure(request, hub),
            path="/",
        )
        return response

    @router.api_route("/logout", methods=["GET", "POST"], include_in_schema=False)
    async def logout(request: Request, lang: str | None = None) -> Response:
        # The session cookie is SameSite=Strict, so a cross-site link cannot log anyone out.
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            principal = await run_in_threadpool(session_principal, hub, token)
            await run_in_threadpool(revoke_session, hub, token)
            if principal is not None:
                await run_in_threadpool(
                    audit_log_of(hub).record,
                    principal,
                    "user.logout",
                    f"user:{principal.id}",
                    {},
                    client_ip(request),
                )
        response = RedirectResponse(f"/login?lang={_lang(lang)}", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.post(
        "/v1/auth/login",
        summary="Exchange e-mail + password (+ TOTP) for a bearer session token",
        tags=["auth"],
        responses={401: {"description": "wrong credentials"}, 429: {"description": "rate limited"}},
    )
    async def api_login(body: LoginBody, request: Request) -> LoginOut:
        """Session tokens expire after 12 h, or 30 min unused."""
        ip = client_ip(request)
        enforce(guards.login_ip, ip, "login")
        enforce(guards.login_account, body.email.strip().lower(), "login")
        try:
            user = await run_in_threadpool(authenticate, hub, body.email, body.password, body.totp, ip)
        except AuthError as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.field) from None
        session = await run_in_threadpool(create_session, hub, user, ip, "bearer")
        return LoginOut(
            token=session.token,
            expires_at=session.expires_at.isoformat(),
            role=session.role,
            idle_timeout_minutes=IDLE_MINUTES,
        )

    @router.post("/v1/auth/logout", summary="End the bearer session", tags=["auth"])
    async def api_logout(request: Request) -> dict[str, Any]:
        """Revokes the presented session token."""
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token:
            raise ApiError(
                401, "unauthorized", "missing session token", headers={"WWW-Authenticate": "Bearer"}
            )
        principal = await run_in_threadpool(session_principal, hub, token)
        revoked = await run_in_threadpool(revoke_session, hub, token)
        if principal is not None:
            await run_in_threadpool(
                audit_log_of(hub).record,
                principal,
                "user.logout",
                f"user:{principal.id}",
                {"kind": "bearer"},
                client_ip(request),
            )
        return {"revoked": revoked}

    @router.get("/v1/auth/me", summary="Who the presented credentials belong to", tags=["auth"])
    async def me(request: Request) -> dict[str, Any]:
        """Kind, name and role of the caller."""
        from deliveryhub.entrypoints.api.deps import current_principal

        principal = await run_in_threadpool(current_principal, request)
        if principal is None:
            raise ApiError(
                401, "unauthorized", "missing or invalid credentials", headers={"WWW-Authenticate": "Bearer"}
            )
        return {"kind": principal.kind, "id": principal.id, "name": principal.name, "role": principal.role}

    return router
