"""What the customer's tracking page shows, and the link helpers notices and the demo use.

The page itself (`GET /track/{token}`) is served by `entrypoints/web/tracking.py`; it asks THE check
(`TrackingLinkService.resolve`, links.py) and renders what this module builds. A valid link shows
stage, timeline and ETA window and nothing personal beyond the first character of the name, and links
to the chat widget with the same token (`/chat?t=<token>`; the chatbot checks it through the same
`core.links`). A link we recognise but that is over (expired, revoked, cancelled, erased, signed
before a key rotation) gets a polite 410 page saying how to reach the shop, with no order data.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.kernel.configfile import EnvSettings, load_env
from deliveryhub.kernel.labels import label, labels
from deliveryhub.notifications.jobrows import new_job
from deliveryhub.notifications.links import (
    EXPIRED,
    LinkCheck,
    LinkSettings,
    make_token,
    read_token,
    tracking_key,
)
from deliveryhub.notifications.render import _jinja, eta_text
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.views.orders import customer_view, order_detail, order_exists
from deliveryhub.views.story import eta_vs_promise, lateness, local_text, parcel_story

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

__all__ = [
    "LinkCheck",
    "TrackingPageSettings",
    "brand_settings",
    "chat_link",
    "gone_context",
    "logo_file",
    "make_token",
    "page_context",
    "read_token",
    "render_gone",
    "render_page",
    "resend_link",
    "tracking_key",
]


def chat_link(token: str, lang: str) -> str:
    """The chat widget opened with the same signed token (the chatbot checks it with core.links)."""
    return f"/chat?t={quote(token, safe='')}" + ("&lang=en" if lang == "en" else "")


class TrackingPageSettings(EnvSettings):
    """The shop's look on the tracking page (DELIVERYHUB_SHOP_LOGO_FILE, DELIVERYHUB_SHOP_COLOR); the
    shop's name is DELIVERYHUB_SHOP_NAME (notification settings)."""

    shop_logo_file: Path | None = None  # PNG, SVG, JPEG or WebP, served at /static/shop/logo
    shop_color: str = "#1f6feb"


DEFAULT_COLOR = "#1f6feb"
_COLOR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


def brand_settings() -> TrackingPageSettings:
    """The tracking page's branding from the environment (a bad colour falls back to the default)."""
    found = load_env(TrackingPageSettings)
    if not _COLOR.match(found.shop_color.strip()):
        found.shop_color = DEFAULT_COLOR
    return found


def logo_file(brand: TrackingPageSettings) -> Path | None:
    """The configured logo when it is a readable image file of a known type."""
    path = brand.shop_logo_file
    if path is None or path.suffix.lower() not in LOGO_TYPES or not path.is_file():
        return None
    return path


def _day(value: date, lang: str, tz: str) -> str:
    at = datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(tz)).isoformat()
    return eta_text(at, at, lang, tz)


def _status_line(
    detail: dict[str, Any], late: dict[str, Any], eta: str, lang: str, tz: str
) -> tuple[str, str]:
    """(state, sentence) about the promised date: late, at_risk, due_today, on_time, delivered_late or ""."""
    promised = late["promised"]
    if promised is None:
        return "", ""
    when = _day(promised, lang, tz)
    state = late["state"]
    if state == "late":
        text = label("track_page", "late", lang).format(promised=when, days=late["days_late"])
        if eta:
            text += " " + label("track_page", "late_eta", lang).format(eta=eta)
        return "late", text
    if state == "delivered_late":
        return state, label("track_page", "delivered_late", lang).format(days=late["days_late"])
    if state in ("on_track", "due_today"):
        if eta_vs_promise(detail.get("eta"), promised, ZoneInfo(tz)) == "after":
            return "at_risk", label("track_page", "at_risk", lang).format(promised=when, eta=eta)
        if state == "due_today":
            return state, label("track_page", "due_today", lang)
        return "on_time", label("track_page", "on_time", lang).format(promised=when)
    return "", ""


def _late_reason(parcels: list[dict[str, Any]], lang: str) -> str:
    """The reason a carrier gave on its latest scan that names one."""
    latest: tuple[str, str] | None = None
    for p in parcels:
        for scan in p.get("tracking") or []:
            if scan.get("reason") and (latest is None or scan["occurred_at"] > latest[0]):
                latest = (scan["occurred_at"], scan["reason"])
    return label("reason", latest[1], lang) if latest else ""


def page_context(
    core: Core,
    order_id: str,
    lang: str,
    token: str | None = None,
    *,
    chat: bool = False,
    shop: str = "",
    color: str | None = None,
) -> dict[str, Any] | None:
    """Everything the page shows (no personal data beyond the first character of the name).

    With `token` and `chat` (the app serves the chat widget), the page links to it with the same token;
    `shop` is the shop's name, shown with its logo and colour (`brand_settings`)."""
    tz = ZoneInfo(core.settings.tz)
    with core.db.read() as conn:
        detail = order_detail(conn, order_id)
        if detail is None:
            return None
        cust = customer_view(conn, core.keyring, detail.get("customer_id"), "full") or {}
    name = cust.get("name") or ""
    en = lang == "en"
    lang = "en" if en else "ko"
    words = labels("track_page", lang)
    stage = detail.get("stage") or "received"
    eta_window = detail.get("eta") or {}
    eta = (
        eta_text(eta_window.get("eta_min"), eta_window.get("eta_max"), lang, core.settings.tz)
        if eta_window and stage != "delivered"
        else ""
    )
    late = lateness(detail, core.clock.now().astimezone(tz).date(), tz)
    state, status_text = _status_line(detail, late, eta, lang, core.settings.tz)
    reason = _late_reason(detail["parcels"], lang) if state in ("late", "at_risk") else ""
    parcels = [parcel_story(p, lang, tz) for p in detail["parcels"]]
    brand = brand_settings()
    return {
        "lang": lang,
        "w": words,
        "title": words["title"],
        "greeting": (f"{name[:1]}** " if name else "") + words["greeting"],
        "order_label": words["order"],
        "order_id": order_id,
        "stage": stage,
        "stage_label": label("stage", stage, lang),
        "eta_label": words["eta"],
        "eta": eta,
        "promised": _day(late["promised"], lang, core.settings.tz) if late["promised"] else "",
        "state": state,
        "status_text": status_text,
        "reason_text": words["late_reason"].format(reason=reason) if reason else "",
        "timeline_label": words["timeline"],
        "timeline": [
            {
                "stage": s["stage"],
                "label": label("stage", s["stage"], lang),
                "at": local_text(s["occurred_at"], tz),
            }
            for s in detail["timeline"]
        ],
        "parcels": [
            {**p, "carrier": p["carrier_name"], "n": i + 1, "many": len(parcels) > 1}
            for i, p in enumerate(parcels)
        ],
        "parcel_label": words["parcel"],
        "shop": shop,
        "color": color if color and _COLOR.match(color) else brand.shop_color,
        "logo": "/static/shop/logo" if logo_file(brand) else "",
        "chat_href": chat_link(token, lang) if token and chat else "",
        "chat_label": words["chat"],
        "chat_hint": words["chat_hint"],
    }


RESEND_RULE = "resend_link"


def resend_link(core: Core, links: Any, order_id: str, actor: str) -> tuple[str, int | None]:
    """Queue the order's latest customer notice again, as a manual notice (a staff member resends the
    customer's tracking link: every notice carries a fresh one). (state, job id): state ok, missing (no
    order), closed (its links are closed) or nothing (no notice to the customer to repeat yet)."""
    now = core.clock.now()
    with core.db.write() as conn:
        if not order_exists(conn, order_id):
            return "missing", None
        if links.issue_in(conn, order_id) is None:  # TrackingLinkService: cancelled or erased
            return "closed", None
        last = conn.execute(
            sa.select(jobs_t)
            .where(
                jobs_t.c.order_id == order_id,
                jobs_t.c.audience == "customer",
                jobs_t.c.advertising.is_(False),
            )
            .order_by(jobs_t.c.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return "nothing", None
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(jobs_t)
            .where(jobs_t.c.order_id == order_id, jobs_t.c.rule_id == RESEND_RULE)
        ).scalar_one()
        row = new_job(
            idem_key=f"{order_id}|{RESEND_RULE}|{int(count) + 1}"[:300],
            order_id=order_id,
            customer_id=last.customer_id,
            rule_id=RESEND_RULE,
            stage=last.stage,
            template=last.template,
            audience="customer",
            channels=list(last.channels),
            manual=True,
            context={**dict(last.context or {}), "resent_by": actor[:128]},
            trigger_at=now,
            created_at=now,
            scheduled_at=now,
            next_attempt_at=now,
        )
        key = conn.execute(jobs_t.insert().values(**row)).inserted_primary_key
    return "ok", int(key[0]) if key else None


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
