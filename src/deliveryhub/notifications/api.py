"""Notification API: list notices, dead letters and their replay, customer preferences, and staff
revocation / reissue of an order's tracking links (audited)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.notifications.facts import job_dict
from deliveryhub.notifications.links import issue_in, link_url, revoke_in
from deliveryhub.notifications.preferences import PreferenceError, get_preferences, update_preferences
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import audit_log_of
from deliveryhub.security.web import client_ip

router = APIRouter(prefix="/v1", tags=["notifications"])
STATUSES = ("pending", "sending", "retry", "sent", "delivered", "failed", "dead", "suppressed")


@router.get("/notifications", summary="Notices, newest first, by order and status")
async def list_notifications(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("notifications:read"))],
    order_id: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Jobs with their status, channel and masked recipient."""
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_field", f"status: one of {', '.join(STATUSES)}", "status")

    def run() -> list[dict[str, Any]]:
        q = sa.select(jobs_t).order_by(jobs_t.c.id.desc()).limit(limit)
        if order_id:
            q = q.where(jobs_t.c.order_id == order_id)
        if status:
            q = q.where(jobs_t.c.status == status)
        with hub.db.read() as conn:
            return [job_dict(r) for r in conn.execute(q)]

    return {"notifications": await run_in_threadpool(run)}


@router.get("/notifications/dead-letters", summary="Notices that exhausted their retries")
async def dead_letters(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("notifications:read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The dead-letter list ops can replay."""

    def run() -> list[dict[str, Any]]:
        with hub.db.read() as conn:
            rows = conn.execute(
                sa.select(jobs_t)
                .where(jobs_t.c.status == "dead")
                .order_by(jobs_t.c.dead_at.desc(), jobs_t.c.id.desc())
                .limit(limit)
            )
            return [job_dict(r) for r in rows]

    return {"dead_letters": await run_in_threadpool(run)}


@router.post("/notifications/dead-letters/{job_id}/replay", summary="Send a dead-lettered notice again")
async def replay(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    hub: HubDep,
    principal: Annotated[Principal, Depends(require("notifications:admin"))],
) -> dict[str, Any]:
    """Re-queue one dead letter (same idempotency key: it is still sent at most once more)."""

    def run() -> dict[str, Any] | None:
        now = hub.clock.now()
        with hub.db.write() as conn:
            done = conn.execute(
                jobs_t.update()
                .where(jobs_t.c.id == job_id, jobs_t.c.status == "dead")
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    dead_at=None,
                    manual=True,
                    lease_until=None,
                )
            )
            if done.rowcount == 0:
                return None
            row = conn.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id)).first()
        if "audit" in hub.services:
            hub.services["audit"](
                f"{principal.kind}:{principal.id}", "notification.replay", f"job:{job_id}", {}
            )
        return job_dict(row)

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

    def run() -> dict[str, Any]:
        with hub.db.read() as conn:
            return get_preferences(conn, customer_id).as_dict()

    return await run_in_threadpool(run)


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

    def run() -> dict[str, Any]:
        with hub.db.write() as conn:
            prefs = update_preferences(conn, hub.keyring, customer_id, body, hub.clock.now())
        if "audit" in hub.services:
            hub.services["audit"](
                f"{principal.kind}:{principal.id}",
                "notification.preferences",
                f"customer:{customer_id}",
                {"fields": sorted(body)},
            )
        return prefs.as_dict()

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

    def run() -> int | None:
        with hub.db.write() as conn:
            if conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == oid)).first() is None:
                return None
            gen = revoke_in(conn, hub, oid, "revoked", f"{principal.kind}:{principal.id}", close=False)
            audit_log_of(hub).record_in(
                conn,
                principal,
                "tracking_link.revoked",
                f"order:{oid}",
                {"generation": gen, "reason": reason},
                client_ip(request),
            )
        return gen

    gen = await run_in_threadpool(run)
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

    def run() -> tuple[str, int, str | None]:
        with hub.db.write() as conn:
            if conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == oid)).first() is None:
                return "missing", 0, None
            if issue_in(conn, hub, oid) is None:
                return "closed", 0, None
            gen = revoke_in(conn, hub, oid, "reissued", f"{principal.kind}:{principal.id}", close=False)
            token = issue_in(conn, hub, oid)
            audit_log_of(hub).record_in(
                conn,
                principal,
                "tracking_link.reissued",
                f"order:{oid}",
                {"generation": gen, "reason": reason},
                client_ip(request),
            )
        return "ok", gen, token

    state, gen, token = await run_in_threadpool(run)
    if state == "missing":
        raise ApiError(404, "not_found", f"no order {oid}", "order_id")
    if state == "closed" or token is None:
        raise ApiError(
            409, "links_closed", "this order's tracking links are closed (cancelled or erased)", "order_id"
        )
    return JSONResponse(
        {"order_id": oid, "url": link_url(hub, token), "generation": gen},
        headers={"Cache-Control": "no-store"},
    )
