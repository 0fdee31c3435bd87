"""Engine creation and transaction helpers; driver errors are translated at this boundary."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from deliveryhub.adapters.persistence import dialect


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class _Waiter:
    __slots__ = ("urgent", "granted", "overtaken")

    def __init__(self, urgent: bool) -> None:
        self.urgent = urgent
        self.granted = False
        self.overtaken = 0  # urgent writers let in ahead of this (normal) one while it waited


class WriteGate:
    """In-process queue for SQLite's single writer: urgent writers (ingest) first, but no one starves.

    SQLite's own busy handler polls with growing sleeps, so a thread that writes in a loop (a
    consumer with a backlog) can starve an HTTP ingest for seconds. Within one process this gate
    hands the write lock over explicitly, in arrival order, except that a waiting urgent writer may
    overtake waiting normal ones -- at most `max_overtaken` times each: a normal writer passed over
    that often goes next, so a continuous stream of ingest cannot starve a consumer (the bound is a
    count, not a time, so it holds however slow or loaded the box is). Across processes SQLite's
    busy timeout still applies."""

    def __init__(self, max_overtaken: int = 4) -> None:
        self.max_overtaken = max_overtaken
        self._cond = threading.Condition()
        self._busy = False
        self._queue: deque[_Waiter] = deque()
        self._owner: int | None = None

    def _next(self) -> _Waiter:
        """The waiter that goes next (the queue is not empty)."""
        oldest = self._queue[0]
        if oldest.urgent or oldest.overtaken >= self.max_overtaken:
            return oldest
        for w in self._queue:
            if w.urgent:
                # Every normal writer ahead of it is overtaken once more.
                for ahead in self._queue:
                    if ahead is w:
                        break
                    ahead.overtaken += 1
                return w
        return oldest

    def _grant_next(self) -> None:
        # Called with the condition held and the gate free.
        if self._queue:
            w = self._next()
            self._queue.remove(w)
            w.granted = True
            self._busy = True
            self._cond.notify_all()

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        """Hold the gate for one write transaction."""
        me = threading.get_ident()
        if self._owner == me:
            # A nested write in the same thread: SQLite itself decides (busy timeout), as without the gate.
            yield
            return
        with self._cond:
            if not self._busy and not self._queue:
                self._busy = True
            else:
                w = _Waiter(urgent)
                self._queue.append(w)
                try:
                    while not w.granted:
                        self._cond.wait()
                except BaseException:
                    # Interrupted while waiting: leave the queue, or pass on a turn already granted.
                    if w.granted:
                        self._busy = False
                        self._grant_next()
                    else:
                        self._queue.remove(w)
                    raise
            self._owner = me
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._owner = None
                self._grant_next()


class Database:
    """One engine plus the transaction styles the hub needs (read, write, write-immediate)."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.gate = WriteGate()
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:" and not path.startswith("file:"):
                _private_sqlite_file(Path(path.split("?", 1)[0]))
            self.engine: Engine = sa.create_engine(
                url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size,
                max_overflow=20,
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            self.engine = sa.create_engine(
                url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                pool_size=pool_size,
                max_overflow=20,
                pool_pre_ping=True,
            )

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def write(self, *, urgent: bool = False) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE), in turn
        with the process's other writers, urgent ones (ingest) first."""
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self.gate.hold(urgent), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read_latest(self) -> Iterator[Connection]:
        """Point lookups where each statement sees the latest commit (READ COMMITTED).

        On SQLite no transaction is opened at all (no BEGIN/COMMIT and no snapshot held between
        statements): the cheapest way to run several small reads that must see each other's writers."""
        if not self.is_sqlite:
            with self.read() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="NONE")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _private_sqlite_file(path: Path) -> None:
    """Create the database file (and a missing data directory) readable by its owner only.

    SQLite gives the -wal and -shm files the mode of the database file, so they follow. A file left
    world-readable by an older version is tightened (when this user owns it)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask; parents above keep the default
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if f.stat().st_mode & 0o077:
                f.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            pass


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy (not pysqlite) decide when transactions begin; WAL lets readers run during writes.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    if mode == "NONE":
        return
    conn.exec_driver_sql(f"BEGIN {mode}")


def upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert rows, replacing the non-key columns of rows that already exist (`dialect.upsert`)."""
    dialect.upsert(conn, table, rows, keys)


def insert_ignore(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert rows, silently skipping those whose key already exists (`dialect.insert_or_ignore`)."""
    dialect.insert_or_ignore(conn, table, rows, keys)


_INSERT_CACHE: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    conflict_keys: tuple[str, ...] = (),
) -> None:
    """Hot-path executemany: each value goes through its column's own bind processor (JSON, UTC
    timestamps), but the statement is compiled once and SQLAlchemy's per-row machinery is skipped.
    With `conflict_keys`, existing rows get their other columns replaced (upsert, both dialects)."""
    if not rows:
        return
    dialect = conn.dialect
    key = (dialect.name, table.name, columns + ("|",) + conflict_keys)
    cached = _INSERT_CACHE.get(key)
    if cached is None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join([mark] * len(columns))})'
        if conflict_keys:
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in conflict_keys)
            target = ", ".join(f'"{c}"' for c in conflict_keys)
            sql += f" ON CONFLICT ({target}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
        processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
        cached = _INSERT_CACHE[key] = (sql, processors)
    sql, processors = cached
    active = [(i, p) for i, p in enumerate(processors) if p is not None]
    if active:
        converted = []
        for row in rows:
            values = list(row)
            for i, proc in active:
                if values[i] is not None:
                    values[i] = proc(values[i])
            converted.append(tuple(values))
        rows = converted
    conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
