"""Prometheus metrics of one hub (own registry, so tests can build many hubs)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from deliveryhub.service_layer.ingest import IngestStats


class Metrics:
    """Prometheus metrics of one hub (own registry, so tests can build many hubs)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "deliveryhub_events_total", "Ingested events by result", ["status"], registry=self.registry
        )
        self.unknown_status = Counter(
            "deliveryhub_unknown_raw_status_total",
            "Carrier statuses that could not be mapped",
            ["carrier"],
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "deliveryhub_outbox_lag", "Outbox rows not yet published", registry=self.registry
        )
        self.consumer_lag = Gauge(
            "deliveryhub_consumer_lag", "Messages not yet applied", ["consumer"], registry=self.registry
        )

    def observe_ingest(self, stats: IngestStats, _events: Any) -> None:
        """Count one ingest call."""
        self.events.labels("accepted").inc(stats.accepted)
        self.events.labels("duplicate").inc(stats.duplicate)
        self.events.labels("rejected").inc(stats.rejected)
        for carrier, _raw in stats.unknown_statuses:
            self.unknown_status.labels(carrier).inc()
