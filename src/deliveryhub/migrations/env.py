"""Alembic environment: runs migrations on the connection handed in by `run_migrations`."""

from __future__ import annotations

from alembic import context

from deliveryhub.adapters.persistence.tables import all_tables

target_metadata = all_tables()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through deliveryhub.migrations.runner.upgrade()")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
