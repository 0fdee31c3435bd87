"""A shop erased by another process while `serve` runs: within the recheck interval the server stops
serving it (404) and stops its in-process worker; the other shops go on."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

import httpx
import pytest

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.shops import hubs as shop_hubs
from deliveryhub.shops.hubs import ShopHubs
from dh_testkit import make_hub, serving


def test_erased_elsewhere_stops_being_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop_hubs, "RECHECK_SECONDS", 0.0)
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    platform = make_hub(tmp_path, master)
    app = create_platform_app(platform, run_worker=True)
    now = platform.clock.now()
    app.hubs.directory.create("가나다 상점", "shop-a", now)
    app.hubs.directory.create("라마바 상점", "shop-b", now)
    keys = {}
    for slug in ("shop-a", "shop-b"):
        hub = app.hubs.hub(slug)
        assert hub is not None
        keys[slug] = create_api_key(hub.db, "ops", "ops", shop=slug)
    try:
        with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            for slug in ("shop-a", "shop-b"):
                res = client.get("/v1/orders?limit=1", headers={"Authorization": f"Bearer {keys[slug]}"})
                assert res.status_code == 200, res.text
            worker_b = app.apps["shop-b"].state.worker
            assert worker_b._thread is not None and worker_b._thread.is_alive()
            # Another process (the CLI) erases shop B.
            other = make_hub(tmp_path, master)
            try:
                ShopHubs(other).erase("shop-b")
            finally:
                other.close()
            res = client.get("/v1/orders?limit=1", headers={"Authorization": f"Bearer {keys['shop-b']}"})
            assert res.status_code == 404
            deadline = time.monotonic() + 30
            while worker_b._thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not worker_b._thread.is_alive()
            res = client.get("/v1/orders?limit=1", headers={"Authorization": f"Bearer {keys['shop-a']}"})
            assert res.status_code == 200
    finally:
        app.hubs.close()
        platform.close()
