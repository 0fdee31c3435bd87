"""Key-ordered multi-row writes (ingest, order locks) that stay correct when batches race on PostgreSQL.

Every statement here takes its row locks in one fixed key order (rows sorted by key, one multi-row
VALUES list, which PostgreSQL processes in list order), so two transactions touching overlapping keys
wait for each other instead of deadlocking, and a key inserted by a concurrent transaction is waited
for and then treated as existing, never a unique violation. SQLite runs the same SQL (one writer at a
time, so the locking is moot there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Bind parameters per statement stay far below PostgreSQL's 65,535 and SQLite's 32,766.
_MAX_PARAMS = 6000


def _processed(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """Rows flattened into one parameter list, each value through its column's bind processor."""
    processors = [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]
    flat: list[Any] = []
    for row in rows:
        for value, proc in zip(row, processors, strict=True):
            flat.append(proc(value) if proc is not None and value is not None else value)
    return flat


def insert_rows(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    action: str = "nothing",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT rows sorted by their `conflict` key; returns the `returning` columns of the rows inserted.

    `action` on a key that exists: "nothing" (skip it, no lock), "lock" (lock the existing row, change
    nothing: ON CONFLICT DO UPDATE … WHERE false), or a SET clause such as
    ``"n" = "t"."n" + excluded."n"`` (an additive upsert)."""
    if not rows:
        return []
    key_idx = [list(columns).index(c) for c in conflict]
    ordered = sorted(rows, key=lambda r: tuple(r[i] for i in key_idx))
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(f'"{c}"' for c in columns)
    target = ", ".join(f'"{c}"' for c in conflict)
    if action == "nothing":
        on_conflict = f"ON CONFLICT ({target}) DO NOTHING"
    elif action == "lock":
        first = conflict[0]
        on_conflict = f'ON CONFLICT ({target}) DO UPDATE SET "{first}" = excluded."{first}" WHERE false'
    else:
        on_conflict = f"ON CONFLICT ({target}) DO UPDATE SET {action}"
    tail = (" RETURNING " + ", ".join(f'"{c}"' for c in returning)) if returning else ""
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    per_statement = max(1, _MAX_PARAMS // len(columns))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(ordered), per_statement):
        chunk = ordered[start : start + per_statement]
        sql = (
            f'INSERT INTO "{table.name}" AS "t" ({cols}) VALUES '  # noqa: S608 (names are ours, values bound)
            + ", ".join([one] * len(chunk))
            + f" {on_conflict}{tail}"
        )
        result = conn.exec_driver_sql(sql, tuple(_processed(conn, table, columns, chunk)))
        if returning:
            out.extend(tuple(r) for r in result)
    return out


def lock_or_create(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
) -> set[Any]:
    """Lock the row of every key (creating the missing ones from `rows`) in key order; the keys created."""
    return {
        r[0]
        for r in insert_rows(conn, table, columns, rows, conflict=(key,), action="lock", returning=(key,))
    }


_INSERT_NEW: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], tuple[str, list[Any]]] = {}


def insert_new(
    conn: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    conflict: tuple[str, ...],
) -> int:
    """INSERT … ON CONFLICT DO NOTHING of rows sorted by their `conflict` key (one prepared statement,
    pipelined); returns how many were inserted. A key that a concurrent transaction is inserting is
    waited for, then skipped."""
    if not rows:
        return 0
    key = (conn.dialect.name, table.name, columns, conflict)
    cached = _INSERT_NEW.get(key)
    if cached is None:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cols = ", ".join(f'"{c}"' for c in columns)
        target = ", ".join(f'"{c}"' for c in conflict)
        sql = (
            f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join([mark] * len(columns))}) '  # noqa: S608
            f"ON CONFLICT ({target}) DO NOTHING"
        )
        cached = _INSERT_NEW[key] = (
            sql,
            [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns],
        )
    sql, processors = cached
    key_idx = [columns.index(c) for c in conflict]
    ordered = sorted(rows, key=lambda r: tuple(r[i] for i in key_idx))
    params = [
        tuple(
            proc(v) if proc is not None and v is not None else v
            for v, proc in zip(row, processors, strict=True)
        )
        for row in ordered
    ]
    return int(conn.exec_driver_sql(sql, params).rowcount)  # type: ignore[arg-type]
