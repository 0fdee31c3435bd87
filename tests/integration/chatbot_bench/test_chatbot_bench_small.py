"""bench chat at a small size through the CLI: the JSON keys, a real server answering verified questions."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_chat_json_through_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "bench", "chat", "--json"]
        + ["--orders", "60", "--seconds", "3", "--rate", "6"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("p50_ms", "p99_ms", "nlu_messages_per_s"):  # the keys the issue names
        assert isinstance(out[key], float) and out[key] > 0, key
    assert out["p50_ms"] <= out["p99_ms"]
    assert out["offered_messages_per_s"] == 6.0 and out["mode"] == "embedded"
    # Every conversation is question → last four digits → follow-up; each verification answers with the
    # parcel's tracking number (the server really looked the order up).
    assert out["messages"] >= 3 and out["messages"] % 3 == 0
    assert out["verified_answers"] == out["messages"] // 3
    sat = out["saturated"]
    assert sat["concurrency"] == 4 and sat["messages_per_s"] > 0 and sat["p50_ms"] <= sat["p99_ms"]


def test_bench_rate_only_for_chat() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "bench", "ingest", "--rate", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--rate" in proc.stderr
