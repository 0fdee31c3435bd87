"""Plug the connectors into a hub: webhook routes, the polling and silence jobs, the health consumer,
metrics, and the ``integration_status`` service merged into ``GET /v1/integrations``."""

from __future__ import annotations

from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from deliveryhub.adapters.connectors import runtime, silence, status, webhooks
from deliveryhub.adapters.connectors.polling import JOB_NAME as POLL_JOB
from deliveryhub.adapters.connectors.polling import Poller, polling_status
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

POLL_EVERY_S = 5.0
SILENCE_EVERY_S = 60.0


def register(hub: Any) -> None:
    """Wire the connectors into ``hub`` (called by bootstrap)."""
    try:
        config = runtime.load_connectors_config()
    except ValueError:
        log.exception("connectors_config_unreadable")
        config = {}
    try:
        rules = runtime.silence_rules(config)
    except ValueError:
        log.exception("connectors_silence_rules_invalid")
        rules = runtime.silence_rules({}, env={})
    polls = Counter(
        "deliveryhub_connector_polls_total",
        "Carrier polls by result",
        ["carrier", "result"],
        registry=hub.metrics.registry,
    )
    lag = Gauge(
        "deliveryhub_connector_poll_lag_seconds",
        "How overdue the oldest due parcel is",
        ["carrier"],
        registry=hub.metrics.registry,
    )
    silent_gauge = Gauge(
        "deliveryhub_silent_sources",
        "Sources silent during their business hours",
        registry=hub.metrics.registry,
    )
    poller = Poller(hub, on_poll=lambda carrier, result: polls.labels(carrier, result).inc())
    watch = silence.SilenceWatch(hub, rules)

    def integration_status() -> dict[str, Any]:
        """Unknown raw statuses, polling health, silent sources, webhook auth (for GET /v1/integrations)."""
        now = hub.clock.now()
        with hub.db.read() as conn:
            polling = polling_status(conn, poller.carriers, now)
            silent = silence.silence_status(conn, watch.rules, now)
            out = {
                "unknown_statuses": status.unknown_statuses(conn),
                "polling": polling,
                "silent_sources": silent,
                "sources_seen": status.sources_seen(conn),
            }
        out["webhooks"] = webhooks.auth_status(hub)
        for code, entry in polling.items():
            lag.labels(code).set(entry["lag_seconds"])
        silent_gauge.set(len(silent))
        return out

    hub.routers.append(webhooks.router)
    hub.consumers.append(status.health_consumer(hub.clock.now))
    hub.jobs.append(Job(POLL_JOB, POLL_EVERY_S, poller.run))
    hub.jobs.append(Job(silence.JOB_NAME, SILENCE_EVERY_S, watch.run))
    hub.services["integration_status"] = integration_status
    hub.services["connectors_poller"] = poller
    hub.services["connectors_silence"] = watch
