"""/metrics as an operator scrapes it: latency per route template (never a raw path, so a scanner cannot
grow the label set), consumers' applied messages and apply time, relay publications, chat turns and
the standard process collectors — fed by real requests through a served hub with its worker running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import event, make_hub


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a Prometheus text exposition as (name, labels, value)."""
    return [(s.name, s.labels, s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`."""
    return sum(v for n, ls, v in samples(text) if n == name and labels.items() <= ls.items())


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """A hub served with its worker (relay + consumers) running; ops and integration credentials."""
    hub = make_hub(tmp_path, master_key)
    ops = {"Authorization": "Bearer " + create_api_key(hub.db, "ops", "ops")}
    oms = {"Authorization": "Bearer " + create_api_key(hub.db, "oms", "integration")}
    try:
        with TestClient(create_app(hub, run_worker=True)) as client:
            yield client, ops, oms
    finally:
        hub.close()


def created(oid: str) -> dict[str, Any]:
    return event(f"{oid}-c", "order.created", oid, "2026-11-02T10:00:00+09:00", {"items": [{"sku": "A"}]})


def test_latency_by_route_template_and_one_label_for_unmatched_paths(served: Any) -> None:
    client, ops, oms = served
    assert client.post("/v1/events", json={"events": [created("M-1")]}, headers=oms).status_code == 200
    for _ in range(3):
        assert client.get("/v1/orders/M-1", headers=ops).status_code == 200
    assert client.get("/v1/orders/M-404", headers=ops).status_code == 404
    for i in range(20):  # a scanner
        assert client.get(f"/wp-admin/probe-{i}.php").status_code == 404
    text = client.get("/metrics", headers=ops).text
    name = "deliveryhub_http_request_duration_seconds_count"
    assert value(text, name, method="GET", route="/v1/orders/{order_id}", status="200") == 3
    assert value(text, name, method="GET", route="/v1/orders/{order_id}", status="404") == 1
    assert value(text, name, method="POST", route="/v1/events", status="200") == 1
    assert value(text, name, route="<unmatched>", status="404") == 20
    routes = {ls.get("route") for n, ls, _ in samples(text) if n == name}
    assert not any("M-1" in (r or "") or "probe" in (r or "") for r in routes), routes
    assert value(text, "process_cpu_seconds_total") > 0  # the standard collectors are in the hub's registry


def test_consumers_and_relay_report_what_they_applied(served: Any) -> None:
    client, ops, oms = served
    body = {"events": [created(f"M-{i}") for i in range(5)]}
    assert client.post("/v1/events", json=body, headers=oms).status_code == 200
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        text = client.get("/metrics", headers=ops).text
        if value(text, "deliveryhub_consumer_messages_applied_total", consumer="monitors") >= 5:
            break
        time.sleep(0.2)
    assert value(text, "deliveryhub_relay_published_total") >= 5
    assert value(text, "deliveryhub_consumer_messages_applied_total", consumer="monitors") >= 5
    assert value(text, "deliveryhub_consumer_apply_seconds_count", consumer="monitors") >= 1


def test_a_chat_turn_is_timed(served: Any) -> None:
    client, ops, _ = served
    session = client.post("/v1/chat/sessions", json={}).json()
    sid = session.get("session_id") or session.get("id")
    answer = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": "배송 언제 와요?"})
    assert answer.status_code == 200, answer.text
    text = client.get("/metrics", headers=ops).text
    assert value(text, "deliveryhub_chat_turn_seconds_count") == 1
