"""bench shops at a small size through the CLI: both phases measured, both shops really served."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_shops_json_through_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "bench", "shops", "--json"]
        + ["--orders", "120", "--seconds", "4"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for phase in ("quiet", "flash"):
        for what in ("chat", "notice"):
            measured = out[phase][what]
            assert measured["n"] > 0, (phase, what)
            assert 0 < measured["p50_ms"] <= measured["p99_ms"], (phase, what)
    # The flash shop's events were accepted and applied; calm's customers were answered, never refused.
    assert out["flash_events"] > 500 and out["flash_events_per_s"] > 0
    assert out["chat_errors"] == 0
    assert out["ratio_chat_p50"] > 0 and out["ratio_notice_p50"] > 0
