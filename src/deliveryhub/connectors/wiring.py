"""Plug the connectors into a hub: the polling and silence jobs, the health consumer, metrics, and the
``ConnectorsFeature`` handle (integration status for ``GET /v1/integrations``; the webhook router uses it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from deliveryhub.connectors import (
    config,
    health,
    marketplace_jobs,
    pushes,
    silence,
    trackerdelivery_webhook,
    writeback,
)
from deliveryhub.connectors.polling import JOB_NAME as POLL_JOB
from deliveryhub.connectors.polling import Poller, configured_carriers, polling_status
from deliveryhub.connectors.tracking_sources import tracking_sources
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

POLL_EVERY_S = 5.0
SILENCE_EVERY_S = 60.0


@dataclass
class ConnectorsFeature:
    """The wired connectors: the poller, the silence watch, and what ``GET /v1/integrations`` shows."""

    core: Core
    poller: Poller
    silence: silence.SilenceWatch
    lag: Gauge
    silent_gauge: Gauge

    def integration_status(self, now: datetime | None = None) -> dict[str, Any]:
        """Unknown raw statuses, polling health, silent sources, sources seen and webhook auth."""
        now = now or self.core.clock.now()
        with self.core.db.read() as conn:
            polling = polling_status(conn, self.poller.carriers, now)
            silent = silence.silence_status(conn, self.silence.rules, now)
            out = {
                "unknown_statuses": health.unknown_statuses(conn),
                "polling": polling,
                "silent_sources": silent,
                "sources_seen": health.sources_seen(conn),
            }
        out["webhooks"] = pushes.auth_status(self.core)
        for code, entry in polling.items():
            self.lag.labels(code).set(entry["lag_seconds"])
        self.silent_gauge.set(len(silent))
        return out


def _rules(core: Core) -> list[config.SilenceRule]:
    try:
        settings = config.load_connectors_config(config_file=core.settings.config_file)
    except ValueError:
        log.exception("connectors_config_unreadable")
        settings = {}
    try:
        return config.silence_rules(settings)
    except ValueError:
        log.exception("connectors_silence_rules_invalid")
        return config.silence_rules({}, env={})


def register(core: Core) -> ConnectorsFeature:
    """Wire the connectors into ``core`` (called by bootstrap) and return their handle."""
    registry = core.metrics.registry
    polls = Counter(
        "deliveryhub_connector_polls_total",
        "Carrier polls by result",
        ["carrier", "result"],
        registry=registry,
    )
    feature = ConnectorsFeature(
        core=core,
        # A carrier routed to a Korean tracking source (tracker.delivery, Sweet Tracker) is polled there.
        poller=Poller(
            core,
            carriers={**configured_carriers(), **tracking_sources(core)},
            on_poll=lambda carrier, result: polls.labels(carrier, result).inc(),
        ),
        silence=silence.SilenceWatch(core, _rules(core)),
        lag=Gauge(
            "deliveryhub_connector_poll_lag_seconds",
            "How overdue the oldest due parcel is",
            ["carrier"],
            registry=registry,
        ),
        silent_gauge=Gauge(
            "deliveryhub_silent_sources", "Sources silent during their business hours", registry=registry
        ),
    )
    core.health_handlers.append(health.make_handler(core.clock.now))  # rides integration_health
    core.health_handlers.append(writeback.intake_handler(core.clock.now))  # waybills to write back
    core.jobs.append(Job(writeback.JOB_NAME, writeback.EVERY_S, writeback.WritebackJob(core).run))
    marketplace_jobs.register(core)  # the marketplaces' catch-up polls (POLLERS)
    trackerdelivery_webhook.register(core)  # tracker.delivery webhook registration and renewal
    core.jobs.append(Job(POLL_JOB, POLL_EVERY_S, feature.poller.run))
    core.jobs.append(Job(silence.JOB_NAME, SILENCE_EVERY_S, feature.silence.run))
    return feature
