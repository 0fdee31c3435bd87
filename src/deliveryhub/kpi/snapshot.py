"""Columnar snapshot of what the KPI engine reads: the order read models and the KPI-relevant inbox rows.

The snapshot is fetched once into Polars frames (same SQL on SQLite and PostgreSQL, timestamps fetched as
text and parsed vectorised) and then kept current incrementally: new inbox rows (id > last seen) name
the orders whose projections changed, and only those orders' rows are re-read. A dashboard refresh at a
million orders therefore touches only the few orders that moved since the last refresh.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.returns import classify_reason
from deliveryhub.notifications.facts import customer_notices_query, notices_recorded, sent_notices_marker

# Inbox types the engine reads with their data (rare per order; the heavy stream types are not needed:
# their effect is already in the orders/parcels/order_stages projections).
LIGHT_TYPES = (
    "order.cancelled",
    "inventory.shortage",
    "inventory.snapshot",
    "fulfillment.pick_error",
    "return.requested",
    "return.refunded",
    "exchange.requested",
    "exchange.completed",
    "claim.opened",
    "ticket.created",
    "ticket.replied",
    "ticket.resolved",
    "ticket.recategorized",
    "survey.answered",
    "cost.recorded",
    "notification.sent",
    "x-notification.sent",
)
NOTICE_TYPES = ("notification.sent", "x-notification.sent")
REQUEST_TYPES = ("return.requested", "exchange.requested")
UTC_DT = pl.Datetime("us", "UTC")

ORDER_COLS = (
    ("order_id", "s"),
    ("customer_id", "s"),
    ("channel", "s"),
    ("total", "f"),
    ("promised_date", "d"),
    ("warehouse", "s"),
    ("region", "s"),
    ("category", "s"),
    ("created_at", "t"),
    ("cancelled_at", "t"),
    ("delivered_at", "t"),
)
PARCEL_COLS = (
    ("order_id", "s"),
    ("shipment_id", "s"),
    ("carrier", "s"),
    ("status", "s"),
    ("status_at", "t"),
    ("handed_over_at", "t"),
    ("delivered_at", "t"),
    ("last_event_at", "t"),
    ("eta_min", "t"),
    ("eta_max", "t"),
)
STAGE_COLS = (("order_id", "s"), ("stage", "s"), ("occurred_at", "t"), ("automatic", "b"))
PACKED_COLS = (("id", "i"), ("order_id", "s"), ("occurred_at", "t"), ("packaging", "s"))
EVENT_COLS = (
    ("id", "i"),
    ("type", "s"),
    ("order_id", "s"),
    ("shipment_id", "s"),
    ("occurred_at", "t"),
    ("manual", "b"),
    ("source", "s"),
    ("kind", "s"),
    ("csat", "f"),
    ("nps", "f"),
    ("amount", "f"),
    ("by", "s"),
    ("category", "s"),
    ("channel", "s"),
    ("ticket_key", "s"),
    ("reason", "s"),
    ("stage", "s"),
    ("warehouse", "s"),
    ("text", "s"),
    ("automatic", "b"),
    ("status", "s"),
)
INVENTORY_COLS = (
    ("event_id", "i"),
    ("counted_at", "t"),
    ("warehouse", "s"),
    ("sku", "s"),
    ("counted_qty", "f"),
    ("system_qty", "f"),
)
COUNT_COLS = (("type", "s"), ("hour", "t"), ("n", "i"))
NOTICE_COLS = (
    ("order_id", "s"),
    ("stage", "s"),
    ("kind", "s"),
    ("sent_at", "t"),
    ("automatic", "b"),
    ("status", "s"),
    ("required", "b"),
    ("learned_at", "t"),
    ("deadline_at", "t"),
)
_POLARS: dict[str, Any] = {
    "s": pl.String,
    "f": pl.Float64,
    "i": pl.Int64,
    "b": pl.Boolean,
    "d": pl.Date,
    "t": UTC_DT,
}


def frame(rows: list[tuple[Any, ...]] | list[list[Any]], cols: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    """Rows of text/numbers from the database → a typed frame (timestamps are UTC)."""
    if not rows:
        return pl.DataFrame(schema={n: _POLARS[k] for n, k in cols})
    columns = list(zip(*rows, strict=True))
    series = []
    for (name, kind), values in zip(cols, columns, strict=True):
        if kind == "t":
            s = pl.Series(name, values, dtype=pl.String, strict=False)
            s = s.str.slice(0, 26).str.to_datetime(
                "%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", strict=False, time_unit="us"
            )
        elif kind == "d":
            s = (
                pl.Series(name, values, dtype=pl.String, strict=False)
                .str.slice(0, 10)
                .str.to_date("%Y-%m-%d", strict=False)
            )
        elif kind == "b":
            s = pl.Series(name, [None if v is None else bool(v) for v in values], dtype=pl.Boolean)
        elif kind == "f":
            s = pl.Series(name, values, dtype=pl.Float64, strict=False)
        elif kind == "i":
            s = pl.Series(name, values, dtype=pl.Int64, strict=False)
        else:
            s = pl.Series(name, values, dtype=pl.String, strict=False)
        series.append(s)
    return pl.DataFrame(series)


class _Sql:
    """The few dialect differences: timestamp-as-text, JSON field, hour bucket."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def ts(self, col: str) -> str:
        return f"CAST({col} AS TEXT)" if self.pg else col

    def json_field(self, col: str, name: str) -> str:
        return f"({col}->>'{name}')" if self.pg else f"json_extract({col}, '$.{name}')"

    def hour(self, col: str) -> str:
        return f"to_char({col}, 'YYYY-MM-DD HH24:00:00')" if self.pg else f"substr({col}, 1, 13) || ':00:00'"

    def data(self, col: str) -> str:
        return f"CAST({col} AS TEXT)" if self.pg else col


def _fetch(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows through the raw DB-API cursor (several times faster than Row objects for big reads)."""
    params = params or {}
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    try:
        if conn.dialect.name == "postgresql":
            # Whole names only (":i1" must not eat the start of ":i10"); "::" casts are left alone.
            sql = re.sub(
                r"(?<!:):(\w+)", lambda m: f"%({m.group(1)})s" if m.group(1) in params else m.group(0), sql
            )
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def _in_chunks(conn: Connection, sql: str, ids: list[str], params: dict[str, Any] | None = None) -> list[Any]:
    """Run `sql` (with an `:ids` IN list) over chunks of ids."""
    out: list[Any] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        names = {f"i{j}": v for j, v in enumerate(chunk)}
        marks = ", ".join(f":{n}" for n in names)
        out.extend(_fetch(conn, sql.replace(":ids", f"({marks})"), {**(params or {}), **names}))
    return out


def _event_row(r: Any) -> tuple[list[Any], list[list[Any]]]:
    """One light inbox row → the extracted columns (and inventory count rows for snapshots)."""
    data = r[7]
    if isinstance(data, str | bytes):
        data = orjson.loads(data)
    data = data if isinstance(data, dict) else {}
    typ = r[1]
    ticket_key = None
    if typ.startswith("ticket."):
        tid = data.get("ticket_id")
        if tid:
            ticket_key = str(tid)
        elif typ == "ticket.created":
            ticket_key = f"{r[2]}:{data.get('review_id') or ''}"
        else:
            ticket_key = f"{r[2]}:{data.get('review_id') or ''}"
    kind = data.get("kind")
    if typ in REQUEST_TYPES:  # a return's reason code (classified from its words when not given)
        kind = data.get("reason_code") or classify_reason(data.get("reason"))
    if typ in NOTICE_TYPES:
        kind = data.get("kind") or data.get("template")
    text = data.get("text") if typ == "ticket.created" else None
    auto = data.get("automatic")
    row = [
        r[0],
        typ,
        r[2],
        r[3],
        r[4],
        bool(r[5]),
        r[6],
        None if kind is None else str(kind),
        _num(data.get("csat")),
        _num(data.get("nps")),
        _num(data.get("amount")),
        None if data.get("by") is None else str(data.get("by")),
        None if data.get("category") is None else str(data.get("category")),
        None if data.get("channel") is None else str(data.get("channel")),
        ticket_key,
        None if data.get("reason") is None else str(data.get("reason")),
        None if data.get("stage") is None else str(data.get("stage")),
        None if data.get("warehouse") is None else str(data.get("warehouse")),
        None if text is None else str(text),
        (not bool(r[5])) if auto is None else bool(auto),
        None if data.get("status") is None else str(data.get("status")),
    ]
    inv: list[list[Any]] = []
    if typ == "inventory.snapshot":
        counts = data.get("counts") or {}
        system = data.get("system") or data.get("system_counts") or data.get("expected") or {}
        if isinstance(counts, dict):
            for sku, qty in counts.items():
                sys_q = system.get(sku) if isinstance(system, dict) else None
                inv.append([r[0], r[4], data.get("warehouse"), str(sku), _num(qty), _num(sys_q)])
    return row, inv


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Snapshot:
    """Base frames of one database plus the positions they are current to."""

    orders: pl.DataFrame
    parcels: pl.DataFrame
    stages: pl.DataFrame
    packed: pl.DataFrame
    events: pl.DataFrame
    inventory: pl.DataFrame
    counts: pl.DataFrame  # inbox rows per type and received hour
    quarantine: pl.DataFrame  # quarantined rows per received hour
    inbox_max: int
    quarantine_max: int
    notices_table: pl.DataFrame | None = None  # customer notices owed or sent (notifications feature)
    notices_marker: tuple[Any, ...] = ()
    notices_loaded: bool = False
    prev_key: tuple[int, int] | None = None  # the snapshot this one was derived from incrementally
    changed: pl.Series | None = None  # orders whose rows changed since prev_key

    @property
    def key(self) -> tuple[int, int]:
        """Identity of this snapshot's content."""
        return (self.inbox_max, self.version)

    version: int = 0
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def types(self) -> set[str]:
        """Event types present in the inbox."""
        return set(self.counts.filter(pl.col("n") > 0)["type"].unique().to_list())


class SnapshotStore:
    """Keeps one Snapshot per database current (full load once, then incremental)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sql = _Sql(db.dialect)
        self.snapshot: Snapshot | None = None
        self.lock = threading.Lock()
        self.last_refresh: dict[str, Any] = {}
        self._notices: bool | None = None  # whether the notification tables exist (asked once)

    def _positions(self, conn: Connection) -> tuple[int, int]:
        inbox_max = conn.execute(sa.text("SELECT max(id) FROM inbox")).scalar() or 0
        q_max = conn.execute(sa.text("SELECT max(id) FROM quarantine")).scalar() or 0
        return int(inbox_max), int(q_max)

    def _tail(self, after: int) -> str:
        """Reading only new inbox rows: make SQLite walk the rowid range, not a whole secondary index."""
        return " NOT INDEXED" if after > 0 and not self.sql.pg else ""

    def _has_notices(self, conn: Connection) -> bool:
        if self._notices is None:
            self._notices = notices_recorded(conn)
        return self._notices

    def _notice_marker(self, conn: Connection) -> tuple[Any, ...]:
        return sent_notices_marker(conn) if self._has_notices(conn) else ()

    def _notice_rows(self, conn: Connection) -> pl.DataFrame | None:
        """Customer notices owed or sent, from the notifications feature's query module."""
        if not self._has_notices(conn):
            return None
        # The notifications feature's query, read through this module's bulk path: times as text, parsed
        # vectorised (Python datetimes per row cost several times more at millions of notices).
        q = customer_notices_query().subquery()
        cols = (
            q.c.order_id,
            q.c.stage,
            q.c.kind,
            sa.cast(q.c.sent_at, sa.Text),
            q.c.automatic,
            q.c.status,
            q.c.required,
            sa.cast(q.c.learned_at, sa.Text),
            sa.cast(q.c.deadline_at, sa.Text),
        )
        sql = str(sa.select(*cols).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        return frame(_fetch(conn, sql), NOTICE_COLS)

    def current(self) -> Snapshot:
        """The snapshot, refreshed to the database's current positions."""
        with self.lock:
            started = time.perf_counter()
            with self.db.read() as conn:
                inbox_max, q_max = self._positions(conn)
                marker = self._notice_marker(conn)
                snap = self.snapshot
                if snap is None:
                    snap = self._full(conn, inbox_max, q_max)
                    mode = "full"
                elif snap.inbox_max == inbox_max and snap.quarantine_max == q_max:
                    mode = "cached"
                else:
                    snap = self._incremental(conn, snap, inbox_max, q_max)
                    mode = "incremental"
                if not snap.notices_loaded or marker != snap.notices_marker:
                    snap.notices_table = self._notice_rows(conn)
                    snap.notices_marker = marker
                    if snap.notices_loaded:
                        snap.prev_key, snap.changed = None, None  # notices changed: rebuild every fact
                    snap.notices_loaded = True
                    snap.version += 1
            self.snapshot = snap
            self.last_refresh = {"mode": mode, "seconds": time.perf_counter() - started}
            return snap

    def invalidate(self) -> None:
        """Forget the snapshot (the next call reloads everything)."""
        with self.lock:
            self.snapshot = None

    # ------------------------------------------------------------------ loading
    def _order_rows(self, conn: Connection, ids: list[str] | None) -> pl.DataFrame:
        s = self.sql
        cols = (
            "order_id, customer_id, channel, total, CAST(promised_date AS TEXT), warehouse, region, "
            "category, "
            f"{s.ts('created_at')}, {s.ts('cancelled_at')}, {s.ts('delivered_at')}"
        )
        if ids is None:
            return frame(_fetch(conn, f"SELECT {cols} FROM orders"), ORDER_COLS)
        return frame(_in_chunks(conn, f"SELECT {cols} FROM orders WHERE order_id IN :ids", ids), ORDER_COLS)

    def _parcel_rows(self, conn: Connection, ids: list[str] | None) -> pl.DataFrame:
        s = self.sql
        cols = (
            f"order_id, shipment_id, carrier, status, {s.ts('status_at')}, {s.ts('handed_over_at')}, "
            f"{s.ts('delivered_at')}, {s.ts('last_event_at')}, {s.ts('eta_min')}, {s.ts('eta_max')}"
        )
        if ids is None:
            return frame(_fetch(conn, f"SELECT {cols} FROM parcels"), PARCEL_COLS)
        return frame(_in_chunks(conn, f"SELECT {cols} FROM parcels WHERE order_id IN :ids", ids), PARCEL_COLS)

    def _stage_rows(self, conn: Connection, ids: list[str] | None) -> pl.DataFrame:
        cols = f"order_id, stage, {self.sql.ts('occurred_at')}, automatic"
        if ids is None:
            return frame(_fetch(conn, f"SELECT {cols} FROM order_stages"), STAGE_COLS)
        return frame(
            _in_chunks(conn, f"SELECT {cols} FROM order_stages WHERE order_id IN :ids", ids), STAGE_COLS
        )

    def _packed_rows(self, conn: Connection, after: int) -> pl.DataFrame:
        s = self.sql
        sql = (
            f"SELECT id, order_id, {s.ts('occurred_at')}, {s.json_field('data', 'packaging')} FROM inbox "
            "WHERE type = 'fulfillment.packed' AND id > :after"
        )
        return frame(_fetch(conn, sql, {"after": after}), PACKED_COLS)

    def _event_rows(self, conn: Connection, after: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        s = self.sql
        types = ", ".join(f"'{t}'" for t in LIGHT_TYPES)
        sql = (
            f"SELECT id, type, order_id, shipment_id, {s.ts('occurred_at')}, manual, source, "
            f"{s.data('data')} "
            f"FROM inbox{self._tail(after)} WHERE type IN ({types}) AND id > :after ORDER BY id"
        )
        rows, inv = [], []
        for r in _fetch(conn, sql, {"after": after}):
            row, inv_rows = _event_row(r)
            rows.append(row)
            inv.extend(inv_rows)
        return frame(rows, EVENT_COLS), frame(inv, INVENTORY_COLS)

    def _count_rows(self, conn: Connection, after: int) -> pl.DataFrame:
        """Inbox rows per type (the index on type makes this an index-only scan)."""
        sql = f"SELECT type, NULL, count(*) FROM inbox{self._tail(after)} WHERE id > :after GROUP BY type"
        return frame(_fetch(conn, sql, {"after": after}), COUNT_COLS)

    def _quarantine_rows(self, conn: Connection) -> pl.DataFrame:
        """Received and rejected events per hour, from the backbone's incremental aggregates."""
        ts = self.sql.ts("hour")
        rows = [
            ("received", r[0], r[1])
            for r in _fetch(conn, f"SELECT {ts}, sum(events) FROM source_stats GROUP BY hour")
        ]
        rows += [
            ("quarantined", r[0], r[1])
            for r in _fetch(conn, f"SELECT {ts}, sum(rejected) FROM ingest_rejections GROUP BY hour")
        ]
        return frame(rows, COUNT_COLS)

    def _full(self, conn: Connection, inbox_max: int, q_max: int) -> Snapshot:
        events, inventory = self._event_rows(conn, 0)
        return Snapshot(
            orders=self._order_rows(conn, None),
            parcels=self._parcel_rows(conn, None),
            stages=self._stage_rows(conn, None),
            packed=self._packed_rows(conn, 0),
            events=events,
            inventory=inventory,
            counts=self._count_rows(conn, 0),
            quarantine=self._quarantine_rows(conn),
            inbox_max=inbox_max,
            quarantine_max=q_max,
        )

    def _incremental(self, conn: Connection, snap: Snapshot, inbox_max: int, q_max: int) -> Snapshot:
        after = snap.inbox_max
        ids = [
            r[0]
            for r in _fetch(
                conn,
                f"SELECT DISTINCT order_id FROM inbox{self._tail(after)} "
                "WHERE id > :after AND order_id IS NOT NULL",
                {"after": after},
            )
        ]
        if len(ids) > max(50_000, snap.orders.height // 5):
            return self._full(conn, inbox_max, q_max)  # a big import: one full read is cheaper
        id_s = pl.Series(ids, dtype=pl.String)

        def replace(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
            if not ids:
                return old
            return pl.concat([old.filter(~pl.col("order_id").is_in(id_s)), new], how="vertical_relaxed")

        events, inventory = self._event_rows(conn, after)
        counts = pl.concat([snap.counts, self._count_rows(conn, after)], how="vertical_relaxed")
        counts = counts.group_by("type").agg(pl.col("n").sum(), pl.col("hour").first()).select(counts.columns)
        return Snapshot(
            orders=replace(snap.orders, self._order_rows(conn, ids)),
            parcels=replace(snap.parcels, self._parcel_rows(conn, ids)),
            stages=replace(snap.stages, self._stage_rows(conn, ids)),
            packed=pl.concat([snap.packed, self._packed_rows(conn, after)], how="vertical_relaxed"),
            events=pl.concat([snap.events, events], how="vertical_relaxed"),
            inventory=pl.concat([snap.inventory, inventory], how="vertical_relaxed"),
            counts=counts,
            quarantine=self._quarantine_rows(conn),
            inbox_max=inbox_max,
            quarantine_max=q_max,
            version=snap.version + 1,
            prev_key=snap.key,
            changed=id_s,
            notices_table=snap.notices_table,
            notices_marker=snap.notices_marker,
            notices_loaded=snap.notices_loaded,
        )


_STORES: dict[str, SnapshotStore] = {}
_STORES_LOCK = threading.Lock()


def store_for(db: Database) -> SnapshotStore:
    """The process-wide snapshot store of a database (one per URL and engine)."""
    key = f"{db.url}#{id(db)}"
    with _STORES_LOCK:
        st = _STORES.get(key)
        if st is None:
            st = _STORES[key] = SnapshotStore(db)
        return st
