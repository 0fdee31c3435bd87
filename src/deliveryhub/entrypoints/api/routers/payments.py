"""Payments webhooks: ``POST /v1/webhooks/tosspayments`` (Toss Payments PAYMENT_STATUS_CHANGED).

Public by prefix like every webhook route: Toss signs nothing, so the body is never believed; the
payments feature (payments/webhook.py) re-fetches the payment from Toss with the shop's secret key and acts
on Toss's answer only. This module only speaks HTTP: the body size, the refusal as the API's error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.entrypoints.api.deps import HubDep
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import scope_ip
from deliveryhub.payments.webhook import MAX_BODY, WebhookRefused, receive_toss

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def build_router(hub: Hub) -> APIRouter | None:
    """The payments webhook route (None when the payments feature is not wired)."""
    return router if hub.payments_feature is not None else None


@router.post("/tosspayments", summary="Toss Payments webhook (PAYMENT_STATUS_CHANGED; re-fetched at Toss)")
async def tosspayments_webhook(request: Request, hub: HubDep) -> dict[str, Any]:
    """Read the paymentKey from the body, fetch that payment from Toss, act on Toss's answer only."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"본문이 너무 커요 (최대 {MAX_BODY} bytes). body too large")
    body = await request.body()
    feature = hub.payments_feature
    toss = feature.toss if feature is not None else None
    try:
        answer = await run_in_threadpool(receive_toss, hub, toss, body)
    except WebhookRefused as exc:
        peer = scope_ip(request.scope, hub.settings)
        log.warning("webhook_refused", connector="tosspayments", status=exc.status, code=exc.code, peer=peer)
        raise ApiError(exc.status, exc.code, exc.message, exc.field) from None
    return answer.as_dict()
