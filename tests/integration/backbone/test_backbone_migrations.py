"""Migrations: a database upgraded to head has exactly the schema the code declares (SQLite and PostgreSQL),
and downgrading to base removes it. A change to tables.py without a revision fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.migrations import runner
from deliveryhub.schema import all_tables


def _differences(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, all_tables()))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_backbone_head_schema_equals_declared_tables(dialect: str, tmp_path: Path, request: Any) -> None:
    url = f"sqlite:///{tmp_path}/m.db" if dialect == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    try:
        runner.upgrade(db)
        assert runner.current(db) is not None
        diffs = _differences(db)
        assert diffs == [], f"schema differs from tables.py (add a migration): {diffs[:5]}"
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(all_tables().tables) <= tables
        runner.upgrade(db)  # idempotent at head
        cfg = runner.alembic_config()
        with db.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
            conn.commit()
        left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
    finally:
        db.dispose()


def test_backbone_migration_check_sees_an_undeclared_column(tmp_path: Path) -> None:
    """The comparison is not vacuous: a column the migrations did not create is reported."""
    db = Database(f"sqlite:///{tmp_path}/m.db")
    try:
        runner.upgrade(db)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN surprise TEXT")
        diffs = _differences(db)
        assert any("surprise" in repr(d) for d in diffs)
    finally:
        db.dispose()
