"""Returns and exchanges API (issue 16): open one for an order, read one or the list, mark the goods
received, record the inspection. Reading needs `orders:read`, acting `orders:act`; every act is audited.
The workflow itself is the aftersales feature's (`core.returns`); these routes only translate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from deliveryhub.aftersales.queries import KINDS, STATUS_FILTERS
from deliveryhub.contracts.ids import SafeId
from deliveryhub.domain.returns import REASON_CODES
from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.security.apikeys import Principal
from deliveryhub.service_layer.ports import ReturnAsk, ReturnDecision

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(prefix="/v1", tags=["returns"])
OrderIdPath = Annotated[SafeId, Path(min_length=1, max_length=128)]
ReturnIdPath = Annotated[SafeId, Path(min_length=1, max_length=64)]
# Refusals that are the policy's answer, not a bad request: 409 not_eligible with the reason in words.
NOT_ELIGIBLE = frozenset({"window_passed", "defect_window_passed", "not_shipped", "cancelled"})


class ItemIn(BaseModel):
    """One item to return: its SKU and how many (all of that line when absent)."""

    model_config = ConfigDict(extra="forbid")
    sku: SafeId = Field(min_length=1, max_length=128)
    qty: int | None = Field(default=None, ge=1, le=10_000)


class ReturnIn(BaseModel):
    """Body of POST /v1/orders/{order_id}/returns."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["return", "exchange"] = "return"
    reason: str | None = Field(default=None, max_length=2000)
    reason_code: Literal[REASON_CODES] | None = None  # type: ignore[valid-type]
    items: list[SafeId | ItemIn] | None = Field(default=None, max_length=200)


class InspectionIn(BaseModel):
    """Body of POST /v1/returns/{return_id}/inspection."""

    model_config = ConfigDict(extra="forbid")
    result: Literal["pass", "fail"]
    note: str | None = Field(default=None, max_length=2000)
    photo_id: SafeId | None = Field(default=None, max_length=64)


def _actor(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id}"[:128]


def _answer(decision: ReturnDecision) -> dict[str, Any]:
    return {
        "return_id": decision.return_id,
        "status": decision.status,
        "fee": decision.fee,
        "fee_payer": decision.fee_payer,
        "code": decision.code,
        "message": decision.message_ko,
        "message_en": decision.message_en,
    }


def _refusal(decision: ReturnDecision, field: str | None = None) -> JSONResponse:
    """The HTTP answer to a refused act (never a 500)."""
    code = decision.code
    if code == "not_found":
        raise ApiError(404, "not_found", decision.message_en)
    if code == "invalid":
        raise ApiError(422, "invalid", f"{decision.message_ko} / {decision.message_en}", field)
    if code == "unavailable":
        raise ApiError(503, "unavailable", f"{decision.message_ko} / {decision.message_en}")
    body: dict[str, Any] = {
        "code": "not_eligible" if code in NOT_ELIGIBLE else code,
        "message": decision.message_ko,
        "message_en": decision.message_en,
        "reason": code,
    }
    if decision.return_id:
        body.update(return_id=decision.return_id, status=decision.status)
    return JSONResponse({"error": body}, status_code=409)


def _audit(
    hub: Hub, request: Request, principal: Principal, action: str, target: str, d: ReturnDecision
) -> None:
    details = {"by": principal.role, "outcome": d.code, "return_id": d.return_id, "status": d.status}
    hub.audit.record(principal, action, target, details, client_ip(request))


@router.post(
    "/orders/{order_id}/returns",
    summary="Open a return or exchange: eligibility (청약철회 7 days, shop-fault 90 days), fee and who pays",
    response_model=None,
)
async def open_return(
    request: Request,
    order_id: OrderIdPath,
    body: ReturnIn,
    principal: Annotated[Principal, Depends(require("orders:act"))],
) -> dict[str, Any] | JSONResponse:
    """200 {return_id, status, fee, fee_payer}; 409 not_eligible with the reason; an order with an open
    return answers that one (`code: already_open`)."""
    hub = get_hub(request)
    if not body.reason and not body.reason_code:
        raise ApiError(
            422, "invalid", "reason 또는 reason_code가 필요해요 / reason or reason_code is required", "reason"
        )
    items = [i if isinstance(i, str) else i.model_dump(exclude_none=True) for i in body.items or []]
    ask = ReturnAsk(order_id, body.kind, body.reason, body.reason_code, items, _actor(principal))
    decision = await run_in_threadpool(hub.returns.open, ask)
    _audit(hub, request, principal, f"{body.kind}.open", f"order:{order_id}", decision)
    if not decision.ok:
        return _refusal(decision, "items" if decision.code == "invalid" else None)
    return _answer(decision)


@router.get("/returns", summary="Returns and exchanges, newest first (status=open: all in progress)")
async def list_returns(
    request: Request,
    _p: Annotated[Principal, Depends(require("orders:read"))],
    status: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    order_id: Annotated[SafeId | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """{"returns": [{return_id, order_id, kind, status, reason_code, fee, fee_payer, requested_at, due_at,
    overdue, waiting_for, steps: [{step, at}]}]}."""
    hub = get_hub(request)
    if status is not None and status not in STATUS_FILTERS:
        raise ApiError(422, "invalid", f"status: one of {', '.join(STATUS_FILTERS)}", "status")
    if kind is not None and kind not in KINDS:
        raise ApiError(422, "invalid", "kind: return or exchange", "kind")
    feature = _feature(hub)
    rows = await run_in_threadpool(
        lambda: feature.list_returns(status=status, kind=kind, order_id=order_id, limit=limit)
    )
    return {"returns": rows}


@router.get("/returns/{return_id}", summary="One return: its workflow state, steps, inspection and refund")
async def get_return(
    request: Request, return_id: ReturnIdPath, _p: Annotated[Principal, Depends(require("orders:read"))]
) -> dict[str, Any]:
    """The return as the workflow holds it."""
    found = await run_in_threadpool(_feature(get_hub(request)).get_return, return_id)
    if found is None:
        raise ApiError(404, "not_found", f"no return {return_id}")
    return found


@router.post(
    "/returns/{return_id}/received",
    summary="The returned goods arrived at the warehouse",
    response_model=None,
)
async def mark_received(
    request: Request,
    return_id: ReturnIdPath,
    principal: Annotated[Principal, Depends(require("orders:act"))],
) -> dict[str, Any] | JSONResponse:
    """Records return.received (once); the inspection is due next."""
    hub = get_hub(request)
    feature = _feature(hub)
    decision = await run_in_threadpool(feature.desk.receive, return_id, _actor(principal))
    _audit(hub, request, principal, "return.received", f"return:{return_id}", decision)
    if not decision.ok:
        return _refusal(decision)
    return await _state(feature, return_id, decision)


@router.post(
    "/returns/{return_id}/inspection",
    summary="Record the inspection: pass refunds a return (or reships an exchange), fail goes to ops",
    response_model=None,
)
async def inspect_return(
    request: Request,
    return_id: ReturnIdPath,
    body: InspectionIn,
    principal: Annotated[Principal, Depends(require("orders:act"))],
) -> dict[str, Any] | JSONResponse:
    """Records return.inspected once; the same result again answers 200, a different one 409."""
    hub = get_hub(request)
    decision = await run_in_threadpool(
        hub.returns.inspect, return_id, body.result, body.note, _actor(principal), body.photo_id
    )
    _audit(hub, request, principal, "return.inspected", f"return:{return_id}", decision)
    if not decision.ok:
        return _refusal(decision)
    return await _state(_feature(hub), return_id, decision)


async def _state(feature: Any, return_id: str, decision: ReturnDecision) -> dict[str, Any]:
    found = await run_in_threadpool(feature.get_return, return_id)
    return {
        **(found or {}),
        "code": decision.code,
        "message": decision.message_ko,
        "message_en": decision.message_en,
    }


def _feature(hub: Hub) -> Any:
    if hub.aftersales is None:
        raise ApiError(503, "unavailable", "the returns workflow is not running on this hub")
    return hub.aftersales


def build_router(hub: Hub) -> APIRouter | None:
    """The returns API (None on a hub built without features)."""
    return router if hub.aftersales is not None else None
