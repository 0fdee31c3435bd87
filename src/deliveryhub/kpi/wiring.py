"""Plug the KPI feature into the core: its tables, the engine and the `kpi.alerts` job; returns the
feature's handle for `Hub.kpi` (the HTTP API and the ops dashboard are in entrypoints)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from deliveryhub.adapters.persistence.tables import metadata
from deliveryhub.kpi import tables as kt
from deliveryhub.kpi.alerts import alerts_job
from deliveryhub.kpi.catalog import load_catalog
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)


@dataclass
class KpiFeature:
    """What the rest of the hub uses of the KPI feature (bootstrap puts it on `Hub.kpi`)."""

    engine: KpiEngine


def _ensure_tables(core: Core) -> None:
    """Create the KPI tables on databases migrated before this feature existed (idempotent)."""
    metadata.create_all(
        core.db.engine, tables=[kt.kpi_targets, kt.kpi_manual_values, kt.kpi_alerts], checkfirst=True
    )


def register(core: Core) -> KpiFeature:
    """Build the engine (catalog from the settings' config file) and add the kpi.alerts job; the handle."""
    try:
        _ensure_tables(core)
    except Exception:  # a read-only replica: the tables come from migrations instead
        log.warning("kpi_tables_not_created")
    catalog = load_catalog(config_file=core.settings.config_file)
    engine = KpiEngine(core.db, catalog=catalog, now=core.clock.now)
    core.jobs.append(alerts_job(core, engine))
    return KpiFeature(engine=engine)
