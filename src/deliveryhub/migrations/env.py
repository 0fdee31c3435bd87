"""Alembic environment: runs migrations on the connection handed in by `run_migrations`."""

from __future__ import annotations

from alembic import context

# The full metadata (deliveryhub.schema.all_tables) only matters to autogenerate; whoever runs that passes
# it in, so the migration scripts need not import every feature.
target_metadata = context.config.attributes.get("target_metadata")
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through deliveryhub.migrations.runner.upgrade()")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
