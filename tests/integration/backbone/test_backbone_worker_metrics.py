"""`deliveryhub worker --metrics-port` on PostgreSQL + NATS: a worker has no HTTP API, yet an operator can
scrape what it relays and applies (per consumer) and its process CPU."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from worker_procs import batch, settle, stream_rig

from dh_testkit import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples of one scrape keyed by (name, sorted labels)."""
    text = httpx.get(url, timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_a_worker_serves_its_consumer_and_relay_metrics(
    tmp_path: Path, master_key: str, pg_url: str, nats_url: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with stream_rig(tmp_path, master_key, pg_url, nats_url, "M") as rig:
        rig.start("--metrics-port", str(port))
        accepted = sum(r.status == "accepted" for r in rig.hub.ingest.ingest(batch(0, size=40)))
        outbox, processed, counted, unpublished = settle(rig.hub, accepted, 120)
        assert unpublished == 0 and counted == accepted, rig.log.read_text()[-2000:]
        found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                found = scrape(url)
            except httpx.HTTPError:
                found = {}
            if found.get(("deliveryhub_relay_published_total", ()), 0) >= outbox:
                break
            time.sleep(0.5)
        assert found.get(("deliveryhub_relay_published_total", ()), 0) >= outbox, rig.log.read_text()[-2000:]
        health = ("deliveryhub_consumer_messages_applied_total", (("consumer", "integration_health"),))
        assert found.get(health, 0) >= accepted
        assert found.get(("process_cpu_seconds_total", ()), 0) > 0
