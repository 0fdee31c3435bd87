"""Signed tracking links and the customer's tracking page `/track/{token}`.

token = base64url(order_id) "." base64url(HMAC-SHA256(k, "track:" + order_id))[:22 chars], where
k = hub.keyring.master.derive("tracking links v1"). A changed character anywhere → 404. The page shows
stage, timeline and ETA window, and nothing personal beyond the first character of the name, and links
to the chat widget with the same token (`/chat?t=<token>`): the chatbot accepts it as proof of identity
for that order through the `order_from_link_token` service (see wiring.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from deliveryhub.notifications.render import CARRIERS, STAGE_LABELS, _jinja, eta_text
from deliveryhub.views.orders import customer_view, order_detail

PURPOSE = "tracking links v1"
MAC_CHARS = 22  # 128 bits of the HMAC
MAX_TOKEN = 400  # longer tokens are refused without decoding


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tracking_key(keyring: Any) -> bytes:
    """The tracking-link key derived from the master key."""
    key: bytes = keyring.master.derive(PURPOSE)
    return key


def make_token(key: bytes, order_id: str) -> str:
    """A signed, unguessable token for one order."""
    mac = hmac.new(key, b"track:" + order_id.encode(), hashlib.sha256).digest()
    return f"{_b64(order_id.encode())}.{_b64(mac)[:MAC_CHARS]}"


def read_token(key: bytes, token: str) -> str | None:
    """The order id of a valid token, else None (tampered, truncated, malformed)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not token.isascii():
        return None  # compare_digest raises on non-ASCII text: refuse before decoding anything
    try:
        head, mac = token.split(".", 1)
        order_id = _unb64(head).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not order_id:
        return None
    expected = make_token(key, order_id).split(".", 1)[1]
    return order_id if hmac.compare_digest(expected, mac) else None


def tracking_url(public_url: str, key: bytes, order_id: str) -> str:
    """Absolute link to the tracking page."""
    return f"{public_url.rstrip('/')}/track/{make_token(key, order_id)}"


def chat_link(token: str, lang: str) -> str:
    """The chat widget opened with the same signed token (the customer is verified for this order)."""
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


router = APIRouter(tags=["tracking"])


@router.get(
    "/track/{token}", response_class=HTMLResponse, summary="The customer's tracking page (signed link)"
)
async def track_page(token: str, request: Request, lang: str = "ko") -> HTMLResponse:
    """Stage, timeline and ETA window for the order behind a signed token; 404 otherwise."""
    hub = request.app.state.hub
    order_id = read_token(tracking_key(hub.keyring), token)
    ctx = await run_in_threadpool(page_context, hub, order_id, lang, token) if order_id else None
    if ctx is None:
        body = (
            "<!doctype html><html lang='ko'><meta charset='utf-8'><title>404</title>"
            "<h1>페이지를 찾을 수 없습니다 / Not found</h1></html>"
        )
        return HTMLResponse(body, status_code=404, headers={"Cache-Control": "no-store"})
    html = _jinja().get_template("track.html.j2").render(**ctx)
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
