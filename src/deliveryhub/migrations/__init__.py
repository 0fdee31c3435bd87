"""Alembic migrations (run by `deliveryhub db upgrade`, and automatically by serve/demo)."""
