"""Column helpers shared by the query modules: name the columns of one table once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence.types import BigId, UTCDateTime


def columns(table: sa.Table, *names: str) -> list[sa.Column[Any]]:
    """The named columns of `table`, in the order given.

    `sa.select(*columns(t.parcels, "carrier", "status"))` reads as the table named once.
    """
    return [table.c[name] for name in names]


# Column factories for the table modules, like ORM mixins: each table says what it holds, not how.


def id_column() -> sa.Column[int]:
    """The time-ordered surrogate key `id` (rowid on SQLite, identity on PostgreSQL)."""
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def timestamp(name: str, **kwargs: Any) -> sa.Column[datetime]:
    """A UTC timestamp column (`UTCDateTime`); nullable unless told otherwise."""
    return sa.Column(name, UTCDateTime(), **kwargs)
