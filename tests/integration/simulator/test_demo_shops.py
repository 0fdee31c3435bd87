"""The demo's extra sellers (simulator/demo_shops.py): made once, resumed from the state, each its own
shop with its own key; the platform operator made once; --shops out of range named."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import authenticate_key
from deliveryhub.simulator import demo_shops
from dh_testkit import make_hub


def test_sellers_are_made_once_and_resumed(tmp_path: Path) -> None:
    hub = make_hub(tmp_path, base64.b64encode(secrets.token_bytes(32)).decode())
    app = create_platform_app(hub, run_worker=False)
    try:
        now = datetime.now(UTC)
        state: dict[str, object] = {"seed": 7}
        operator = demo_shops.ensure_operator(hub, state)
        assert demo_shops.ensure_operator(hub, state) == operator
        principal = authenticate_key(hub.db, operator["api_key"], now)
        assert principal is not None and principal.role == "platform"
        first = demo_shops.prepare_sellers(app.hubs, state, 3, now, 2, 300)
        assert [(s.slug, s.name) for s in first] == [("seller-2", "바다상회"), ("seller-3", "하늘마켓")]
        assert [s.state["orders_per_day"] for s in first] == [100, 75]
        for seller in first:
            key = seller.state["api_key"]
            assert key.startswith(f"dhk_{seller.slug}.")
            assert authenticate_key(seller.hub.db, key, now) is not None
            assert authenticate_key(hub.db, key, now) is None  # the seller's key lives in its shop only
        again = demo_shops.prepare_sellers(app.hubs, state, 3, now, 2, 300)
        assert [s.state["api_key"] for s in again] == [s.state["api_key"] for s in first]
        assert [s.slug for s in app.hubs.directory.list()] == ["default", "seller-2", "seller-3"]
        lines = "\n".join(demo_shops.welcome_lines(state, again, "http://127.0.0.1:8000"))
        assert "http://127.0.0.1:8000/platform" in lines and operator["api_key"] in lines
    finally:
        app.hubs.close()
        hub.close()


@pytest.mark.parametrize("shops", [0, demo_shops.MAX_SHOPS + 1])
def test_shops_out_of_range_is_named(shops: int) -> None:
    with pytest.raises(ValueError, match="--shops"):
        demo_shops.check_shops(shops)
