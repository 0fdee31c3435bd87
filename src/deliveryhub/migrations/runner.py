"""Programmatic Alembic: upgrade any database URL to head, safely from several processes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from deliveryhub.adapters.persistence.database import Database

HERE = Path(__file__).parent


def alembic_config(target_metadata: sa.MetaData | None = None) -> Config:
    """An Alembic config pointing at the packaged migration scripts (with the full metadata for
    autogenerate: `alembic_config(deliveryhub.schema.all_tables())`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["target_metadata"] = target_metadata
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every pending migration."""
    cfg = alembic_config()
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            # Two processes starting at once must not both create the schema.
            conn.execute(sa.text("SELECT pg_advisory_lock(782311)"))
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if db.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(782311)"))
                conn.commit()


def current(db: Database) -> str | None:
    """The revision the database is at."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
