"""Shops on PostgreSQL: each shop's rows in its own schema; a session without the shop's schema sees none."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_platform_app
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.shops.hubs import schema_name
from dh_testkit import drain, make_hub, order_created


def test_a_shop_lives_in_its_own_schema(pg_url: str, tmp_path: Path) -> None:
    platform = make_hub(tmp_path, base64.b64encode(secrets.token_bytes(32)).decode(), db_url=pg_url)
    app = create_platform_app(platform, run_worker=False)
    try:
        app.hubs.directory.create("가나다 상점", "shop-a", platform.clock.now())
        hub_a = app.hubs.hub("shop-a")
        assert hub_a is not None
        key = create_api_key(hub_a.db, "a-system", "integration", shop="shop-a")
        with TestClient(app) as client:
            event = order_created(
                "a-1", "ORD-1", "2026-12-01T10:00:00+09:00", {"name": "김가나", "phone": "010-1111-2222"}
            )
            res = client.post("/v1/events", json=[event], headers={"Authorization": f"Bearer {key}"})
            assert res.status_code in (200, 202), res.text
            drain(hub_a)
            read = client.get("/v1/orders/ORD-1", headers={"Authorization": f"Bearer {key}"})
            assert read.status_code == 200
        # A plain session on the same database (no shop chosen) sees none of A's rows...
        engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one() == 0
            # ...and they are there, in the shop's schema.
            in_schema = f'SELECT count(*) FROM "{schema_name("shop-a")}".orders'
            assert conn.execute(sa.text(in_schema)).scalar_one() == 1
        app.hubs.erase("shop-a")
        with engine.connect() as conn:
            listed = sa.text("SELECT schema_name FROM information_schema.schemata")
            schemas = conn.execute(listed).scalars().all()
        assert schema_name("shop-a") not in schemas
        engine.dispose()
    finally:
        app.hubs.close()
        platform.close()
