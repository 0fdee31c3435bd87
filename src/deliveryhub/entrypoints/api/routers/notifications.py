"""Notification API: list notices, dead letters and their replay, customer preferences, and staff
revocation / reissue of an order's tracking links (audited). The notifications feature does the work
(notifications/admin.py, preferences.py); this module only speaks HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from deliveryhub.bootstrap import Hub
from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.notifications import admin
from deliveryhub.notifications.preferences import PreferenceError
from deliveryhub.notifications.wiring import NotificationsFeature
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import audit_log_of

router = APIRouter(prefix="/v1", tags=["notifications"])


def build_router(hub: Hub) -> APIRouter | None:
    """The notification routes (None when the notifications feature is not wired)."""
    return router if hub.notifications is not None else None


def _feature(hub: Hub) -> NotificationsFeature:
    if hub.notifications is None:  # the router is only included with the feature; defensive
        raise ApiError(404, "not_found", "notifications are not enabled on this hub")
    return hub.notifications


def _actor(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id}"


@router.get("/notifications", summary="Notices, newest first, by order and status")
async def list_notifications(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("notifications:read"))],
    order_id: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Jobs with their status, channel and masked recipient."""
    if status is not None and status not in admin.STATUSES:
        raise ApiError(422, "invalid_field", f"status: one of {', '.join(admin.STATUSES)}", "status")
    return {"notifications": await run_in_threadpool(admin.list_notices, hub, order_id, status, limit)}


@router.get("/notifications/dead-letters", summary="Notices that exhausted their retries")
async def dead_letters(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("notifications:read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The dead-letter list ops can replay."""
    return {"dead_letters": await run_in_threadpool(admin.dead_letters, hub, limit)}


@router.post("/notifications/dead-letters/{job_id}/replay", summary="Send a dead-lettered notice again")
async def replay(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    hub: HubDep,
    principal: Annotated[Principal, Depends(require("notifications:admin"))],
) -> dict[str, Any]:
    """Re-queue one dead letter (same idempotency key: it is still sent at most once more)."""

    def run() -> dict[str, Any] | None:
        job = admin.replay_dead_letter(hub, job_id)
        if job is not None:
            hub.audit.record(_actor(principal), "notification.replay", f"job:{job_id}", {})
        return job

    result = await run_in_threadpool(run)
    if result is None:
        raise ApiError(404, "not_found", f"no dead letter {job_id}", "job_id")
    return result


@router.get("/customers/{customer_id}/preferences", summary="A customer's notification preferences")
async def get_prefs(
    customer_id: str,
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("notifications:read"))],
) -> dict[str, Any]:
    """Channel order, opt-outs, quiet hours, consent, language (no contact data)."""
    prefs = await run_in_threadpool(_feature(hub).preferences.get, customer_id)
    return prefs.as_dict()


@router.put("/customers/{customer_id}/preferences", summary="Change a customer's notification preferences")
async def put_prefs(
    customer_id: str,
    hub: HubDep,
    principal: Annotated[Principal, Depends(require("notifications:admin"))],
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "channels": ["kakao", "email"],
                    "opt_out": ["sms"],
                    "quiet_hours": {"start": "22:00", "end": "08:00"},
                    "ad_consent": False,
                    "lang": "ko",
                    "phone": "010-1234-5678",
                }
            ]
        ),
    ],
) -> dict[str, Any]:
    """Partial update; a new phone/e-mail redirects every later message (stored encrypted)."""
    preferences = _feature(hub).preferences

    def run() -> dict[str, Any]:
        prefs = preferences.update(customer_id, body)
        hub.audit.record(
            _actor(principal), "notification.preferences", f"customer:{customer_id}", {"fields": sorted(body)}
        )
        return prefs

    try:
        return await run_in_threadpool(run)
    except PreferenceError as exc:
        raise ApiError(422, "invalid_field", exc.message, exc.field) from None
    except LookupError:
        raise ApiError(404, "not_found", f"no customer {customer_id}", "customer_id") from None


OrderIdPath = Annotated[str, Path(min_length=1, max_length=128)]


def _order_id(order_id: str) -> str:
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or 0x202A <= ord(ch) <= 0x202E for ch in order_id):
        raise ApiError(422, "invalid_field", "order_id: control characters are not allowed", "order_id")
    return order_id


def _reason(body: dict[str, Any] | None) -> str:
    reason = (body or {}).get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise ApiError(422, "invalid_field", "reason: text of at most 500 characters", "reason")
    return reason


def _audit_in_tx(hub: Hub, principal: Principal, request: Request, oid: str, reason: str) -> admin.AuditInTx:
    """The link change's audit entry, written in the change's own transaction."""
    log = audit_log_of(hub)
    ip = client_ip(request)

    def write(conn: Connection, action: str, generation: int) -> None:
        details = {"generation": generation, "reason": reason}
        log.record_in(conn, principal, action, f"order:{oid}", details, ip)

    return write


@router.post(
    "/orders/{order_id}/tracking-link/revoke", summary="Kill every tracking link sent for an order (audited)"
)
async def revoke_tracking_link(
    order_id: OrderIdPath,
    hub: HubDep,
    request: Request,
    principal: Annotated[Principal, Depends(require("notifications:admin"))],
    body: Annotated[dict[str, Any] | None, Body(examples=[{"reason": "customer lost the phone"}])] = None,
) -> dict[str, Any]:
    """Every link sent so far stops working (410); later notices carry a new one."""
    oid, reason = _order_id(order_id), _reason(body)
    audit = _audit_in_tx(hub, principal, request, oid, reason)
    gen = await run_in_threadpool(admin.revoke_links, _feature(hub).links, oid, _actor(principal), audit)
    if gen is None:
        raise ApiError(404, "not_found", f"no order {oid}", "order_id")
    return {"order_id": oid, "revoked": True, "generation": gen}


@router.post(
    "/orders/{order_id}/tracking-link/reissue",
    summary="A new tracking link for an order; every earlier one stops working (audited)",
)
async def reissue_tracking_link(
    order_id: OrderIdPath,
    hub: HubDep,
    request: Request,
    principal: Annotated[Principal, Depends(require("notifications:admin"))],
    body: Annotated[dict[str, Any] | None, Body(examples=[{"reason": "link forwarded by mistake"}])] = None,
) -> JSONResponse:
    """Revoke, then one new link to give the customer (never stored; shown once, not cached)."""
    oid, reason = _order_id(order_id), _reason(body)
    audit = _audit_in_tx(hub, principal, request, oid, reason)
    out = await run_in_threadpool(admin.reissue_link, _feature(hub).links, oid, _actor(principal), audit)
    if out.state == "missing":
        raise ApiError(404, "not_found", f"no order {oid}", "order_id")
    if out.state == "closed" or out.url is None:
        raise ApiError(
            409, "links_closed", "this order's tracking links are closed (cancelled or erased)", "order_id"
        )
    return JSONResponse(
        {"order_id": oid, "url": out.url, "generation": out.generation},
        headers={"Cache-Control": "no-store"},
    )
