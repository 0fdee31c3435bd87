"""`run_demo(shops=2)` (what `deliveryhub demo --shops 2` runs) as a real subprocess: a second simulated
seller with its own key and traffic, and the platform operator who sees both on GET /v1/shops and
/platform. A small demo (one day of history, 20 orders a day): this checks the wiring, not the volume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dh_testkit import free_port, stop_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_demo_with_two_shops_shows_both_sellers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DELIVERYHUB_DB_URL", None)
    env.pop("DELIVERYHUB_BUS_URL", None)
    code = (
        "from deliveryhub.simulator.demo import run_demo; "
        f"run_demo(db_url='sqlite:///{tmp_path}/var/demo.db', port={port}, orders_per_day=20, "
        "history_days=1, open_browser=False, shops=2)"
    )
    log_path = tmp_path / "demo.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 480  # a guard against a hung demo, not a performance check
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            if "deliveryhub demo" in log_path.read_text(errors="replace"):
                break
            time.sleep(1)
        out = log_path.read_text(errors="replace")
        assert "deliveryhub demo" in out, out[-3000:]
        state = json.loads((tmp_path / "var" / "demo-state.json").read_text())
        operator, seller = state["platform"], state["sellers"]["seller-2"]
        assert operator["api_key"] in out and operator["login"]["password"] in out
        assert seller["api_key"].startswith("dhk_seller-2.") and seller["api_key"] in out
        assert "/platform" in out
        headers = {"Authorization": f"Bearer {operator['api_key']}"}
        shops = httpx.get(base + "/v1/shops", headers=headers, timeout=120)
        assert shops.status_code == 200, shops.text
        rows = {s["slug"]: s for s in shops.json()["shops"]}
        assert list(rows) == ["default", "seller-2"]
        assert rows["seller-2"]["name"] == "바다상회"
        assert rows["default"]["usage"]["events"] > 0 and rows["seller-2"]["usage"]["events"] > 0
        # The seller's own key reads its own orders only (its shop's app), never the platform's list.
        own = httpx.get(base + "/v1/shops", headers={"Authorization": f"Bearer {seller['api_key']}"})
        assert own.status_code == 404
        login = httpx.post(base + "/v1/auth/login", json=operator["login"], timeout=60)
        assert login.status_code == 200, login.text
        page = httpx.get(base + "/platform", cookies={"dh_session": login.json()["token"]}, timeout=120)
        assert page.status_code == 200 and "바다상회" in page.text
    finally:
        stop_process(proc, signal.SIGINT, timeout=30)
        log.close()
    assert "resume" in log_path.read_text(errors="replace")
