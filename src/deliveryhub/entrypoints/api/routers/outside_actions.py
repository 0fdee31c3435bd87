"""What the hub did (or could not do) in outside systems, and an operator's retry of a failed action."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.apikeys import Principal

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(prefix="/v1/outside-actions", tags=["outside actions / 외부 처리"])
KeyPath = Annotated[str, Path(min_length=1, max_length=200)]


def _state(hub: Hub, key: str) -> dict[str, Any] | None:
    with hub.db.read() as conn:
        state = hub.outside.state(conn, key)
    return asdict(state) if state is not None else None


@router.get(
    "/{key:path}", summary="One outside action: status, attempts, reference, last error / 외부 처리 상태"
)
async def get_action(
    request: Request, key: KeyPath, _p: Annotated[Principal, Depends(require("orders:read"))]
) -> dict[str, Any]:
    """The action queued under `key` (e.g. `release:ORD-1`); 404 when none was."""
    found = await run_in_threadpool(_state, get_hub(request), key)
    if found is None:
        raise ApiError(404, "not_found", f"no outside action {key}")
    return found


@router.post(
    "/{key:path}/retry", summary="Send a failed action again / 실패한 외부 처리 다시 보내기 (audited)"
)
async def retry_action(
    request: Request, key: KeyPath, principal: Annotated[Principal, Depends(require("orders:act"))]
) -> dict[str, Any]:
    """A failed pickup, WMS/TMS or coupon action gets a new round of attempts under the same key (the
    provider's Idempotency-Key), so it still happens once. A refund is asked again through the order's
    refund, not here (409); an action that is not failed is 409; an unknown key 404."""
    hub = get_hub(request)
    if hub.effects is None:
        raise ApiError(404, "not_found", "outside actions are off on this hub")
    found = await run_in_threadpool(_state, hub, key)
    if found is None:
        raise ApiError(404, "not_found", f"no outside action {key}")
    state = await run_in_threadpool(hub.effects.retry, key, principal)
    if state is None:
        why = (
            "refunds are asked again through the order, not retried here"
            if key.startswith("refund:")
            else f"the action is {found['status']}, only a failed action can be sent again"
        )
        raise ApiError(409, "not_retryable", why, "key")
    return asdict(state)


def build_router(hub: Hub) -> APIRouter | None:
    """The routes, when the effects feature is wired."""
    return router if hub.effects is not None else None
