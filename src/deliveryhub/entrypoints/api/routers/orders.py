"""Order read API: detail with timeline, parcels and tracking; filtered list with cursor; the order search;
staff copying an order's current tracking link (audited). Also mounts the order and search pages."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from deliveryhub.contracts.ids import SafeId
from deliveryhub.entrypoints.api.deps import HubDep, get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.entrypoints.web.orders import router as order_pages
from deliveryhub.notifications.tracking import resend_link
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.rbac import PII_VIEW
from deliveryhub.views.orders import (
    BadCursor,
    OrderFilter,
    audit_customer_shown,
    customer_view,
    list_orders,
    order_detail,
    order_exists,
)
from deliveryhub.views.search import search_orders
from deliveryhub.views.story import lateness

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(prefix="/v1", tags=["orders"])
# The one id rule (no control or invisible format characters), answered 422 naming `order_id`.
OrderIdPath = Annotated[SafeId, Path(min_length=1, max_length=128)]


def _detail(hub: Hub, order_id: str, principal: Principal) -> dict[str, Any] | None:
    with hub.db.read() as conn:
        detail = order_detail(conn, order_id)
        if detail is None:
            return None
        zone = ZoneInfo(hub.settings.tz)
        late = lateness(detail, hub.clock.now().astimezone(zone).date(), zone)
        detail["lateness"] = {"state": late["state"], "days_late": late["days_late"]}  # vs the promised date
        level = PII_VIEW.get(principal.role, "none")
        detail["customer"] = customer_view(conn, hub.keyring, detail.pop("customer_id"), level)
        for name, section in hub.order_sections.items():
            detail[name] = section(conn, order_id, principal)
    audit_customer_shown(hub.audit, principal, detail["customer"], level, f"GET /v1/orders/{order_id}")
    return detail


@router.get("/orders/search", summary="Find orders by order no., marketplace no., tracking no. or phone")
async def find_orders(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("orders:read"))],
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Exact matches on the order number (any case), a marketplace's order number, a parcel's tracking
    number (spaces and hyphens ignored) or the customer's phone through the blind index."""

    def run() -> list[dict[str, Any]]:
        with hub.db.read() as conn:
            return search_orders(conn, hub.keyring, q, limit)

    return {"orders": await run_in_threadpool(run)}


def _copy_link(hub: Hub, order_id: str, principal: Principal, ip: str) -> tuple[str, str | None]:
    """(state, url): state ok, missing (no order), closed (links closed) or off (no notifications)."""
    feature = hub.notifications
    if feature is None:
        return "off", None
    with hub.db.write() as conn:
        if not order_exists(conn, order_id):
            return "missing", None
        token = feature.links.issue_in(conn, order_id)
    if token is None:
        return "closed", None
    hub.audit.record(principal, "tracking_link.copied", f"order:{order_id}", {"by": principal.role}, ip)
    return "ok", feature.links.url(token)


@router.post(
    "/orders/{order_id}/tracking-link/copy",
    summary="The order's current tracking link, for staff to give the customer (audited)",
)
async def copy_tracking_link(
    request: Request, order_id: OrderIdPath, principal: Annotated[Principal, Depends(require("orders:act"))]
) -> JSONResponse:
    """A link of the current generation (earlier links keep working); every copy is in the audit log."""
    hub = get_hub(request)
    state, url = await run_in_threadpool(_copy_link, hub, order_id, principal, client_ip(request))
    if state in ("missing", "off"):
        why = f"no order {order_id}" if state == "missing" else "tracking links are off"
        raise ApiError(404, "not_found", why)
    if state == "closed":
        raise ApiError(409, "links_closed", "this order's tracking links are closed (cancelled or erased)")
    return JSONResponse({"order_id": order_id, "url": url}, headers={"Cache-Control": "no-store"})


@router.post(
    "/orders/{order_id}/tracking-link/resend",
    summary="Send the customer their tracking link again: the latest notice, repeated (audited)",
)
async def resend_tracking_link(
    request: Request,
    order_id: OrderIdPath,
    principal: Annotated[Principal, Depends(require("orders:act"))],
    body: Annotated[dict[str, Any] | None, Body(examples=[{"reason": "고객이 링크를 못 찾음"}])] = None,
) -> dict[str, Any]:
    """Queues the order's latest customer notice again as a manual notice; it carries a fresh link. The
    optional `reason` goes into the audit entry."""
    hub = get_hub(request)
    if hub.notifications is None:
        raise ApiError(404, "not_found", "tracking links are off")
    actor = f"{principal.kind}:{principal.id}"
    links = hub.notifications.links
    state, job_id = await run_in_threadpool(resend_link, hub, links, order_id, actor)
    if state == "missing":
        raise ApiError(404, "not_found", f"no order {order_id}")
    if state == "closed":
        raise ApiError(409, "links_closed", "this order's tracking links are closed (cancelled or erased)")
    if state == "nothing":
        raise ApiError(409, "no_notice", "the customer has not been sent any notice for this order yet")
    reason = str((body or {}).get("reason") or "")[:200]
    details = {"job_id": job_id, "by": principal.role, "reason": reason}
    hub.audit.record(principal, "tracking_link.resent", f"order:{order_id}", details, client_ip(request))
    return {"order_id": order_id, "queued": True, "job_id": job_id}


@router.get(
    "/orders/{order_id}",
    summary="One order: stage, lateness, timeline, parcels and tracking, ETA, exceptions, notices, claims",
)
async def get_order(
    order_id: OrderIdPath, hub: HubDep, principal: Annotated[Principal, Depends(require("orders:read"))]
) -> dict[str, Any]:
    """The order as every system reported it."""
    detail = await run_in_threadpool(_detail, hub, order_id, principal)
    if detail is None:
        raise ApiError(404, "not_found", f"no order {order_id}")
    return detail


@router.get("/orders", summary="Orders, newest first, filtered and paginated")
async def get_orders(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("orders:read"))],
    stage: str | None = None,
    exception: str | None = None,
    carrier: Annotated[SafeId | None, Query(max_length=32)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Filter by stage, open exception type, carrier and creation date."""

    def run() -> dict[str, Any]:
        with hub.db.read() as conn:
            ids = hub.exceptions.orders_with_exception(conn, exception) if exception else None
            flt = OrderFilter(stage=stage, carrier=carrier, created=(from_, to), order_ids=ids)
            return list_orders(conn, flt, cursor, limit)

    try:
        return await run_in_threadpool(run)
    except BadCursor:
        raise ApiError(400, "invalid_cursor", "cursor is not valid", "cursor") from None


def build_router(hub: Hub) -> APIRouter:
    """The API router and the order pages (always present: part of the backbone)."""
    both = APIRouter()
    both.include_router(router)
    both.include_router(order_pages)
    return both
