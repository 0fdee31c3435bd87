"""Prometheus metrics of one hub (own registry, so tests can build many hubs).

What an operator watches in production: ingest results, lags, request latency per route template,
each consumer's applied messages and apply time, relay publications, notification outcomes and latency
per channel, chat turn latency, and the standard process / Python collectors (CPU, memory, GC).
docs/grafana-dashboard.json reads these names.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy.engine import Connection

from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.service_layer.ingest import IngestStats

# Histogram buckets (seconds): requests and batches are fast; notices wait on providers and queues.
FAST_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
NOTICE_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)


class Metrics:
    """Prometheus metrics of one hub (own registry, so tests can build many hubs)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()

        def counter(name: str, documentation: str, *labels: str) -> Counter:
            return Counter(name, documentation, labels, registry=registry)

        def gauge(name: str, documentation: str, *labels: str) -> Gauge:
            return Gauge(name, documentation, labels, registry=registry)

        def histogram(name: str, documentation: str, buckets: tuple[float, ...], *labels: str) -> Histogram:
            return Histogram(name, documentation, labels, buckets=buckets, registry=registry)

        self.events = counter("deliveryhub_events_total", "Ingested events by result", "status")
        self.unknown_status = counter(
            "deliveryhub_unknown_raw_status_total", "Carrier statuses that could not be mapped", "carrier"
        )
        self.outbox_lag = gauge("deliveryhub_outbox_lag", "Outbox rows not yet published")
        self.consumer_lag = gauge("deliveryhub_consumer_lag", "Messages not yet applied", "consumer")
        # Route *templates* only (`/v1/orders/{order_id}`), never raw paths: a scanner probing random
        # URLs must not grow the label set (unmatched requests share one label).
        self.http_duration = histogram(
            "deliveryhub_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            FAST_S,
            "method",
            "route",
            "status",
        )
        self.consumer_applied = counter(
            "deliveryhub_consumer_messages_applied_total", "Messages each consumer applied", "consumer"
        )
        self.consumer_apply = histogram(
            "deliveryhub_consumer_apply_seconds",
            "One consumer batch inside its transaction",
            FAST_S,
            "consumer",
        )
        self.relay_published = counter("deliveryhub_relay_published_total", "Outbox messages published")
        self.notifications = counter(
            "deliveryhub_notifications_total",
            "Notification attempts by channel and outcome (sent, delivered, retry, dead, failed, suppressed)",
            "channel",
            "outcome",
        )
        self.notification_latency = histogram(
            "deliveryhub_notification_latency_seconds",
            "From when a notice could be sent (after quiet hours) until its channel accepted it",
            NOTICE_S,
            "channel",
        )
        self.chat_turn = histogram(
            "deliveryhub_chat_turn_seconds", "One chatbot turn: customer message in, answer out", FAST_S
        )
        # The standard collectors, into this hub's own registry (the global one is not served).
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

    def instrumented(self, consumer: Consumer) -> Consumer:
        """`consumer` with its batches counted and timed (`deliveryhub_consumer_*`); the same name."""
        handle, name = consumer.handle, consumer.name
        applied, apply_time = self.consumer_applied.labels(name), self.consumer_apply.labels(name)

        def timed(conn: Connection, messages: Sequence[Message]) -> None:
            started = time.perf_counter()
            handle(conn, messages)
            apply_time.observe(time.perf_counter() - started)
            applied.inc(len(messages))

        return replace(consumer, handle=timed)

    def observe_ingest(self, stats: IngestStats, _events: Any) -> None:
        """Count one ingest call."""
        self.events.labels("accepted").inc(stats.accepted)
        self.events.labels("duplicate").inc(stats.duplicate)
        self.events.labels("rejected").inc(stats.rejected)
        for carrier, _raw in stats.unknown_statuses:
            self.unknown_status.labels(carrier).inc()
