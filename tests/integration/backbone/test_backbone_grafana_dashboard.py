"""docs/grafana-dashboard.json reads only metric names the hub exposes, so the sample dashboard cannot drift
from /metrics (a renamed metric fails here, not on an operator's empty panel)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import generate_latest

from deliveryhub.service_layer.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana-dashboard.json"
SUFFIXES = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("", "_total"), "gauge": ("",)}


def exposed_names() -> set[str]:
    """Every sample name a fresh hub's registry can expose (histogram parts included)."""
    text = generate_latest(Metrics().registry).decode()
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        names.update(name + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def test_every_panel_reads_metrics_the_hub_exposes() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert len(exprs) >= 16
    used = {m for e in exprs for m in re.findall(r"\b((?:deliveryhub|process|python)_[a-z_]+)\b", e)}
    missing = used - exposed_names()
    assert not missing, f"the dashboard reads metrics /metrics does not have: {sorted(missing)}"
    # The operator's questions of issue 17 each have a panel.
    for wanted in (
        "deliveryhub_http_request_duration_seconds_bucket",
        "deliveryhub_consumer_messages_applied_total",
        "deliveryhub_consumer_apply_seconds_bucket",
        "deliveryhub_relay_published_total",
        "deliveryhub_notifications_total",
        "deliveryhub_notification_latency_seconds_bucket",
        "deliveryhub_chat_turn_seconds_bucket",
        "process_cpu_seconds_total",
    ):
        assert wanted in used, wanted
