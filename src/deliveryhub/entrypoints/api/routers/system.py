"""Liveness, Prometheus metrics and integration health."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.security.apikeys import Principal
from deliveryhub.service_layer.health import integration_health

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(tags=["system"])


# The database is asked at most once per DB_CHECK_EVERY_S: probes (load balancers, Kubernetes, uptime
# checks) may call several times a second, and a dead database still shows within that second.
DB_CHECK_EVERY_S = 1.0
_last_db_ok: dict[int, float] = {}  # id(hub.db) -> monotonic time of its last good check


def _check_db(hub: Hub) -> None:
    with hub.db.read() as conn:
        conn.exec_driver_sql("SELECT 1")


@router.get("/healthz", summary="Liveness")
async def healthz(hub: HubDep) -> dict[str, Any]:
    """Answers when the process and its database are alive (the database checked at most once a second)."""
    key, now = id(hub.db), time.monotonic()
    if now - _last_db_ok.get(key, -DB_CHECK_EVERY_S) >= DB_CHECK_EVERY_S:
        await run_in_threadpool(_check_db, hub)  # raises (-> 503/500 answer) when the database is down
        _last_db_ok[key] = time.monotonic()
    return {"status": "ok", "db": hub.db.dialect, "bus": hub.settings.bus_url.split("://")[0]}


def _metrics_public(hub: Hub) -> bool:
    return bool(hub.settings.metrics_public)


@router.get("/metrics", summary="Prometheus metrics")
def metrics(
    hub: HubDep, _p: Annotated[Principal | None, Depends(require("metrics:read", _metrics_public))]
) -> Response:
    """Counters and gauges in the Prometheus text format (metrics:read, unless DELIVERYHUB_METRICS_PUBLIC)."""
    return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/integrations", summary="Health per source system")
def integrations(
    hub: HubDep, _p: Annotated[Principal, Depends(require("integrations:read"))]
) -> dict[str, Any]:
    """Last event, rates and rejections per source; silent sources flagged."""
    with hub.db.read() as conn:
        sources = integration_health(conn, hub.clock.now())
    extra = hub.connectors.integration_status() if hub.connectors is not None else {}
    return {"sources": sources, **extra}


def build_router(hub: Hub) -> APIRouter:
    """The router (always present: part of the backbone)."""
    return router
