"""Ops API of the monitors feature: exceptions (list with counts, acknowledge, resolve, assign, and the
same for many at once) and compensations (list, approve, reject). The feature's service functions do the
work; this module only speaks HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.kernel.labels import label
from deliveryhub.monitors import read
from deliveryhub.monitors.errors import InvalidTransition, NotFound
from deliveryhub.monitors.service import MonitorService
from deliveryhub.security.apikeys import Principal

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

T = TypeVar("T")
router = APIRouter(prefix="/v1", tags=["exceptions"])


class Note(BaseModel):
    """Optional note with an action."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class Assign(BaseModel):
    """Who takes the exception."""

    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=2000)


class Bulk(BaseModel):
    """One action on many exceptions (the inbox's selected rows)."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(min_length=1, max_length=500)
    action: Literal["acknowledge", "resolve", "assign"]
    assignee: str | None = Field(default=None, min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=2000)


def build_router(hub: Hub) -> APIRouter | None:
    """The exceptions and compensations routes (None when the monitors feature is not wired)."""
    return router if hub.monitors is not None else None


def _svc(hub: Hub) -> MonitorService:
    svc = hub.monitors
    if svc is None:
        raise ApiError(404, "not_found", "the monitors feature is not enabled")
    return svc


def _actor(p: Principal) -> str:
    return f"{getattr(p, 'role', '?')}:{getattr(p, 'name', None) or getattr(p, 'key_id', None) or '?'}"


def _answer(call: Callable[[], T]) -> T:
    """Run a feature call, turning its errors into the API's 404 / 409."""
    try:
        return call()
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except InvalidTransition as exc:
        raise ApiError(409, "invalid_transition", str(exc), "status") from None


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
    flt = read.ExceptionFilter(status, type, carrier, order_id, warehouse, channel, assignee)
    try:
        flt.check()
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise ApiError(422, "invalid_field", str(exc), field) from None
    out = await run_in_threadpool(read.list_exceptions, hub.db, flt, lang, limit, offset)
    out["labels"] = {k: label("exception", k, lang) for k in out["counts"]}  # the counts' names
    return out


async def _transition(
    hub: Hub, exc_id: int, action: str, actor: str, note: str | None, assignee: str | None = None
) -> dict[str, Any]:
    svc = _svc(hub)
    return await run_in_threadpool(_answer, lambda: svc.transition(exc_id, action, actor, note, assignee))


def _note_transition(action: str, doc: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The endpoint of a transition that takes only an optional note (acknowledge, resolve)."""

    async def endpoint(
        exc_id: int,
        hub: HubDep,
        p: Annotated[Principal, Depends(require("exceptions:act"))],
        body: Annotated[Note | None, Body()] = None,
    ) -> dict[str, Any]:
        return await _transition(hub, exc_id, action, _actor(p), body.note if body else None)

    endpoint.__name__, endpoint.__doc__ = action, doc
    return endpoint


acknowledge = router.post("/exceptions/{exc_id}/acknowledge", summary="Acknowledge / 예외 확인")(
    _note_transition("acknowledge", "open → acknowledged (the caller becomes the assignee if nobody is).")
)
resolve = router.post("/exceptions/{exc_id}/resolve", summary="Resolve / 예외 해결")(
    _note_transition("resolve", "open/acknowledged → resolved (manual).")
)


@router.post("/exceptions/{exc_id}/assign", summary="Assign / 담당자 지정")
async def assign(
    exc_id: int, body: Assign, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """(Re)assign an active exception."""
    return await _transition(hub, exc_id, "assign", _actor(p), body.note, body.assignee)


@router.post("/exceptions/bulk", summary="Acknowledge, resolve or assign many / 예외 일괄 처리")
async def bulk(
    body: Bulk, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """Each id on its own: one that is unknown or already resolved does not stop the others."""
    if body.action == "assign" and not body.assignee:
        raise ApiError(422, "invalid_field", "assignee: required to assign", "assignee")
    svc, actor = _svc(hub), _actor(p)

    def run() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for exc_id in dict.fromkeys(body.ids):  # each once, in the order given
            try:
                done = svc.transition(exc_id, body.action, actor, body.note, body.assignee)
            except NotFound as exc:
                out.append({"id": exc_id, "ok": False, "error": {"code": "not_found", "message": str(exc)}})
            except InvalidTransition as exc:
                error = {"code": "invalid_transition", "message": str(exc)}
                out.append({"id": exc_id, "ok": False, "error": error})
            else:
                out.append({"id": exc_id, "ok": True, "status": done.get("status")})
        return out

    results = await run_in_threadpool(run)
    return {"results": results, "done": sum(1 for r in results if r["ok"])}


@router.get("/compensations", summary="Compensations / 보상 내역")
async def list_compensations(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("exceptions:read"))],
    status: Literal["pending_issue", "pending_approval", "issued", "rejected"] | None = None,
    order_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Compensation decisions, newest first."""
    return await run_in_threadpool(read.list_compensations, hub.db, status, order_id, limit)


async def _decide(hub: Hub, comp_id: int, approve: bool, actor: str) -> dict[str, Any]:
    svc = _svc(hub)
    return await run_in_threadpool(_answer, lambda: svc.decide_compensation(comp_id, approve, actor))


@router.post("/compensations/{comp_id}/approve", summary="Approve a compensation / 보상 승인")
async def approve(
    comp_id: int, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """pending_approval → issued (through `compensation.issued`)."""
    return await _decide(hub, comp_id, True, _actor(p))


@router.post("/compensations/{comp_id}/reject", summary="Reject a compensation / 보상 반려")
async def reject(
    comp_id: int, hub: HubDep, p: Annotated[Principal, Depends(require("exceptions:act"))]
) -> dict[str, Any]:
    """pending_approval → rejected."""
    return await _decide(hub, comp_id, False, _actor(p))
