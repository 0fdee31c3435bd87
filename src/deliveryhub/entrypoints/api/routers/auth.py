"""Login and logout pages and the /v1/auth session-token API."""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader
from pydantic import BaseModel, Field

from deliveryhub.entrypoints.api.deps import current_principal
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import CSRF_COOKIE, SESSION_COOKIE, client_ip, rate_limited
from deliveryhub.security.ratelimit import RateLimited
from deliveryhub.security.users import (
    IDLE_MINUTES,
    SESSION_HOURS,
    AuthError,
    authenticate,
    create_session,
    revoke_session,
    session_principal,
)

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

_ENV = Environment(loader=PackageLoader("deliveryhub.entrypoints.web", "templates"), autoescape=True)
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


def _secure(request: Request, hub: Hub) -> bool:
    return request.url.scheme == "https" or str(hub.settings.public_url).startswith("https://")


def _login_page(
    request: Request, hub: Hub, lang: str, error: str | None = None, status: int = 200, next_: str = "/"
) -> HTMLResponse:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    # A shop's login page (/s/<slug>/login) posts back under the same prefix, to that shop's accounts.
    base = str(request.scope.get("root_path") or "")
    html = _LOGIN.render(lang=lang, t=_TEXT[lang], error=error, csrf=csrf, next=_safe_next(next_), base=base)
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


def build_router(hub: Hub) -> APIRouter | None:
    """The login/logout pages and the /v1/auth API (None without the security feature)."""
    if hub.security is None:
        return None
    security = hub.security
    router = APIRouter()

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
            security.limits.login(ip, email)
        except RateLimited as exc:
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

    async def end_session(token: str, request: Request, details: dict[str, Any]) -> bool:
        """Revoke a session token and audit the logout of whoever held it; whether it was live."""
        principal = await run_in_threadpool(session_principal, hub, token)
        revoked = await run_in_threadpool(revoke_session, hub, token)
        if principal is not None:
            await run_in_threadpool(
                security.audit.record,
                principal,
                "user.logout",
                f"user:{principal.id}",
                details,
                client_ip(request),
            )
        return revoked

    @router.api_route("/logout", methods=["GET", "POST"], include_in_schema=False)
    async def logout(request: Request, lang: str | None = None) -> Response:
        # The session cookie is SameSite=Strict, so a cross-site link cannot log anyone out.
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await end_session(token, request, {})
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
        try:
            security.limits.login(ip, body.email)
        except RateLimited as exc:
            raise rate_limited(exc) from None
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
        return {"revoked": await end_session(token, request, {"kind": "bearer"})}

    @router.get("/v1/auth/me", summary="Who the presented credentials belong to", tags=["auth"])
    async def me(request: Request) -> dict[str, Any]:
        """Kind, name and role of the caller."""
        principal = await run_in_threadpool(current_principal, request)
        if principal is None:
            raise ApiError(
                401, "unauthorized", "missing or invalid credentials", headers={"WWW-Authenticate": "Bearer"}
            )
        return {"kind": principal.kind, "id": principal.id, "name": principal.name, "role": principal.role}

    return router
