"""Storage through SQLAlchemy 2 Core: SQLite (embedded default) and PostgreSQL."""
