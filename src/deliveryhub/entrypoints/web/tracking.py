"""The customer's tracking page `GET /track/{token}`: what a signed link shows (notifications/tracking.py
builds it) after THE link check (`core.links`, notifications/links.py). A link we recognise but that
is over gets a polite 410 page; anything else 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from deliveryhub.bootstrap import Hub
from deliveryhub.notifications.links import INVALID
from deliveryhub.notifications.tracking import (
    LOGO_TYPES,
    brand_settings,
    gone_context,
    logo_file,
    page_context,
    render_gone,
    render_page,
)

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
NOT_FOUND = (
    "<!doctype html><html lang='ko'><meta charset='utf-8'><title>404</title>"
    "<h1>페이지를 찾을 수 없습니다 / Not found</h1></html>"
)

router = APIRouter(tags=["tracking"])


def build_router(hub: Hub) -> APIRouter | None:
    """The tracking page (None when the notifications feature is not wired)."""
    return router if hub.notifications is not None else None


@router.get(
    "/track/{token}", response_class=HTMLResponse, summary="The customer's tracking page (signed link)"
)
async def track_page(token: str, request: Request, lang: str = "ko") -> HTMLResponse:
    """Stage, timeline and ETA window behind a valid link; 410 for a link that is over; 404 otherwise."""
    hub: Hub = request.app.state.hub
    feature = hub.notifications
    if feature is None:
        return HTMLResponse(NOT_FOUND, status_code=404, headers=NO_STORE)
    chat = hub.chat is not None  # the chat widget is served: the page may link to it
    check = await run_in_threadpool(feature.links.resolve, token)
    ctx = None
    if check.valid and check.order_id:
        shop, color = feature.link_settings.shop_name, feature.link_settings.brand_color
        ctx = await run_in_threadpool(
            page_context, hub, check.order_id, lang, token, chat=chat, shop=shop, color=color
        )
    if ctx is not None:
        return HTMLResponse(render_page(ctx), headers=NO_STORE)
    if check.status != INVALID:
        html = render_gone(gone_context(feature.link_settings, check, lang, chat=chat))
        return HTMLResponse(html, status_code=410, headers=NO_STORE)
    return HTMLResponse(NOT_FOUND, status_code=404, headers=NO_STORE)


@router.get("/static/shop/logo", summary="The shop's logo on the tracking page (DELIVERYHUB_SHOP_LOGO_FILE)")
async def shop_logo() -> Response:
    """The configured logo file, or 404 when none is configured."""
    path = logo_file(brand_settings())
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    media = LOGO_TYPES[path.suffix.lower()]
    return FileResponse(path, media_type=media, headers={"cache-control": "public, max-age=3600"})
