"""Operator actions on one order (issue 16): `POST /v1/orders/{order_id}/actions/{action}` for cancel,
change_address (two steps: the normalised address to confirm, then `confirm: true`), resend_notice,
return and exchange. Permission `orders:act`; every call audited as `order.<action>`; each goes through
the same service-layer commands as the chatbot, so the order's timeline shows what was done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deliveryhub.contracts.ids import SafeId
from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.security.apikeys import Principal
from deliveryhub.service_layer import commands
from deliveryhub.service_layer.commands import CommandResult

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

ACTIONS = ("cancel", "change_address", "resend_notice", "return", "exchange")
OrderIdPath = Annotated[SafeId, Path(min_length=1, max_length=128)]
ActionPath = Annotated[Literal["cancel", "change_address", "resend_notice", "return", "exchange"], Path()]
# A refusal the order's state explains answers 409; unreadable input 422; an unknown order 404.
_STATUS = {
    "not_found": 404,
    "invalid": 422,
    "address_invalid": 422,
    "unavailable": 503,
}
REASON_CODES = ("change_of_mind", "defective", "damaged", "wrong_item", "not_as_described", "other")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CancelIn(_Body):
    reason: str | None = Field(default=None, max_length=500)


class AddressIn(_Body):
    zip: str | None = Field(default=None, max_length=20)
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)


class ChangeAddressIn(_Body):
    address: AddressIn | Annotated[str, Field(min_length=1, max_length=600)]
    confirm: bool = False


class ResendIn(_Body):
    reason: str | None = Field(default=None, max_length=200)


class ReturnIn(_Body):
    reason: str | None = Field(default=None, max_length=2000)
    reason_code: Literal[REASON_CODES] | None = None  # type: ignore[valid-type]
    items: list[dict[str, Any] | SafeId] = Field(default_factory=list, max_length=200)
    photo_ids: list[SafeId] = Field(default_factory=list, max_length=20)


_MODELS: dict[str, type[_Body]] = {
    "cancel": CancelIn,
    "change_address": ChangeAddressIn,
    "resend_notice": ResendIn,
    "return": ReturnIn,
    "exchange": ReturnIn,
}


def _parse(action: str, body: dict[str, Any] | None) -> Any:
    """The body as the action's model, or a 422 naming the field."""
    try:
        return _MODELS[action].model_validate(body or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ()) if p not in ("str", "AddressIn"))
        raise ApiError(422, "invalid_field", f"{field}: {err.get('msg', 'invalid value')}", field) from None


def _resender(hub: Hub) -> commands.NoticeResender | None:
    feature = hub.notifications
    if feature is None:
        return None
    from deliveryhub.notifications.tracking import resend_link

    links = feature.links
    return lambda order_id, actor: resend_link(hub, links, order_id, actor)


def run_action(hub: Hub, order_id: str, action: str, body: Any, actor: str) -> CommandResult:
    """Carry out one parsed action through the service-layer commands."""
    if action == "cancel":
        return commands.cancel_order(hub, order_id, body.reason or "operator request", actor=actor)
    if action == "change_address":
        address = (
            body.address if isinstance(body.address, str) else body.address.model_dump(exclude_none=True)
        )
        return commands.change_address(hub, order_id, address, actor=actor, confirm=body.confirm)
    if action == "resend_notice":
        return commands.resend_notice(hub, order_id, _resender(hub), actor=actor)
    return commands.request_return(
        hub,
        order_id,
        reason=body.reason,
        items=list(body.items),
        actor=actor,
        reason_code=body.reason_code,
        photo_ids=tuple(body.photo_ids),
        kind="return" if action == "return" else "exchange",
    )


def _audit_details(action: str, body: Any, res: CommandResult) -> dict[str, Any]:
    details: dict[str, Any] = {"ok": res.ok, "code": res.code, "event_ids": res.event_ids}
    if action == "change_address":
        details["confirmed"] = bool(body.confirm)
    if getattr(body, "reason", None):
        details["reason"] = str(body.reason)[:200]
    for key in ("return_id", "fee", "fee_payer", "job_id", "refund_amount"):
        if key in res.data and res.data[key] is not None:
            details[key] = res.data[key]
    return details


def status_of(res: CommandResult) -> int:
    """The HTTP status of a command's result."""
    if res.ok:
        return 200
    return _STATUS.get(res.code, 409)


router = APIRouter(prefix="/v1", tags=["order actions"])


@router.post(
    "/orders/{order_id}/actions/{action}",
    summary="Act on an order: cancel, change_address (confirm step), resend_notice, return, exchange",
)
async def order_action(
    request: Request,
    order_id: OrderIdPath,
    action: ActionPath,
    principal: Annotated[Principal, Depends(require("orders:act"))],
    body: Annotated[
        dict[str, Any] | None,
        Body(examples=[{"address": {"zip": "06236", "line1": "서울 강남구 테헤란로 152"}, "confirm": False}]),
    ] = None,
) -> JSONResponse:
    """The answer is `{ok, code, message_ko, message_en, ...}`: 200 done (or, for change_address without
    `confirm: true`, the normalised `address` to confirm), 409 refused with the reason (shipped, past
    the return window, …), 422 unreadable input naming the field, 404 no such order."""
    hub = get_hub(request)
    parsed = _parse(action, body)
    actor = f"{principal.kind}:{principal.id}"
    res = await run_in_threadpool(run_action, hub, order_id, action, parsed, actor)
    details = _audit_details(action, parsed, res)
    hub.audit.record(principal, f"order.{action}", f"order:{order_id}", details, client_ip(request))
    out = {"order_id": order_id, "action": action, **res.as_dict()}
    if action == "change_address" and res.code == "confirm_address":
        out["needs_confirm"] = True
    status = status_of(res)
    if status != 200:
        out["error"] = {"code": res.code, "message": res.message_en}
        if res.data.get("field"):
            out["error"]["field"] = res.data["field"]
    return JSONResponse(out, status_code=status, headers={"Cache-Control": "no-store"})


def build_router(hub: Hub) -> APIRouter | None:
    """The order-actions API."""
    return router
