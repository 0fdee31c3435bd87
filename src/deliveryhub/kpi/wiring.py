"""Plug the KPI feature into the core: the engine and the `kpi.alerts` job; returns the
feature's handle for `Hub.kpi` (the HTTP API and the ops dashboard are in entrypoints)."""

from __future__ import annotations

from dataclasses import dataclass

from deliveryhub.kpi.alerts import alerts_job
from deliveryhub.kpi.catalog import load_catalog
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.service_layer.hub import Core


@dataclass
class KpiFeature:
    """What the rest of the hub uses of the KPI feature (bootstrap puts it on `Hub.kpi`)."""

    engine: KpiEngine


def register(core: Core) -> KpiFeature:
    """Build the engine (catalog from the settings' config file) and add the kpi.alerts job; the handle."""
    catalog = load_catalog(config_file=core.settings.config_file)
    engine = KpiEngine(core.db, catalog=catalog, now=core.clock.now)
    core.jobs.append(alerts_job(core, engine))
    return KpiFeature(engine=engine)
