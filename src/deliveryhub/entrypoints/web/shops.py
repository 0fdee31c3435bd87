"""The platform operator's pages (issue 20): `/platform`, every seller at a glance (who is late, whose
integrations are silent, open exceptions, usage this month), and `/platform/{slug}/report`, a seller's
monthly report. Only on the platform's own app; permission `shops:admin`.

The numbers are `routers/shops.py overview()`, the very function behind `GET /v1/shops`, so the page and
the API cannot disagree. Words come from the label table (kernel/labels.py: roles, sources, exception
types) and this page's own Korean-first table below; no stored code is ever shown as is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from deliveryhub.entrypoints.api.deps import get_hub
from deliveryhub.entrypoints.api.routers.shops import ReportError, overview, seller_report
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import lang_of
from deliveryhub.entrypoints.web.pages import render
from deliveryhub.kernel.labels import label, labels
from deliveryhub.kernel.timefmt import format_date, format_month, parse_datetime
from deliveryhub.views.story import local_text

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(include_in_schema=False)


def words(lang: str) -> dict[str, str]:
    """This page's words in `lang` (the label table's `platform_page` kind)."""
    return labels("platform_page", lang)


def build_router(hub: Hub) -> APIRouter | None:
    """The platform pages (None on a shop's own hub and on a plain one-shop app)."""
    return router if hub.shops is not None else None


def _previous(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def _row(shop: dict[str, Any], lang: str, zone: ZoneInfo, w: dict[str, str]) -> dict[str, Any]:
    """One seller's line of the table: numbers as the API gives them, words in `lang`."""
    health, usage = shop["health"], shop["usage"]
    month = shop["month"]
    suffix = "&lang=en" if lang == "en" else ""
    base = f"/platform/{quote(shop['slug'])}/report?month="
    silent = [label("source", s["source"], lang) for s in health["silent_integrations"]]
    created = parse_datetime(shop["created_at"])
    return {
        "slug": shop["slug"],
        "name": shop["name"],
        "created": format_date(created.astimezone(zone), lang) if created else "—",
        "late": health["late_orders"],
        "open_exceptions": health["open_exceptions"],
        "exceptions_title": ", ".join(
            f"{label('exception', k, lang)} {n}" for k, n in health["open_exceptions_by_type"].items()
        ),
        "silent": silent,
        "silent_count": health["silent_count"],
        "last_event": local_text(health["last_event_at"], zone) or w["no_events"],
        "events": usage["events"],
        "notices": usage["notices"],
        "chats": usage["chats"],
        "report_this": base + month + suffix,
        "report_last": base + _previous(month) + suffix,
    }


@router.get("/platform")
async def platform_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("shops:admin"))]
) -> Response:
    """Every seller at a glance, each linking to its monthly report."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    assert hub.shops is not None  # noqa: S101 - the router is only included with the shops
    lang = lang_of(request)
    data = await run_in_threadpool(overview, hub.shops)
    zone = ZoneInfo(hub.settings.tz)
    w = words(lang)
    rows = [_row(s, lang, zone, w) for s in data["shops"]]
    summary = {
        "sellers": w["sellers_n"].format(n=len(rows)),
        "late": w["late_sellers"].format(n=sum(1 for r in rows if r["late"])),
        "silent": w["silent_sellers"].format(n=sum(1 for r in rows if r["silent_count"])),
    }
    return render(
        request,
        "platform.html",
        auth,
        W=w,
        rows=rows,
        summary=summary,
        month_text=format_month(data["month"], lang),
        updated=local_text(data["generated_at"], zone),
    )


@router.get("/platform/{slug}/report")
async def platform_report(
    request: Request,
    slug: str,
    auth: Annotated[PageAuth, Depends(page_require("shops:admin"))],
    month: str | None = None,
) -> Response:
    """A seller's monthly report (kpi/report.py), the same page `deliveryhub kpi report` writes."""
    from deliveryhub.kpi.report import render_html

    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    assert hub.shops is not None  # noqa: S101 - the router is only included with the shops
    w = words(lang_of(request))
    try:
        data = await run_in_threadpool(seller_report, hub.shops, slug, month)
    except ReportError as exc:
        text = w["not_found"] if exc.status == 404 else w["bad_month"]
        back = "/platform" + ("?lang=en" if lang_of(request) == "en" else "")
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>{exc.status}</title>"
            f"<p>{text}</p><p><a href='{back}'>{w['back']}</a></p>",
            status_code=exc.status,
        )
    # A seller's numbers read by the platform operator: on the platform's audit trail (as the API does).
    await run_in_threadpool(
        hub.audit.record, auth.principal, "shop.report_read", f"shop:{slug}", {"month": data["month"]}
    )
    return HTMLResponse(render_html(data), headers={"cache-control": "no-store"})
