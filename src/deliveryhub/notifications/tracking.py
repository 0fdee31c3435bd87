"""The customer's tracking page `/track/{token}` and the link helpers notices use.

Tokens, their life (expiry, revocation, key rotation) and THE check are in `links.py`; this page only
asks `resolve_link`. A valid link shows stage, timeline and ETA window and nothing personal beyond the
first character of the name, and links to the chat widget with the same token (`/chat?t=<token>`; the
chatbot checks it through the same `resolve_link`, service `order_from_link_token`). A link we
recognise but that is over (expired, revoked, cancelled, erased, signed before a key rotation) gets a
polite 410 page saying how to reach the shop, with no order data; anything else gets 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from deliveryhub.notifications.links import (
    EXPIRED,
    INVALID,
    LinkCheck,
    make_token,
    read_token,
    resolve_link,
    tracking_key,
)
from deliveryhub.notifications.render import CARRIERS, STAGE_LABELS, _jinja, eta_text
from deliveryhub.views.orders import customer_view, order_detail

__all__ = ["LinkCheck", "make_token", "read_token", "resolve_link", "router", "tracking_key", "tracking_url"]

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def tracking_url(public_url: str, key: bytes, order_id: str) -> str:
    """Absolute link for an order's first generation, issued now (the demo; notices use issue_link)."""
    return f"{public_url.rstrip('/')}/track/{make_token(key, order_id)}"


def chat_link(token: str, lang: str) -> str:
    """The chat widget opened with the same signed token (the chatbot checks it with resolve_link)."""
    return f"/chat?t={quote(token, safe='')}" + ("&lang=en" if lang == "en" else "")


def page_context(hub: Any, order_id: str, lang: str, token: str | None = None) -> dict[str, Any] | None:
    """Everything the page shows (no personal data beyond the first character of the name).

    With `token` and the chatbot wired, the page links to the chat widget with the same token."""
    tz = ZoneInfo(hub.settings.tz)
    with hub.db.read() as conn:
        detail = order_detail(conn, order_id)
        if detail is None:
            return None
        cust = customer_view(conn, hub.keyring, detail.get("customer_id"), "full") or {}
    name = cust.get("name") or ""
    en = lang == "en"
    stage = detail.get("stage") or "received"

    def label(s: str) -> str:
        pair = STAGE_LABELS.get(s, (s, s))
        return pair[1] if en else pair[0]

    def local(iso: str | None) -> str:
        if not iso:
            return ""
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")

    eta = detail.get("eta") or {}
    parcels = []
    for p in detail["parcels"]:
        names = CARRIERS.get(str(p.get("carrier")))
        carrier = (names[1] if en else names[0]) if names else p.get("carrier")
        parcels.append({"carrier": carrier or "", "tracking_no": p.get("tracking_no")})
    return {
        "lang": "en" if en else "ko",
        "title": "Delivery tracking" if en else "배송 조회",
        "greeting": (f"{name[:1]}** " if name else "") + ("" if en else "님의 주문"),
        "order_label": "Order" if en else "주문번호",
        "order_id": order_id,
        "stage": stage,
        "stage_label": label(stage),
        "eta_label": "Expected delivery" if en else "도착 예정",
        "eta": eta_text(eta.get("eta_min"), eta.get("eta_max"), "en" if en else "ko", hub.settings.tz)
        if stage != "delivered"
        else "",
        "timeline_label": "Timeline" if en else "진행 내역",
        "timeline": [
            {"stage": s["stage"], "label": label(s["stage"]), "at": local(s["occurred_at"])}
            for s in detail["timeline"]
        ],
        "parcels": parcels,
        "parcel_label": "Carrier / tracking no." if en else "택배사 / 송장번호",
        "chat_href": chat_link(token, "en" if en else "ko") if token and "chat" in hub.services else "",
        "chat_label": "Chat with us" if en else "챗봇 상담하기",
        "chat_hint": "Ask about this order right away, no order number needed."
        if en
        else "주문번호 입력 없이 이 주문에 대해 바로 물어보실 수 있어요.",
    }


def gone_context(hub: Any, check: LinkCheck, lang: str) -> dict[str, Any]:
    """The 410 page: the link is over and how to reach the shop; never anything about the order."""
    cfg = hub.services.get("tracking_links") or {}
    shop = str(cfg.get("shop_name") or "")
    contact = str(cfg.get("shop_contact") or "")
    return {
        "lang": "en" if lang == "en" else "ko",
        "expired": check.status == EXPIRED,
        "shop": shop,
        "contact": contact,
        "chat_href": ("/chat?lang=en" if lang == "en" else "/chat") if "chat" in hub.services else "",
    }


router = APIRouter(tags=["tracking"])


@router.get(
    "/track/{token}", response_class=HTMLResponse, summary="The customer's tracking page (signed link)"
)
async def track_page(token: str, request: Request, lang: str = "ko") -> HTMLResponse:
    """Stage, timeline and ETA window behind a valid link; 410 for a link that is over; 404 otherwise."""
    hub = request.app.state.hub
    check = await run_in_threadpool(resolve_link, hub, token)
    ctx = None
    if check.valid and check.order_id:
        ctx = await run_in_threadpool(page_context, hub, check.order_id, lang, token)
    if ctx is not None:
        html = _jinja().get_template("track.html.j2").render(**ctx)
        return HTMLResponse(html, headers=NO_STORE)
    if check.status != INVALID:
        html = _jinja().get_template("track_gone.html.j2").render(**gone_context(hub, check, lang))
        return HTMLResponse(html, status_code=410, headers=NO_STORE)
    body = (
        "<!doctype html><html lang='ko'><meta charset='utf-8'><title>404</title>"
        "<h1>페이지를 찾을 수 없습니다 / Not found</h1></html>"
    )
    return HTMLResponse(body, status_code=404, headers=NO_STORE)
