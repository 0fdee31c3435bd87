"""Plug the KPI feature into the hub: tables, engine service, API router, ops pages, alert job."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)


def _ensure_tables(hub: Any) -> None:
    """Create the KPI tables on databases migrated before this feature existed (idempotent)."""
    from deliveryhub.adapters.persistence.tables import metadata
    from deliveryhub.kpi import tables as kt

    metadata.create_all(
        hub.db.engine, tables=[kt.kpi_targets, kt.kpi_manual_values, kt.kpi_alerts], checkfirst=True
    )


def register(hub: Any) -> None:
    """Called by bootstrap(): routers, services and the kpi.alerts job."""
    from deliveryhub.entrypoints.web.pages import router as pages_router
    from deliveryhub.kpi.alerts import alerts_job
    from deliveryhub.kpi.api import router
    from deliveryhub.kpi.engine import engine_for

    try:
        _ensure_tables(hub)
    except Exception:  # a read-only replica: the tables come from migrations instead
        log.warning("kpi_tables_not_created")
    hub.routers.append(router)
    hub.routers.append(pages_router)
    hub.services["kpi_compute"] = lambda *a, **kw: engine_for(hub).compute(*a, **kw)
    hub.services["kpi_orders_behind"] = lambda *a, **kw: engine_for(hub).orders_behind(*a, **kw)
    hub.jobs.append(alerts_job(hub))
