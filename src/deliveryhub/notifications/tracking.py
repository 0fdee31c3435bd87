"""What the customer's tracking page shows, and the link helpers notices and the demo use.

The page itself (`GET /track/{token}`) is served by `entrypoints/web/tracking.py`; it asks THE check
(`TrackingLinkService.resolve`, links.py) and renders what this module builds. A valid link shows
stage, timeline and ETA window and nothing personal beyond the first character of the name, and links
to the chat widget with the same token (`/chat?t=<token>`; the chatbot checks it through the same
`core.links`). A link we recognise but that is over (expired, revoked, cancelled, erased, signed
before a key rotation) gets a polite 410 page saying how to reach the shop, with no order data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from deliveryhub.kernel.labels import label
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.notifications.links import (
    EXPIRED,
    LinkCheck,
    LinkSettings,
    make_token,
    read_token,
    tracking_key,
)
from deliveryhub.notifications.render import _jinja, carrier_name, eta_text
from deliveryhub.views.orders import customer_view, order_detail

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

__all__ = [
    "LinkCheck",
    "chat_link",
    "gone_context",
    "make_token",
    "page_context",
    "read_token",
    "render_gone",
    "render_page",
    "tracking_key",
]


def chat_link(token: str, lang: str) -> str:
    """The chat widget opened with the same signed token (the chatbot checks it with core.links)."""
    return f"/chat?t={quote(token, safe='')}" + ("&lang=en" if lang == "en" else "")


def page_context(
    core: Core, order_id: str, lang: str, token: str | None = None, *, chat: bool = False
) -> dict[str, Any] | None:
    """Everything the page shows (no personal data beyond the first character of the name).

    With `token` and `chat` (the app serves the chat widget), the page links to it with the same token."""
    tz = ZoneInfo(core.settings.tz)
    with core.db.read() as conn:
        detail = order_detail(conn, order_id)
        if detail is None:
            return None
        cust = customer_view(conn, core.keyring, detail.get("customer_id"), "full") or {}
    name = cust.get("name") or ""
    en = lang == "en"
    lang = "en" if en else "ko"
    stage = detail.get("stage") or "received"

    def local(iso: str | None) -> str:
        at = parse_datetime(iso)
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at is not None else ""

    eta = detail.get("eta") or {}
    parcels = [
        {"carrier": carrier_name(p.get("carrier"), lang), "tracking_no": p.get("tracking_no")}
        for p in detail["parcels"]
    ]
    return {
        "lang": lang,
        "title": "Delivery tracking" if en else "배송 조회",
        "greeting": (f"{name[:1]}** " if name else "") + ("" if en else "님의 주문"),
        "order_label": "Order" if en else "주문번호",
        "order_id": order_id,
        "stage": stage,
        "stage_label": label("stage", stage, lang),
        "eta_label": "Expected delivery" if en else "도착 예정",
        "eta": eta_text(eta.get("eta_min"), eta.get("eta_max"), lang, core.settings.tz)
        if stage != "delivered"
        else "",
        "timeline_label": "Timeline" if en else "진행 내역",
        "timeline": [
            {"stage": s["stage"], "label": label("stage", s["stage"], lang), "at": local(s["occurred_at"])}
            for s in detail["timeline"]
        ],
        "parcels": parcels,
        "parcel_label": "Carrier / tracking no." if en else "택배사 / 송장번호",
        "chat_href": chat_link(token, lang) if token and chat else "",
        "chat_label": "Chat with us" if en else "챗봇 상담하기",
        "chat_hint": "Ask about this order right away, no order number needed."
        if en
        else "주문번호 입력 없이 이 주문에 대해 바로 물어보실 수 있어요.",
    }


def gone_context(
    settings: LinkSettings, check: LinkCheck, lang: str, *, chat: bool = False
) -> dict[str, Any]:
    """The 410 page: the link is over and how to reach the shop; never anything about the order."""
    return {
        "lang": "en" if lang == "en" else "ko",
        "expired": check.status == EXPIRED,
        "shop": settings.shop_name,
        "contact": settings.shop_contact,
        "chat_href": ("/chat?lang=en" if lang == "en" else "/chat") if chat else "",
    }


def render_page(context: dict[str, Any]) -> str:
    """HTML of the tracking page."""
    return _jinja().get_template("track.html.j2").render(**context)


def render_gone(context: dict[str, Any]) -> str:
    """HTML of the page for a link that is over."""
    return _jinja().get_template("track_gone.html.j2").render(**context)
