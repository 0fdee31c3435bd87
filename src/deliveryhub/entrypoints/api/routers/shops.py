"""Shops over HTTP (issue 20), the platform's part: every seller with its health and usage this month
(`GET /v1/shops`), a new shop (`POST /v1/shops`) and a seller's monthly report
(`GET /v1/shops/{slug}/report`).

These routes exist only on the platform's own app (the `default` shop's, where `hub.shops` is set by
`create_platform_app`) and need `shops:admin`, which only the platform role holds. A shop's own key is
routed to its shop's app, where the routes do not exist: it gets 404, like any other path it may not know.

Each number reuses the definition the rest of the hub already has:
- usage: `shops.usage.usage_of` (events accepted, notices sent, chats opened this month);
- open exceptions: the monitors' `open_counts` (not resolved);
- late orders: the KPI drill-down's "past the promised date" reason (views/drill.py: an order not yet
  delivered, cancelled or returned whose promised date is before today in the shop's time zone);
- silent integrations: the connectors' silence watch (`silence_status`: live breaches of a source's rule
  during its business hours plus episodes not yet over), and the last event from `source_stats`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.kernel.timefmt import iso
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.tenancy import DEFAULT_SHOP, SLUG_PATTERN
from deliveryhub.shops.directory import Shop, ShopError
from deliveryhub.shops.usage import usage_of
from deliveryhub.views.drill import CLOSED_STAGES

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub
    from deliveryhub.shops.hubs import ShopHubs

router = APIRouter(prefix="/v1/shops", tags=["shops"])


def build_router(hub: Hub) -> APIRouter | None:
    """The platform's shops API (None on a shop's own hub and on a plain one-shop app)."""
    return router if hub.shops is not None else None


# ------------------------------------------------------------------------------------ the numbers
def late_orders(hub: Hub, today: date) -> int:
    """Orders past their promised date and not yet delivered, cancelled or returned (views/drill.py)."""
    o = t.orders.c
    open_order = sa.or_(o.stage.is_(None), o.stage.not_in(CLOSED_STAGES))
    with hub.db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(t.orders)
                .where(open_order, o.promised_date.is_not(None), o.promised_date < today)
            ).scalar_one()
        )


def integrations(hub: Hub, now: datetime) -> dict[str, Any]:
    """The shop's silent sources (the connectors' silence watch) and when any source last sent."""
    from deliveryhub.connectors.health import last_seen
    from deliveryhub.connectors.silence import silence_status

    with hub.db.read() as conn:
        seen = last_seen(conn)
        silent = silence_status(conn, hub.connectors.silence.rules, now) if hub.connectors else []
    last = max(seen.values()) if seen else None
    return {
        "silent": [
            {
                "source": s["source"],
                "silent_since": s.get("silent_since"),
                "last_received_at": s.get("last_received_at"),
            }
            for s in silent
        ],
        "last_event_at": iso(last),
        "sources": {source: iso(at) for source, at in sorted(seen.items())},
    }


def shop_health(hub: Hub, now: datetime) -> dict[str, Any]:
    """Open exceptions (by type), late orders and integration silence of one shop's hub."""
    today = now.astimezone(ZoneInfo(hub.settings.tz)).date()
    by_type = hub.monitors.open_counts() if hub.monitors is not None else {}
    links = integrations(hub, now)
    return {
        "open_exceptions": sum(by_type.values()),
        "open_exceptions_by_type": dict(sorted(by_type.items())),
        "late_orders": late_orders(hub, today),
        "silent_integrations": links["silent"],
        "silent_count": len(links["silent"]),
        "last_event_at": links["last_event_at"],
        "sources": links["sources"],
    }


def month_of(hub: Hub, now: datetime) -> str:
    """This month ('YYYY-MM') in the shop's time zone."""
    local = now.astimezone(ZoneInfo(hub.settings.tz))
    return f"{local.year}-{local.month:02d}"


def shop_dict(shop: Shop) -> dict[str, Any]:
    """A shop as the API shows it (no key material)."""
    return {
        "slug": shop.slug,
        "name": shop.name,
        "status": shop.status,
        "created_at": iso(shop.created_at),
        "brand_color": shop.brand_color,
        "contact": shop.contact,
        "rate_limit_per_minute": shop.rate_limit_per_minute,
    }


def shop_row(shop: Shop, hub: Hub) -> dict[str, Any]:
    """One seller of the overview: who it is, its usage this month and its health now."""
    now = hub.clock.now()
    month = month_of(hub, now)
    return {
        **shop_dict(shop),
        "month": month,
        "usage": usage_of(hub, now),
        "health": shop_health(hub, now),
        "report": f"/v1/shops/{shop.slug}/report?month={month}",
    }


def overview(hubs: ShopHubs) -> dict[str, Any]:
    """Every active shop, `default` first: the same numbers GET /v1/shops and the /platform page show."""
    now = hubs.platform.clock.now()
    rows = [shop_row(shop, hub) for shop, hub in hubs.all()]
    return {"generated_at": iso(now), "month": month_of(hubs.platform, now), "shops": rows}


class ReportError(Exception):
    """A report that cannot be made: `status` 404 (no such shop, no KPIs) or 422 (a bad month)."""

    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def shop_hub(hubs: ShopHubs, slug: str) -> Hub:
    """The active shop's hub; ReportError 404 for an unknown, erased or malformed slug."""
    hub = hubs.hub(slug) if SLUG_PATTERN.match(slug or "") else None
    if hub is None:
        raise ReportError(404, f"no shop {slug!r} / 상점을 찾을 수 없습니다", "slug")
    return hub


def seller_report(hubs: ShopHubs, slug: str, month: str | None) -> dict[str, Any]:
    """The seller's monthly report as data (kpi/report.py `build_report` on that shop's hub)."""
    from deliveryhub.kpi.periods import KpiQueryError
    from deliveryhub.kpi.report import build_report, parse_month

    hub = shop_hub(hubs, slug)
    if hub.kpi is None:
        raise ReportError(404, "KPIs are not enabled on this shop / KPI 기능이 없습니다", "slug")
    month = month or month_of(hub, hub.clock.now())
    try:
        parse_month(month)
    except ValueError:
        raise ReportError(422, f"month: expected YYYY-MM, got {month!r} / YYYY-MM 형식", "month") from None
    try:
        return build_report(hub.kpi.engine, month, hub.settings.tz)
    except KpiQueryError as exc:
        raise ReportError(422, str(exc), exc.field) from None


# ------------------------------------------------------------------------------------ HTTP
def _hubs(request: Request) -> ShopHubs:
    hubs = get_hub(request).shops
    if hubs is None:  # the router is only included on the platform app; defensive
        raise ApiError(404, "not_found", "찾을 수 없습니다 / not found")
    return hubs


class NewShop(BaseModel):
    """A shop to create: its display name and its slug (lowercase, used in URLs and keys)."""

    name: str = Field(max_length=200, description="상점 이름 / display name")
    slug: str = Field(max_length=64, description="영문 소문자 슬러그 / lowercase slug, e.g. seller-2")
    brand_color: str | None = Field(default=None, max_length=16)
    contact: str | None = Field(default=None, max_length=64)


@router.get("", summary="Every seller with its health and usage this month / 판매자 현황")
def list_shops(request: Request, _p: Annotated[Principal, Depends(require("shops:admin"))]) -> dict[str, Any]:
    """{"generated_at","month","shops":[{slug,name,created_at,usage,health,report}]}, `default` first."""
    return overview(_hubs(request))


@router.post("", status_code=201, summary="Create a shop / 상점 만들기 (audited)")
def create_shop(
    request: Request, body: NewShop, principal: Annotated[Principal, Depends(require("shops:admin"))]
) -> dict[str, Any]:
    """A new silo: its own database (migrated now), root key and links; 422/409 name the field at fault."""
    hubs = _hubs(request)
    platform = hubs.platform
    try:
        shop = hubs.directory.create(
            body.name,
            body.slug,
            platform.clock.now(),
            brand_color=body.brand_color,
            contact=body.contact,
        )
    except ShopError as exc:
        code = "conflict" if exc.status == 409 else "invalid_field"
        raise ApiError(exc.status, code, str(exc), exc.field) from None
    hubs.hub(shop.slug)  # builds and migrates its database now, so a problem shows here
    platform.audit.record(
        principal, "shop.created", f"shop:{shop.slug}", {"name": shop.name}, client_ip(request)
    )
    return {
        **shop_dict(shop),
        "next": [
            f"POST /v1/keys with X-Shop: {shop.slug} (role integration) / 연동 키 만들기",
            f"deliveryhub keys create --shop {shop.slug} --name shop-system --role integration",
        ],
    }


class ShopChange(BaseModel):
    """A platform operator's change to a shop: any of its name, brand, contact and API rate limit."""

    model_config = {"extra": "forbid"}

    name: str | None = Field(default=None, min_length=1, max_length=200)
    brand_color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    contact: str | None = Field(default=None, max_length=64)
    rate_limit_per_minute: int | None = Field(
        default=None, ge=10, le=100_000, description="요청 한도(분당) / requests per minute per client"
    )


@router.patch(
    "/{slug}", summary="Change a shop's name, brand, contact or rate limit / 상점 설정 변경 (audited)"
)
def change_shop(
    request: Request,
    slug: str,
    body: ShopChange,
    principal: Annotated[Principal, Depends(require("shops:admin"))],
) -> dict[str, Any]:
    """Applies to the running shop within a few seconds (its hub re-reads the directory)."""
    values = body.model_dump(exclude_none=True)
    if not values:
        raise ApiError(
            422,
            "invalid_field",
            "nothing to change: give name, brand_color, contact or rate_limit_per_minute",
            "body",
        )
    if slug == DEFAULT_SHOP and "rate_limit_per_minute" in values:
        raise ApiError(
            422,
            "invalid_field",
            "the default shop's rate limit is the hub's own (DELIVERYHUB_RATE_LIMIT_PER_MINUTE)",
            "rate_limit_per_minute",
        )
    hubs = _hubs(request)
    before = hubs.directory.get(slug)
    try:
        shop = hubs.directory.update(slug, **values)
    except ShopError as exc:
        code = "not_found" if exc.status == 404 else "invalid_field"
        raise ApiError(exc.status, code, str(exc), exc.field) from None
    changed = {k: {"from": getattr(before, k, None), "to": v} for k, v in values.items()}
    hubs.platform.audit.record(principal, "shop.changed", f"shop:{slug}", changed, client_ip(request))
    return shop_dict(shop)


@router.get(
    "/{slug}/report",
    response_model=None,
    summary="A seller's monthly report / 판매자 월간 리포트",
)
def shop_report(
    request: Request,
    slug: str,
    principal: Annotated[Principal, Depends(require("shops:admin"))],
    month: str | None = None,
    format: str = "json",  # noqa: A002 - the public query parameter name
) -> Response | dict[str, Any]:
    """The report of `month` (default: this month) as JSON, or `format=html` as the printable page."""
    from deliveryhub.kpi.report import render_html

    if format not in ("json", "html"):
        raise ApiError(422, "invalid_field", "format: json or html", "format")
    hubs = _hubs(request)
    try:
        data = seller_report(hubs, slug, month)
    except ReportError as exc:
        code = "not_found" if exc.status == 404 else "invalid_field"
        raise ApiError(exc.status, code, exc.message, exc.field) from None
    # A seller's numbers read by the platform operator: on the platform's audit trail.
    hubs.platform.audit.record(
        principal, "shop.report_read", f"shop:{slug}", {"month": data["month"]}, client_ip(request)
    )
    if format == "html":
        return HTMLResponse(render_html(data), headers={"cache-control": "no-store"})
    return data
