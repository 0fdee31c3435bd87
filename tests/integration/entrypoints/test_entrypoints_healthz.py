"""/healthz under probes and with its database gone: it answers many probes a second while asking the
database at most once a second, and a dead database turns it into an error answer, not a hang or a stale
"ok" for longer than that second."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.entrypoints.api.routers import system
from dh_testkit import make_hub

pytestmark = [pytest.mark.postgres]


def _statements(hub: Any) -> list[str]:
    seen: list[str] = []
    sa.event.listen(hub.db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_probes_ask_the_database_once_a_second_and_see_it_die(
    tmp_path: Path, master_key: str, pg_url: str, postgres_admin: str
) -> None:
    hub = make_hub(tmp_path, master_key, db_url=pg_url)
    name = pg_url.rsplit("/", 1)[1]
    admin = sa.create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            seen = _statements(hub)
            answers = [client.get("/healthz") for _ in range(20)]
            assert all(a.status_code == 200 and a.json()["db"] == "postgresql" for a in answers)
            assert sum("SELECT 1" in s for s in seen) <= 2  # 20 probes well inside two seconds
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.exec_driver_sql(
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                )
            hub.db.engine.dispose()
            time.sleep(system.DB_CHECK_EVERY_S + 0.1)  # the last good check is now older than its window
            down = client.get("/healthz")
            assert down.status_code >= 500
            assert down.headers["content-type"].startswith("application/json")
            assert "ok" not in down.text.lower().split('"status"')[-1][:10]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.dispose()
        hub.close()
