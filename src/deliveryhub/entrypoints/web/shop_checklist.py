"""The page `/shop/checklist`: a shop's onboarding checklist (shops/checklist.py), Korean first, English
with ?lang=en; the same data as `GET /v1/shop/checklist`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from deliveryhub.entrypoints.api.deps import get_hub
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import lang_of
from deliveryhub.entrypoints.web.pages import render
from deliveryhub.kernel.labels import labels
from deliveryhub.shops.checklist import as_json, checklist
from deliveryhub.shops.profile import shop_settings_view

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(include_in_schema=False)


def build_router(hub: Hub) -> APIRouter | None:
    """The checklist page (every hub: each shop's app shows its own)."""
    return router


def _context(hub: Hub, lang: str) -> dict[str, Any]:
    data = as_json(checklist(hub), hub.settings.shop_slug, hub.settings.tz)
    items = [
        {
            "key": i["key"],
            "done": i["done"],
            "title": i["title"][lang],
            "summary": i["summary"][lang],
            "next": i["next"][lang] if i["next"] else None,
            "command": i["command"],
        }
        for i in data["items"]
    ]
    return {"shop": shop_settings_view(hub), "items": items, "done": data["done"], "total": data["total"]}


@router.get("/shop/checklist")
async def checklist_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("integrations:read"))]
) -> Response:
    """What a new shop still has to do before its notices and tracking run on their own."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    ctx = await run_in_threadpool(_context, hub, lang)
    return render(request, "shop_checklist.html", auth, L=labels("shop_page", lang), **ctx)
