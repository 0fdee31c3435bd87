"""Column helpers shared by the query modules: name the columns of one table once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence.types import BigId, UTCDateTime
from deliveryhub.kernel.timefmt import iso


def columns(table: sa.Table, *names: str) -> list[sa.Column[Any]]:
    """The named columns of `table`, in the order given.

    `sa.select(*columns(t.parcels, "carrier", "status"))` reads as the table named once.
    """
    return [table.c[name] for name in names]


def json_row(row: Any) -> dict[str, Any]:
    """A result row as a JSON-ready dict: its columns by name, dates and times as ISO-8601 text."""
    return {name: iso(value) for name, value in row._mapping.items()}


# Column factories for the table modules, like ORM mixins: each table says what it holds, not how.


def id_column() -> sa.Column[int]:
    """The time-ordered surrogate key `id` (rowid on SQLite, identity on PostgreSQL)."""
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def timestamp(name: str, **kwargs: Any) -> sa.Column[datetime]:
    """A UTC timestamp column (`UTCDateTime`); nullable unless told otherwise."""
    return sa.Column(name, UTCDateTime(), **kwargs)


# The identifiers every feature keys its rows by, one width each.
def order_id_column(**kwargs: Any) -> sa.Column[str]:
    """`order_id`: the shop's order id."""
    return sa.Column("order_id", sa.String(128), **kwargs)


def shipment_id_column(**kwargs: Any) -> sa.Column[str]:
    """`shipment_id`: one parcel of an order."""
    return sa.Column("shipment_id", sa.String(128), **kwargs)


def customer_id_column(**kwargs: Any) -> sa.Column[str]:
    """`customer_id`: the customer, whose personal data lives in `customers`."""
    return sa.Column("customer_id", sa.String(40), **kwargs)


def source_column(**kwargs: Any) -> sa.Column[str]:
    """`source`: the system an event or push came from."""
    return sa.Column("source", sa.String(72), **kwargs)
