"""SOLAPI's delivery report webhook ``POST /v1/webhooks/solapi`` (under the platform
``/s/<shop>/v1/webhooks/solapi``); the work is in notifications/solapi_reports.py.

Public by prefix: the shop's shared secret (``?token=…`` in the URL set in SOLAPI's console, or the
``X-Deliveryhub-Token`` header) is the authentication, checked before the body is read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import scope_ip
from deliveryhub.notifications import solapi_reports
from deliveryhub.notifications.solapi_reports import ReportRefused

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

log = structlog.get_logger(__name__)

_STATUS = {"unauthorized": 401, "invalid": 400, "unfit": 422}


def build_router(hub: Hub) -> APIRouter | None:
    """The SOLAPI report route (None when the notifications feature is not wired)."""
    if hub.notifications is None:
        return None
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

    @router.post(
        "/solapi", summary="SOLAPI delivery report webhook (shared secret: ?token= / X-Deliveryhub-Token)"
    )
    async def solapi_report(request: Request) -> dict[str, Any]:
        """Check the shop's secret, then apply each report to its notification job (a replay: no effect)."""
        hub = request.app.state.hub  # the hub (a shop's) the app was built with
        feature = hub.notifications
        given = request.query_params.get("token") or request.headers.get(solapi_reports.SECRET_HEADER)
        try:
            solapi_reports.authenticate(feature, given)
            body = await request.body()  # read only once the secret is right
            answer: dict[str, Any] = await run_in_threadpool(solapi_reports.receive, feature, body)
        except ReportRefused as exc:
            status = _STATUS[exc.kind]
            peer = scope_ip(request.scope, hub.settings)
            log.warning("webhook_refused", connector="solapi", status=status, code=exc.code, peer=peer)
            raise ApiError(status, exc.code, exc.message, exc.field) from None
        return answer

    return router
