"""The FastAPI application: middleware, error shape, routers of the backbone and the features."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deliveryhub import __version__
from deliveryhub.bootstrap import Hub
from deliveryhub.entrypoints.api import security as http_security
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.idguard import IdGuard
from deliveryhub.entrypoints.api.middleware import HttpMiddleware
from deliveryhub.entrypoints.api.request_metrics import RequestMetrics
from deliveryhub.entrypoints.api.routers import (
    auth,
    events,
    kpi,
    monitors,
    notifications,
    orders,
    system,
    webhooks,
)
from deliveryhub.entrypoints.api.routers import chat as chat_api
from deliveryhub.entrypoints.api.routers import desk as desk_api
from deliveryhub.entrypoints.api.routers import order_actions as order_actions_api
from deliveryhub.entrypoints.api.routers import outside_actions as outside_actions_api
from deliveryhub.entrypoints.api.routers import payments as payments_api
from deliveryhub.entrypoints.api.routers import returns as returns_api
from deliveryhub.entrypoints.api.routers import security as security_admin
from deliveryhub.entrypoints.api.routers import shop_settings as shop_settings_api
from deliveryhub.entrypoints.api.routers import shops as shops_api
from deliveryhub.entrypoints.api.routers import solapi_reports as solapi_reports_api
from deliveryhub.entrypoints.api.routers import trackerdelivery as trackerdelivery_api
from deliveryhub.entrypoints.api.shop_router import ShopRouter
from deliveryhub.entrypoints.web import chat as chat_pages
from deliveryhub.entrypoints.web import ops as ops_pages
from deliveryhub.entrypoints.web import shop_checklist as shop_checklist_page
from deliveryhub.entrypoints.web import shops as shop_pages
from deliveryhub.entrypoints.web import tracking
from deliveryhub.logs import configure_logging
from deliveryhub.security.ratelimit import RateLimited

log = structlog.get_logger(__name__)

RouterBuilder = Callable[[Hub], APIRouter | None]
MiddlewareBuilder = Callable[[Hub], Middleware | None]

# Every router of the app, in the order it is included. A feature adds its one line here; its builder
# returns None when the feature is not wired on this hub.
ROUTER_BUILDERS: tuple[RouterBuilder, ...] = (
    system.build_router,
    events.build_router,
    orders.build_router,
    auth.build_router,
    security_admin.build_router,
    monitors.build_router,
    notifications.build_router,
    tracking.build_router,
    kpi.build_router,
    webhooks.build_router,
    chat_api.build_router,
    desk_api.build_router,
    chat_pages.build_router,
    shops_api.build_router,
    shop_pages.build_router,
    shop_settings_api.build_router,
    shop_checklist_page.build_router,
    trackerdelivery_api.build_router,
    returns_api.build_router,
    payments_api.build_router,
    order_actions_api.build_router,
    outside_actions_api.build_router,
    ops_pages.build_router,
    solapi_reports_api.build_router,
)

# Feature middleware (security: client IP for the audit log, chat rate limits), innermost first; all of it
# runs inside the id guard, the security headers, the body limit and the catch-all.
MIDDLEWARE_BUILDERS: tuple[MiddlewareBuilder, ...] = (http_security.middleware,)

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class BodyLimit(HttpMiddleware):
    """Answers 413 before reading more than `limit` bytes of a request body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = ApiError(413, "body_too_large", f"request body is larger than {limit} bytes").response().body
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


_DISCONNECT_MESSAGE = "the request body ended before its Content-Length / 요청 본문이 끝까지 오지 않았습니다"


def _log_disconnect(scope: Scope) -> None:
    # One short line: no traceback (its frames hold the request's headers and body), no headers.
    log.warning("client_disconnected", method=scope.get("method"), path=str(scope.get("path", ""))[:200])


class CatchAll(HttpMiddleware):
    """Outermost guard: a client that disconnects mid-body is a clean 400 and one log line; any other
    escaped exception is logged once (plain traceback, no locals, redacted) and answered 500."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except ClientDisconnect:
            _log_disconnect(scope)
            if not started:
                answer = ApiError(400, "client_disconnected", _DISCONNECT_MESSAGE).response()
                await answer(scope, receive, send)
        except Exception:
            log.exception("unhandled_error", path=str(scope.get("path", ""))[:200])
            if not started:
                await ApiError(500, "internal_error", "internal error; it was logged").response()(
                    scope, receive, send
                )


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
}


_HEADER_PAIRS = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders(HttpMiddleware):
    """Adds the security headers to every response that does not set them itself.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware costs a task and
    two memory streams per request, about a tenth of a chat turn's CPU on this box."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = [*_HEADER_PAIRS, _HSTS] if scope.get("scheme") == "https" else _HEADER_PAIRS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(hub: Hub, *, run_worker: bool | None = None) -> FastAPI:
    """Build the app around a hub; with the in-process bus the worker runs inside it by default."""
    if run_worker is None:
        run_worker = hub.settings.bus_url.startswith("inprocess://")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        for hook in hub.on_start:
            hook()
        if run_worker:
            from deliveryhub.entrypoints.worker import Worker

            worker = Worker(hub)
            worker.start_in_thread()
            app.state.worker = worker
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="deliveryhub",
        version=__version__,
        description="E-commerce delivery and customer-service operations hub / 배송·CS 운영 허브",
        lifespan=lifespan,
    )
    app.state.hub = hub
    configure_logging()

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        _log_disconnect(request.scope)
        return ApiError(400, "client_disconnected", _DISCONNECT_MESSAGE).response()

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RateLimited)
    async def _rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
        return http_security.rate_limited(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        message = f"{field}: {err.get('msg', 'invalid value')}" if field else str(err.get("msg", "invalid"))
        return ApiError(422, "invalid_field", message, field or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, code, str(exc.detail)).response()

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # A number too large for the database (e.g. a 30-digit id in the path) is bad input, not a crash.
        return ApiError(422, "out_of_range", "a number in the request is out of range").response()

    @app.exception_handler(sa_exc.StatementError)
    async def _statement_error(request: Request, exc: sa_exc.StatementError) -> JSONResponse:
        if isinstance(exc.orig, OverflowError) or isinstance(exc, sa_exc.DataError):
            return ApiError(422, "out_of_range", "a value in the request is out of range").response()
        log.exception("database_error", path=request.url.path)
        return ApiError(500, "internal_error", "internal error; it was logged").response()

    for build in ROUTER_BUILDERS:
        built = build(hub)
        if built is not None:
            app.include_router(built)
    for build_middleware in MIDDLEWARE_BUILDERS:
        built_middleware = build_middleware(hub)
        if built_middleware is not None:
            app.add_middleware(built_middleware.cls, *built_middleware.args, **built_middleware.kwargs)
    app.add_middleware(IdGuard)  # type: ignore[arg-type]  # ids in URLs: no control/format characters
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, limit=hub.settings.max_body_bytes)  # type: ignore[arg-type]
    app.add_middleware(RequestMetrics, metrics=hub.metrics)  # type: ignore[arg-type]
    app.add_middleware(CatchAll)  # type: ignore[arg-type]
    return app


def create_platform_app(hub: Hub, *, run_worker: bool | None = None) -> ShopRouter:
    """The app of a whole platform: `hub` is the `default` shop's (and holds the list of shops); each
    request goes to the app of its shop (see shop_router.py), every shop's worker runs in-process."""
    from deliveryhub.shops.hubs import ShopHubs

    hubs = ShopHubs(hub)
    hub.shops = hubs
    return ShopRouter(hubs, lambda shop_hub: create_app(shop_hub, run_worker=run_worker))
