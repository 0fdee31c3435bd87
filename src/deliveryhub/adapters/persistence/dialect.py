"""The one SQLite/PostgreSQL switch: insert-or-ignore, upsert and GREATEST written once for both dialects.

Both dialects speak ``INSERT … ON CONFLICT (…) DO NOTHING / DO UPDATE SET … = excluded.…``; only the
SQLAlchemy construct that renders it differs, and SQLite spells GREATEST as the scalar MAX(). Rows are
written in key order, so two PostgreSQL transactions upserting overlapping keys wait for each other
instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

Row = Mapping[str, Any]


def is_postgres(conn: Connection | str) -> bool:
    """Whether `conn` (or a dialect name) is PostgreSQL; everything else here is SQLite."""
    name = conn if isinstance(conn, str) else conn.dialect.name
    return name == "postgresql"


def insert(conn: Connection | str, table: sa.Table) -> Any:
    """The dialect's INSERT construct for `table` (it has on_conflict_do_nothing/on_conflict_do_update)."""
    if is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)


def excluded(table: sa.Table, name: str) -> sa.ColumnElement[Any]:
    """The value a conflicting row tried to insert (``excluded.<name>``), for `upsert` update maps."""
    return sa.literal_column(f'excluded."{name}"', type_=table.c[name].type)


def greatest(conn: Connection | str, *values: Any) -> sa.ColumnElement[Any]:
    """The largest of several SQL expressions or values (GREATEST; scalar MAX() on SQLite)."""
    if is_postgres(conn):
        return sa.func.greatest(*values)
    return sa.func.max(*values)


def _in_key_order(rows: Sequence[Row], keys: Sequence[str]) -> list[Row]:
    if not keys or len(rows) < 2:
        return list(rows)
    return sorted(rows, key=lambda r: tuple((True, "") if r.get(k) is None else (False, r[k]) for k in keys))


def insert_or_ignore(
    conn: Connection, table: sa.Table, rows: Sequence[Row], index_elements: Sequence[str] = ()
) -> int:
    """Insert rows, skipping those that collide on `index_elements` (any unique key when empty).

    Returns how many rows were inserted."""
    if not rows:
        return 0
    stmt = insert(conn, table).on_conflict_do_nothing(index_elements=list(index_elements) or None)
    ordered = _in_key_order(rows, index_elements)
    # psycopg's row count is unknown (-1) here, and several rows go out as multi-row VALUES (SQLAlchemy's
    # insertmanyvalues): the rows RETURNING answers for are the ones inserted.
    key = list(table.primary_key.columns) or [next(iter(table.columns))]
    params = dict(ordered[0]) if len(ordered) == 1 else [dict(r) for r in ordered]
    return len(conn.execute(stmt.returning(*key), params).all())


def insert_or_ignore_returning(
    conn: Connection,
    table: sa.Table,
    row: Row,
    returning: sa.ColumnElement[Any],
    index_elements: Sequence[str] = (),
) -> Any | None:
    """Insert one row unless it collides on a unique key; the `returning` value of the new row, or None."""
    stmt = (
        insert(conn, table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=list(index_elements) or None)
        .returning(returning)
    )
    found = conn.execute(stmt).first()
    return found[0] if found is not None else None


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Row],
    index_elements: Sequence[str],
    update: Sequence[str] | Mapping[str, Any] | None = None,
) -> int:
    """Insert rows; a row whose `index_elements` exist updates it instead.

    `update` names the columns taken from the new row (default: every non-key column of the first row),
    or maps columns to SQL expressions, e.g. ``{"n": table.c.n + excluded(table, "n")}``. With nothing to
    update this is `insert_or_ignore`. Returns how many rows were written (each one inserts or updates).
    Rows go one statement each (executemany), so one key may appear twice."""
    if not rows:
        return 0
    if update is None:
        update = [c for c in rows[0] if c not in index_elements]
    if isinstance(update, Mapping):
        set_: dict[str, Any] = dict(update)
    else:
        set_ = {c: excluded(table, c) for c in update}
    if not set_:
        return insert_or_ignore(conn, table, rows, index_elements)
    stmt = insert(conn, table).on_conflict_do_update(index_elements=list(index_elements), set_=set_)
    ordered = _in_key_order(rows, index_elements)
    conn.execute(stmt, dict(ordered[0]) if len(ordered) == 1 else [dict(r) for r in ordered])
    return len(ordered)
