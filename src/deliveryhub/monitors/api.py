"""Ops API of the automation feature: exceptions (list with counts, acknowledge, resolve, assign) and
compensations awaiting approval."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.config import EXCEPTION_TYPES
from deliveryhub.monitors.service import MonitorService, exception_dict
from deliveryhub.monitors.tables import compensations, exceptions
from deliveryhub.security.apikeys import Principal

router = APIRouter(prefix="/v1", tags=["exceptions"])
STATUSES = ("open", "acknowledged", "resolved", "active")


class Note(BaseModel):
    """Optional note with an action."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class Assign(BaseModel):
    """Who takes the exception."""

    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=2000)


def _svc(hub: Any) -> MonitorService:
    svc: MonitorService = hub.services["monitors"]
    return svc


def _actor(p: Principal) -> str:
    return f"{getattr(p, 'role', '?')}:{getattr(p, 'name', None) or getattr(p, 'key_id', None) or '?'}"


def _audit(hub: Any, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
    if "audit" in hub.services:
        hub.services["audit"](actor, action, target, details)


@router.get("/exceptions", summary="Exceptions with filters and counts by type / 예외 목록과 유형별 건수")
async def list_exceptions(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("exceptions:read"))],
    status: str | None = "active",
    type: str | None = None,  # noqa: A002 - the documented query parameter name
    carrier: str | None = None,
    order_id: str | None = None,
    warehouse: str | None = None,
    channel: str | None = None,
    assignee: str | None = None,
    lang: Literal["ko", "en"] = "ko",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Exceptions newest first; `status=active` (default) means open or acknowledged."""
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_field", f"status: must be one of {', '.join(STATUSES)}", "status")
    if type is not None and type not in EXCEPTION_TYPES:
        raise ApiError(422, "invalid_field", f"type: must be one of {', '.join(EXCEPTION_TYPES)}", "type")

    def run() -> dict[str, Any]:
        cond = []
        if status == "active":
            cond.append(exceptions.c.status != "resolved")
        elif status:
            cond.append(exceptions.c.status == status)
        for col, value in (
            (exceptions.c.carrier, carrier),
            (exceptions.c.order_id, order_id),
            (exceptions.c.warehouse, warehouse),
            (exceptions.c.channel, channel),
            (exceptions.c.assignee, assignee),
        ):
            if value is not None:
                cond.append(col == value)
        with hub.db.read() as conn:
            counts = {k: 0 for k in EXCEPTION_TYPES}
            for row in conn.execute(
                sa.select(exceptions.c.type, sa.func.count()).where(*cond).group_by(exceptions.c.type)
            ):
                counts[row[0]] = int(row[1])
            q = sa.select(exceptions).where(*cond)
            if type is not None:
                q = q.where(exceptions.c.type == type)
            rows = conn.execute(
                q.order_by(exceptions.c.opened_at.desc(), exceptions.c.id.desc()).limit(limit).offset(offset)
            ).all()
        return {
            "items": [exception_dict(r, lang) for r in rows],
            "counts": counts,
            "total": counts[type] if type else sum(counts.values()),
            "limit": limit,
            "offset": offset,
        }

    return await run_in_threadpool(run)


def _transition(
    hub: Any, exc_id: int, action: str, actor: str, note: str | None, assignee: str | None = None
) -> dict[str, Any]:
    svc = _svc(hub)
    now = svc.now
    with hub.db.write() as conn:
        row = conn.execute(sa.select(exceptions).where(exceptions.c.id == exc_id)).first()
        if row is None:
            raise ApiError(404, "not_found", f"no exception {exc_id}")
        evidence = dict(row.evidence or {})
        if note:
            evidence.setdefault("notes", []).append(
                {"by": actor, "at": now.isoformat(), "action": action, "note": note}
            )
        values: dict[str, Any] = {"updated_at": now, "evidence": evidence}
        if action == "acknowledge":
            if row.status != "open":
                raise ApiError(
                    409, "invalid_transition", f"exception {exc_id} is {row.status}, not open", "status"
                )
            values.update(status="acknowledged", acknowledged_at=now)
            if row.assignee is None:
                values["assignee"] = actor
        elif action == "resolve":
            if row.status == "resolved":
                raise ApiError(409, "invalid_transition", f"exception {exc_id} is already resolved", "status")
            values.update(status="resolved", resolved_at=now, resolution="manual")
        else:
            if row.status == "resolved":
                raise ApiError(409, "invalid_transition", f"exception {exc_id} is resolved", "status")
            values["assignee"] = assignee
        conn.execute(exceptions.update().where(exceptions.c.id == exc_id).values(**values))
        fresh = conn.execute(sa.select(exceptions).where(exceptions.c.id == exc_id)).one()
    _audit(
        hub,
        actor,
        f"exception.{action}",
        f"exception:{exc_id}",
        {"type": row.type, "order_id": row.order_id, "note": note, "assignee": assignee},
    )
    return exception_dict(fresh)


@router.post("/exceptions/{exc_id}/acknowledge", summary="Acknowledge / 예외 확인")
async def acknowledge(
    exc_id: int,
    hub: HubDep,
    p: Annotated[Principal, Depends(require("exceptions:act"))],
    body: Annotated[Note | None, Body()] = None,
) -> dict[str, Any]:
    """open → acknowledged (the caller becomes the assignee if nobody is)."""
    return await run_in_threadpool(
        _transition, hub, exc_id, "acknowledge", _actor(p), body.note if body else None
    )


@router.post("/exceptions/{exc_id}/resolve", summary="Resolve / 예외 해결")
async def resolve(
    exc_id: int,
    hub: HubDep,
    p: Annotated[Principal, Depends(require("exceptions:act"))],
    body: Annotated[Note | None, Body()] = None,
) -> dict[str, Any]:
    """open/acknowledged → resolved (manual)."""
    return await run_in_threadpool(
        _transition, hub, exc_id, "resolve", _actor(p), body.note if body else None
    )


@router.post("/exceptions/{exc_id}/assign", summary="Assign / 담당자 지정")
async def assign(
    exc_id: int, body: Assign, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """(Re)assign an active exception."""
    return await run_in_threadpool(_transition, hub, exc_id, "assign", _actor(p), body.note, body.assignee)


@router.get("/compensations", summary="Compensations / 보상 내역")
async def list_compensations(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("exceptions:read"))],
    status: Literal["pending_issue", "pending_approval", "issued", "rejected"] | None = None,
    order_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Compensation decisions, newest first."""

    def run() -> dict[str, Any]:
        q = sa.select(compensations)
        if status:
            q = q.where(compensations.c.status == status)
        if order_id:
            q = q.where(compensations.c.order_id == order_id)
        with hub.db.read() as conn:
            rows = conn.execute(q.order_by(compensations.c.id.desc()).limit(limit)).all()
        return {"items": [comp.as_dict(r) for r in rows]}

    return await run_in_threadpool(run)


def _decide(hub: Any, comp_id: int, approve: bool, actor: str) -> dict[str, Any]:
    svc = _svc(hub)
    now = svc.now
    with hub.db.write() as conn:
        row = conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).first()
        if row is None:
            raise ApiError(404, "not_found", f"no compensation {comp_id}")
        if row.status != "pending_approval":
            raise ApiError(409, "invalid_transition", f"compensation {comp_id} is {row.status}", "status")
        conn.execute(
            compensations.update()
            .where(compensations.c.id == comp_id, compensations.c.status == "pending_approval")
            .values(status="pending_issue" if approve else "rejected", decided_by=actor, decided_at=now)
        )
        if approve:
            # Durable: if issuing below fails, the timer job issues it later.
            tm.arm(
                conn,
                "compensation",
                f"comp:{comp_id}",
                now,
                now,
                order_id=row.order_id,
                payload={"id": comp_id},
            )
    _audit(
        hub,
        actor,
        "compensation.approved" if approve else "compensation.rejected",
        f"order:{row.order_id}",
        {"compensation_id": comp_id, "amount": row.amount, "rule": row.rule},
    )
    if approve:
        svc.issue_compensation(comp_id, now, actor=actor)
    with hub.db.read() as conn:
        return comp.as_dict(conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).one())


@router.post("/compensations/{comp_id}/approve", summary="Approve a compensation / 보상 승인")
async def approve(
    comp_id: int, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """pending_approval → issued (through `compensation.issued`)."""
    return await run_in_threadpool(_decide, hub, comp_id, True, _actor(p))


@router.post("/compensations/{comp_id}/reject", summary="Reject a compensation / 보상 반려")
async def reject(
    comp_id: int, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """pending_approval → rejected."""
    return await run_in_threadpool(_decide, hub, comp_id, False, _actor(p))
