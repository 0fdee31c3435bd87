"""Raw-cursor IN lists on PostgreSQL: parameter names like :i1 and :i10 must not collide."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deliveryhub.kpi.snapshot import _in_chunks

pytestmark = pytest.mark.postgres


def test_in_chunks_with_more_than_ten_ids_on_postgres(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id text primary key, v int)")
            conn.exec_driver_sql("INSERT INTO t SELECT 'o' || g, g FROM generate_series(1, 30) g")
            ids = [f"o{i}" for i in range(1, 26)]
            rows = _in_chunks(
                conn, "SELECT id, v::int FROM t WHERE id IN :ids AND v >= :low", ids, {"low": 5}
            )
        assert sorted(r[1] for r in rows) == list(range(5, 26))
    finally:
        engine.dispose()
