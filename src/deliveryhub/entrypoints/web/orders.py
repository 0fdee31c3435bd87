"""Ops pages of one order: `/orders/{id}` (the whole story: exceptions, ETA vs promise, scans, notices,
tickets, claims, the customer's tracking link) and `/search?q=` (the header's order search)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from deliveryhub.entrypoints.api.deps import get_hub
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import lang_of
from deliveryhub.entrypoints.web.pages import render
from deliveryhub.kernel.labels import label, labels
from deliveryhub.kernel.timefmt import format_date
from deliveryhub.monitors.read import list_compensations
from deliveryhub.security.rbac import permits
from deliveryhub.views.order_page import order_page_context
from deliveryhub.views.orders import order_detail
from deliveryhub.views.search import clean_query, search_orders
from deliveryhub.views.story import local_text

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(include_in_schema=False)


def _page_data(hub: Hub, order_id: str, principal: Any, lang: str) -> dict[str, Any] | None:
    from deliveryhub.notifications.render import eta_text

    with hub.db.read() as conn:
        detail = order_detail(conn, order_id)
        if detail is None:
            return None
        for name, section in hub.order_sections.items():
            detail[name] = section(conn, order_id, principal)
    if hub.monitors is not None:
        detail["compensations"] = list_compensations(hub.db, order_id=order_id)["items"]
    zone = ZoneInfo(hub.settings.tz)
    eta = detail.get("eta") or {}
    eta_words = eta_text(eta.get("eta_min"), eta.get("eta_max"), lang, hub.settings.tz) if eta else ""
    today = hub.clock.now().astimezone(zone).date()
    return order_page_context(detail, lang, zone, today, eta_words)


@router.get("/orders/{order_id}")
async def order_page(
    request: Request, order_id: str, auth: Annotated[PageAuth, Depends(page_require("orders:read"))]
) -> Response:
    """One order's whole story for the operator (no personal data on this page)."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    story = await run_in_threadpool(_page_data, hub, order_id, auth.principal, lang)
    can_link = hub.notifications is not None and permits(auth.principal, "orders:act")
    resp = render(
        request,
        "order.html",
        auth,
        order=story,
        order_id=order_id,
        can_link=can_link,
        L=labels("order_page", lang),
    )
    resp.status_code = 200 if story else 404
    return resp


@router.get("/search")
async def search_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("orders:read"))], q: str = ""
) -> Response:
    """The header's order search: one match opens the order page, several are listed."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)

    def run() -> list[dict[str, Any]]:
        with hub.db.read() as conn:
            return search_orders(conn, hub.keyring, q)

    found = await run_in_threadpool(run)
    suffix = "?lang=en" if lang == "en" else ""
    if len(found) == 1:
        return RedirectResponse(f"/orders/{quote(found[0]['order_id'], safe='')}{suffix}", status_code=303)
    zone = ZoneInfo(hub.settings.tz)
    rows = [
        {
            "order_id": r["order_id"],
            "href": f"/orders/{quote(r['order_id'], safe='')}{suffix}",
            "matched": label("order_page", f"match_{r['matched']}", lang),
            "stage": label("stage", r["stage"], lang) if r["stage"] else "—",
            "channel": label("channel", r["channel"], lang) if r["channel"] else "—",
            "created_at": local_text(r["created_at"], zone) or "—",
            "promised": format_date(r["promised_delivery_date"], lang),
        }
        for r in found
    ]
    return render(request, "search.html", auth, q=clean_query(q), rows=rows, L=labels("order_page", lang))
