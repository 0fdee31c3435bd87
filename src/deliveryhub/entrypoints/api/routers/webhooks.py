"""Inbound webhooks: Shopify and Cafe24 order webhooks and carrier tracking pushes (``/v1/webhooks/...``).

Public by prefix: the signature (or an operator-configured IP allowlist) is the authentication. This module
only speaks HTTP: it works out the real peer address, reads the body once a secret exists to check it with,
and turns the connectors' ``Refused`` into the API's error; ``deliveryhub.connectors.pushes`` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.connectors import marketplace_jobs, pushes
from deliveryhub.connectors.inbound import Refused
from deliveryhub.entrypoints.api.deps import HubDep
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import scope_ip

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

_STATUS = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "unknown": 404,
    "conflict": 409,
    "unfit": 422,
}


def build_router(hub: Hub) -> APIRouter | None:
    """The webhook routes (None when the connectors feature is not wired)."""
    return router if hub.connectors is not None else None


async def _answer(connector: str, request: Request, hub: Hub, work: Callable[[], Any]) -> dict[str, Any]:
    """Await ``work``; a refusal becomes the API error and one short security log line (no body, headers or
    secrets)."""
    try:
        answer: dict[str, Any] = await work()
        return answer
    except Refused as exc:
        status = _STATUS[exc.kind]
        peer = scope_ip(request.scope, hub.settings)
        log.warning("webhook_refused", connector=connector, status=status, code=exc.code, peer=peer)
        raise ApiError(status, exc.code, exc.message, exc.field) from None


@router.post("/shopify", summary="Shopify-format order webhook (X-Shopify-Hmac-Sha256)")
async def shopify_webhook(request: Request, hub: HubDep) -> dict[str, Any]:
    """Verify the HMAC, check the topic fits the body, refuse a reused webhook id, map and ingest."""

    async def work() -> dict[str, Any]:
        shop = (request.headers.get("x-shopify-shop-domain") or "").strip().lower() or None
        secrets = pushes.shopify_secrets(hub, shop)
        body = await request.body()  # read only once a secret exists to check it with
        answer: dict[str, Any] = await run_in_threadpool(
            pushes.receive_shopify, hub, shop, request.headers, body, secrets
        )
        return answer

    return await _answer("shopify", request, hub, work)


@router.post(
    "/cafe24", summary="Cafe24 order webhook (per-mall shared secret: X-Cafe24-Webhook-Secret / x-api-key)"
)
async def cafe24_webhook(request: Request, hub: HubDep) -> dict[str, Any]:
    """Check the mall's shared secret before reading the body, then map and ingest (a replay is a no-op)."""

    async def work() -> dict[str, Any]:
        settings, malls = await run_in_threadpool(marketplace_jobs.authenticate_cafe24, hub, request.headers)
        body = await request.body()
        answer: dict[str, Any] = await run_in_threadpool(
            marketplace_jobs.receive_cafe24, hub, settings, malls, body
        )
        return answer

    return await _answer("cafe24", request, hub, work)


@router.post("/carriers/{carrier}", summary="Carrier tracking push (shared secret and/or IP allowlist)")
async def carrier_webhook(carrier: str, request: Request, hub: HubDep) -> dict[str, Any]:
    """Authenticate the push, map it, attach it to the order known by tracking no., ingest."""

    async def work() -> dict[str, Any]:
        peer = scope_ip(request.scope, hub.settings)
        settings = pushes.admit_carrier(carrier, peer)  # before reading the body
        body = await request.body()
        names_order = "order_id" in request.query_params
        answer: dict[str, Any] = await run_in_threadpool(
            pushes.receive_carrier,
            hub,
            carrier,
            peer,
            request.headers,
            body,
            settings,
            names_order=names_order,
        )
        return answer

    return await _answer(carrier[:32], request, hub, work)
