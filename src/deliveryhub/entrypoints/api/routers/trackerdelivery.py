"""The tracker.delivery webhook callback route (its logic: connectors/trackerdelivery_webhook.py)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.adapters.connectors.base import ConnectorError
from deliveryhub.adapters.connectors.trackerdelivery.mapper import CODE
from deliveryhub.connectors.trackerdelivery_webhook import (
    Unauthorized,
    check_token,
    receive_callback,
    settings_of,
)
from deliveryhub.entrypoints.api.errors import ApiError

log = structlog.get_logger(__name__)


def build_router(hub: Any) -> APIRouter | None:
    """``POST /v1/webhooks/trackerdelivery`` (None when the connectors feature is not wired)."""
    if getattr(hub, "connectors", None) is None:
        return None
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

    @router.post("/trackerdelivery", summary="tracker.delivery tracking webhook callback (token)")
    async def trackerdelivery_webhook(request: Request) -> dict[str, Any]:
        """Check the token, then query track for the parcel and ingest."""
        hub = request.app.state.hub  # as deps.get_hub: the hub (a shop's) the app was built with
        settings = settings_of(hub)
        given = request.query_params.get("token") or request.headers.get("x-deliveryhub-token")
        try:
            check_token(settings, given)
        except Unauthorized:
            log.warning("webhook_refused", connector=CODE, status=401)
            raise ApiError(401, "unauthorized", "tracker.delivery callback token missing or wrong") from None
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "invalid_json", "body is not JSON") from None
        try:
            answer: dict[str, Any] = await run_in_threadpool(receive_callback, hub, settings, body)
        except ConnectorError as exc:
            raise ApiError(503, "upstream_unavailable", f"tracker.delivery: {exc}") from None
        return answer

    return router
