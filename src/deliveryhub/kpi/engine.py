"""The KPI engine: any catalog KPI for any period, grain and dimension, in the operator's time zone.

Facts (one Polars frame per population: orders, delivered orders, tickets, …) are derived from the
snapshot of the read models and the inbox (`snapshot.py`), cached per snapshot version and zone, and
every KPI is a declarative aggregation over one fact (catalog.yaml). Absent inputs give null with a
reason, never 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl
import sqlalchemy as sa

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES
from deliveryhub.kpi.catalog import KpiDef, Measure, Target, load_catalog
from deliveryhub.kpi.snapshot import NOTICE_TYPES, UTC_DT, Snapshot, SnapshotStore, store_for

GRAINS = ("day", "week", "month")
DIMENSIONS = ("carrier", "warehouse", "channel", "region", "category", "stage")
DIMS = ("carrier", "warehouse", "channel", "region", "category")
_US_PER_DAY = 86_400_000_000
_ERROR_CANCEL = r"(?i)(duplicate|중복|payment|결제)"
DELAY_NOTICE_KINDS = ("delay", "delay_notice", "delivery_delay", "delay_risk")


class KpiQueryError(ValueError):
    """A bad KPI query parameter; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_tz(tz: str) -> ZoneInfo:
    """A zone by IANA name, or KpiQueryError naming `tz`."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiQueryError("tz", f"tz: unknown time zone {tz!r}") from None


def parse_date(value: str | date, field_name: str) -> date:
    """YYYY-MM-DD, or KpiQueryError naming the field."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise KpiQueryError(field_name, f"{field_name}: expected YYYY-MM-DD, got {value!r}") from None


def period_label(start: date, grain: str) -> str:
    """'2026-11-22' (day), '2026-W47' (ISO week), '2026-11' (month)."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    return f"{start.year}-{start.month:02d}"


def period_start(d: date, grain: str) -> date:
    """First day of the period containing `d`."""
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    return d.replace(day=1)


def period_end(start: date, grain: str) -> date:
    """Last day of the period starting at `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def current_period(grain: str, tz: str, now: datetime) -> tuple[date, date, str]:
    """(first day, last day, label) of the period containing `now` in `tz`."""
    today = now.astimezone(parse_tz(tz)).date()
    start = period_start(today, grain)
    return start, period_end(start, grain), period_label(start, grain)


def _hours(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 3.6e9


def _days(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / _US_PER_DAY


def _minutes(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 6e7


def _ids(df: pl.DataFrame) -> pl.Series:
    return df["order_id"].drop_nulls().unique()


HEAVY = (
    "orders",
    "delivered_orders",
    "delivered_parcels",
    "parcels_at_period_end",
    "stage_changes",
    "packings",
)


class _Base:
    """Base frames for building facts: the whole snapshot, or only the orders that changed."""

    def __init__(self, snap: Snapshot, tz: str, ids: pl.Series | None = None) -> None:
        self.tz = tz
        if ids is None:
            self.o, self.p, self.stages, self.packed = snap.orders, snap.parcels, snap.stages, snap.packed
        else:
            keep = pl.col("order_id").is_in(ids)
            self.o, self.p = snap.orders.filter(keep), snap.parcels.filter(keep)
            self.stages, self.packed = snap.stages.filter(keep), snap.packed.filter(keep)
        ev = snap.events
        self.by_type = (
            {t: ev.filter(pl.col("type") == t) for t in ev["type"].unique().to_list()} if ev.height else {}
        )
        self.empty_ev = ev.clear()
        self.snap = snap
        self._cache: dict[str, Any] = {}

    def evs(self, *types: str) -> pl.DataFrame:
        got = [self.by_type[t] for t in types if t in self.by_type]
        return pl.concat(got) if got else self.empty_ev

    def notices(self) -> pl.DataFrame:
        if "notices" not in self._cache:
            n = self.evs(*NOTICE_TYPES).select(
                "order_id", "stage", "kind", pl.col("occurred_at").alias("sent_at"), "automatic"
            )
            for extra in (self.snap.notices_table, self.snap.notices_extra):
                if extra is not None and extra.height:
                    extra = (
                        extra.rename({"occurred_at": "sent_at"}) if "occurred_at" in extra.columns else extra
                    )
                    n = pl.concat([n, extra.select(n.columns)], how="vertical_relaxed")
            self._cache["notices"] = n
        return self._cache["notices"]  # type: ignore[no-any-return]

    def orders(self) -> pl.DataFrame:
        if "orders" in self._cache:
            return self._cache["orders"]  # type: ignore[no-any-return]
        pc = self.p.group_by("order_id").agg(
            pl.col("carrier").drop_nulls().first().alias("carrier"),
            pl.col("handed_over_at").min().alias("handed_over_at"),
        )
        packed_first = self.packed.group_by("order_id").agg(pl.col("occurred_at").min().alias("packed_at"))
        claims = self.evs("claim.opened")
        cancels = self.evs("order.cancelled")
        errors = pl.concat(
            [
                _ids(self.evs("fulfillment.pick_error")),
                _ids(claims.filter(pl.col("kind") == "wrong_item")),
                _ids(cancels.filter(pl.col("reason").fill_null("").str.contains(_ERROR_CANCEL))),
            ]
        ).unique()
        out = (
            self.o.join(pc, on="order_id", how="left")
            .join(packed_first, on="order_id", how="left")
            .with_columns(pl.min_horizontal("packed_at", "handed_over_at").alias("ready_at"))
            .with_columns(
                _hours(pl.col("ready_at"), pl.col("created_at")).alias("processing_hours"),
                pl.col("cancelled_at").is_not_null().alias("cancelled"),
                pl.col("order_id").is_in(_ids(self.evs("inventory.shortage"))).alias("has_shortage"),
                pl.col("order_id").is_in(errors).alias("order_error"),
            )
        )
        self._cache["orders"] = out
        return out

    def build(self, name: str) -> pl.DataFrame:
        """One fact, by name."""
        tz = self.tz
        if name == "orders":
            return self.orders()
        if name == "delivered_orders":
            claims = self.evs("claim.opened")
            n = self.notices()
            delay_notice = (
                n.filter(pl.col("kind").is_in(DELAY_NOTICE_KINDS) | pl.col("stage").is_in(DELAY_NOTICE_KINDS))
                .group_by("order_id")
                .agg(pl.col("sent_at").min().alias("delay_notice_at"))
            )
            return (
                self.orders()
                .filter(pl.col("delivered_at").is_not_null())
                .join(delay_notice, on="order_id", how="left")
                .with_columns(
                    pl.col("delivered_at").dt.convert_time_zone(tz).dt.date().alias("delivered_date"),
                    _days(pl.col("delivered_at"), pl.col("created_at")).alias("delivery_days"),
                    _days(pl.col("delivered_at"), pl.col("handed_over_at")).alias("transit_days"),
                    pl.col("order_id")
                    .is_in(_ids(claims.filter(pl.col("kind").is_in(["wrong_item", "missing"]))))
                    .alias("claim_wrong_or_missing"),
                    pl.col("order_id")
                    .is_in(_ids(claims.filter(pl.col("kind") == "damage")))
                    .alias("claim_damage"),
                    pl.col("order_id").is_in(_ids(self.evs("return.requested"))).alias("return_requested"),
                    (pl.col("delay_notice_at").dt.convert_time_zone(tz).dt.date() <= pl.col("promised_date"))
                    .fill_null(False)
                    .alias("delay_notified"),
                )
            )
        if name == "delivered_parcels":
            return self.p.filter(pl.col("delivered_at").is_not_null())
        if name == "parcels_at_period_end":
            return self.p
        if name == "stage_changes":
            n = self.notices().filter(pl.col("stage").is_not_null())
            df = self.stages.with_columns(
                pl.col("stage").is_in(list(CUSTOMER_FACING_STAGES)).alias("customer_facing")
            )
            if not n.height:
                return df.with_columns(
                    pl.lit(False).alias("auto_noticed"),
                    pl.lit(None, pl.Float64).alias("notice_delay_minutes"),
                )
            first = n.group_by("order_id", "stage").agg(
                pl.col("sent_at").min().alias("first_notice_at"),
                pl.col("automatic").fill_null(True).any().alias("auto_noticed"),
            )
            return df.join(first, on=["order_id", "stage"], how="left").with_columns(
                pl.col("auto_noticed").fill_null(False),
                _minutes(pl.col("first_notice_at"), pl.col("occurred_at")).alias("notice_delay_minutes"),
            )
        if name == "packings":
            return self.packed.select("order_id", pl.col("occurred_at").alias("packed_at"), "packaging")
        if name == "tickets":
            created = (
                self.evs("ticket.created")
                .sort("occurred_at")
                .unique("ticket_key", keep="first")
                .select(
                    "ticket_key",
                    "order_id",
                    pl.col("occurred_at").alias("created_at"),
                    pl.col("category").alias("voc_category"),
                    "channel",
                    "text",
                )
            )
            replies = (
                self.evs("ticket.replied")
                .group_by("ticket_key")
                .agg(
                    pl.col("occurred_at").min().alias("first_reply_at"),
                    (pl.col("by") == "agent").fill_null(False).any().alias("has_agent_reply"),
                )
            )
            resolves = (
                self.evs("ticket.resolved")
                .group_by("ticket_key")
                .agg(pl.col("occurred_at").min().alias("resolved_at"))
            )
            return (
                created.join(replies, on="ticket_key", how="left")
                .join(resolves, on="ticket_key", how="left")
                .with_columns(
                    pl.col("has_agent_reply").fill_null(False),
                    _minutes(pl.col("first_reply_at"), pl.col("created_at")).alias("first_response_minutes"),
                    _hours(pl.col("resolved_at"), pl.col("created_at")).alias("resolution_hours"),
                )
                .with_columns(
                    (pl.col("resolved_at").is_not_null() & ~pl.col("has_agent_reply")).alias(
                        "resolved_without_agent"
                    )
                )
            )
        if name == "surveys":
            return self.evs("survey.answered").select(
                "order_id", pl.col("occurred_at").alias("answered_at"), "csat", "nps"
            )
        if name == "claims":
            return self.evs("claim.opened").select(
                "order_id", pl.col("occurred_at").alias("opened_at"), "kind"
            )
        if name in ("returns", "exchanges"):
            start_t, end_t, end_name = (
                ("return.requested", "return.refunded", "refunded_at")
                if name == "returns"
                else ("exchange.requested", "exchange.completed", "completed_at")
            )
            s = self.evs(start_t).group_by("order_id").agg(pl.col("occurred_at").min().alias("requested_at"))
            e = self.evs(end_t).group_by("order_id").agg(pl.col("occurred_at").min().alias(end_name))
            return s.join(e, on="order_id", how="left").with_columns(
                _days(pl.col(end_name), pl.col("requested_at")).alias("processing_days")
            )
        if name == "costs":
            return self.evs("cost.recorded").select("order_id", "occurred_at", "kind", "amount")
        if name == "inventory_counts":
            return self.snap.inventory
        if name == "received":
            q = self.snap.quarantine
            return (
                q.filter(pl.col("type") == "received")
                .select("hour", pl.col("n").alias("received"))
                .join(
                    q.filter(pl.col("type") == "quarantined").select(
                        "hour", pl.col("n").alias("quarantined")
                    ),
                    on="hour",
                    how="full",
                    coalesce=True,
                )
                .with_columns(pl.col("received").fill_null(0), pl.col("quarantined").fill_null(0))
            )
        raise KeyError(name)


class Facts:
    """Derived populations of one snapshot in one zone, built lazily; after an incremental snapshot
    refresh the per-order facts are patched for the changed orders only."""

    def __init__(self, snap: Snapshot, tz: str, now: datetime, prev: Facts | None = None) -> None:
        self.snap = snap
        self.tz = tz
        self.now = now
        self.base = _Base(snap, tz)
        self.types = snap.types
        self.notices = self.base.notices().height
        self.frames: dict[str, pl.DataFrame] = {}
        self._dated: dict[tuple[str, str], pl.DataFrame] = {}
        self._dims: pl.DataFrame | None = None
        self._seq: pl.DataFrame | None = None
        usable = prev is not None and snap.prev_key == prev.snap.key and snap.changed is not None
        self.prev = prev if usable else None
        self._sub: _Base | None = None

    def _subset(self) -> _Base:
        if self._sub is None:
            assert self.snap.changed is not None
            self._sub = _Base(self.snap, self.tz, self.snap.changed)
        return self._sub

    def frame(self, name: str) -> pl.DataFrame:
        """A fact by name (built on first use)."""
        if name not in self.frames:
            prev = self.prev
            if prev is not None and name in HEAVY and name in prev.frames:
                changed = self.snap.changed
                assert changed is not None
                old = prev.frames.pop(name)
                self.frames[name] = pl.concat(
                    [old.filter(~pl.col("order_id").is_in(changed)), self._subset().build(name)],
                    how="vertical_relaxed",
                )
            else:
                self.frames[name] = self.base.build(name)
        return self.frames[name]

    def dated(self, name: str, time_col: str) -> pl.DataFrame:
        """The fact with `__d`: the local date of `time_col` (rows without that time dropped)."""
        key = (name, time_col)
        if key not in self._dated:
            prev = self.prev

            def local(df: pl.DataFrame) -> pl.DataFrame:
                if time_col not in df.columns:
                    raise KeyError(f"{name} has no column {time_col}")
                return df.filter(pl.col(time_col).is_not_null()).with_columns(
                    pl.col(time_col).dt.convert_time_zone(self.tz).dt.date().alias("__d")
                )

            if prev is not None and name in HEAVY and key in prev._dated:
                changed = self.snap.changed
                assert changed is not None
                old = prev._dated.pop(key)
                self._dated[key] = pl.concat(
                    [old.filter(~pl.col("order_id").is_in(changed)), local(self._subset().build(name))],
                    how="vertical_relaxed",
                )
            else:
                self._dated[key] = local(self.frame(name))
        return self._dated[key]

    def with_dim(self, df: pl.DataFrame, by: str) -> pl.DataFrame:
        """`df` with dimension column `by` (joined from the order when the fact lacks it)."""
        if by in df.columns or "order_id" not in df.columns or by not in DIMS:
            return df
        if self._dims is None:
            o = self.snap.orders.select("order_id", "channel", "region", "category", "warehouse")
            pc = self.snap.parcels.group_by("order_id").agg(pl.col("carrier").drop_nulls().first())
            self._dims = o.join(pc, on="order_id", how="left")
        return df.join(self._dims.select("order_id", by), on="order_id", how="left")

    def with_customer_seq(self, df: pl.DataFrame) -> pl.DataFrame:
        """`df` (orders) with customer_seq: the order's rank among all its customer's orders by time."""
        if self._seq is None:
            self._seq = self.frame("orders").select(
                "order_id", pl.col("created_at").rank("ordinal").over("customer_id").alias("customer_seq")
            )
        return df.join(self._seq, on="order_id", how="left")


def derive_facts(snap: Snapshot, tz: str, now: datetime) -> Facts:
    """Every population the catalog reads (built lazily on first use)."""
    return Facts(snap, tz, now)


# ---------------------------------------------------------------------------------------------- engine
@dataclass
class KpiResult:
    """One KPI over a query: overall value, series, and the reason when null."""

    value: float | None
    series: list[dict[str, Any]]
    reason: str | None = None


class KpiEngine:
    """Computes catalog KPIs from one database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        db: Database,
        *,
        catalog: dict[str, KpiDef] | None = None,
        now: Callable[[], datetime] | None = None,
        notices_provider: Callable[[], pl.DataFrame | None] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog if catalog is not None else load_catalog()
        self.now = now or (lambda: datetime.now(UTC))
        self.store: SnapshotStore = store_for(db)
        self.notices_provider = notices_provider
        self._facts: dict[str, Facts] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------- inputs
    def facts(self, tz: str) -> Facts:
        """Facts of the current snapshot in `tz` (cached per snapshot version and zone)."""
        parse_tz(tz)
        snap = self.store.current()
        if self.notices_provider is not None:
            snap.notices_extra = self.notices_provider()
        with self._lock:
            f = self._facts.get(tz)
            if f is None or f.snap is not snap:
                f = Facts(snap, tz, self.now(), prev=f)
                self._facts[tz] = f
            f.now = self.now()
            return f

    def kpi(self, key: str) -> KpiDef:
        """A catalog entry with the admin's target override applied."""
        if key not in self.catalog:
            raise KpiQueryError("kpi", f"kpi: unknown KPI {key!r}")
        return self.with_overrides([self.catalog[key]])[0]

    def with_overrides(self, kpis: Iterable[KpiDef]) -> list[KpiDef]:
        """Catalog entries with target/warning overrides from kpi_targets."""
        from deliveryhub.kpi.catalog import with_target
        from deliveryhub.kpi.tables import kpi_targets

        try:
            with self.db.read() as conn:
                rows = {r.key: r for r in conn.execute(sa.select(kpi_targets))}
        except sa.exc.DBAPIError:
            rows = {}
        out = []
        for k in kpis:
            r = rows.get(k.key)
            out.append(with_target(k, r.target, r.warning) if r is not None else k)
        return out

    # -------------------------------------------------------------- compute
    def compute(
        self,
        date_from: str | date,
        date_to: str | date,
        grain: str = "month",
        by: str | None = None,
        tz: str = "Asia/Seoul",
        kpis: list[str] | None = None,
    ) -> dict[str, Any]:
        """INTERFACE.md JSON: {"from","to","grain","by","kpis":{KEY:{value,target,status,series,reason?}}}."""
        d0, d1 = parse_date(date_from, "from"), parse_date(date_to, "to")
        if d1 < d0:
            raise KpiQueryError("to", "to: must not be before from")
        if grain not in GRAINS:
            raise KpiQueryError("grain", f"grain: one of {', '.join(GRAINS)}")
        if by is not None and by not in DIMENSIONS:
            raise KpiQueryError("by", f"by: one of {', '.join(DIMENSIONS)}")
        keys = kpis or list(self.catalog)
        for k in keys:
            if k not in self.catalog:
                raise KpiQueryError("kpi", f"kpi: unknown KPI {k!r}")
        facts = self.facts(tz)
        defs = self.with_overrides(self.catalog[k] for k in keys)
        manual = self._manual_values([k.key for k in defs if k.kind == "manual"])
        out: dict[str, Any] = {}
        for kdef in defs:
            res = self.evaluate(kdef, facts, d0, d1, grain, by, manual)
            previous = None
            if (
                kdef.target is not None
                and kdef.target.change_vs_previous is not None
                and res.value is not None
            ):
                span = (d1 - d0).days + 1
                previous = self.evaluate(
                    kdef, facts, d0 - timedelta(days=span), d0 - timedelta(days=1), grain, None, manual
                ).value
            target_value, status = evaluate_status(kdef, res.value, previous)
            entry: dict[str, Any] = {
                "value": res.value,
                "target": target_value,
                "status": status,
                "series": res.series,
            }
            if res.reason:
                entry["reason"] = res.reason
            out[kdef.key] = entry
        return {"from": d0.isoformat(), "to": d1.isoformat(), "grain": grain, "by": by, "kpis": out}

    def evaluate(
        self,
        kdef: KpiDef,
        facts: Facts,
        d0: date,
        d1: date,
        grain: str,
        by: str | None,
        manual: pl.DataFrame | None = None,
    ) -> KpiResult:
        """One KPI over [d0, d1] at `grain`, split by `by`."""
        if kdef.kind == "manual":
            return self._manual(kdef, manual, d0, d1, grain, by)
        missing = self._missing(kdef, facts)
        if missing:
            return KpiResult(None, [], missing)
        if kdef.num_measure is not None and kdef.den_measure is not None:
            return self._ratio_of_measures(kdef, facts, d0, d1, grain, by)
        assert kdef.input is not None and kdef.time is not None
        if kdef.input == "parcels_at_period_end":
            return self._at_period_end(kdef, facts, d0, d1, grain, by)
        df = self._population(kdef, facts, kdef.input, kdef.time, kdef.filter, d0, d1, grain, by)
        note = None
        if by is not None and by not in df.columns:
            note = f"{kdef.key} cannot be split by {by}"
            by = None
        overall, series = self._aggregate(kdef, df, by, grain)
        reason = note
        if overall is None and reason is None:
            reason = f"no {kdef.input.replace('_', ' ')} in the period" + (
                " matching the filter" if kdef.filter else ""
            )
        return KpiResult(overall, series, reason)

    def _missing(self, kdef: KpiDef, facts: Facts) -> str | None:
        for req in kdef.requires:
            options = req.split("|")
            if "notice" in options and facts.notices > 0:
                continue
            if any(o in facts.types for o in options if o != "notice"):
                continue
            what = "notification records" if options == ["notice"] else " or ".join(options) + " events"
            return f"no {what} recorded: input absent"
        return None

    def _population(
        self,
        kdef: KpiDef,
        facts: Facts,
        name: str,
        time_col: str,
        flt: str | None,
        d0: date,
        d1: date,
        grain: str,
        by: str | None = None,
    ) -> pl.DataFrame:
        df = facts.dated(name, time_col)
        df = df.filter(pl.col("__d").is_between(d0, d1))
        if by is not None:
            df = facts.with_dim(df, by)
        if name == "orders" and "customer_seq" in f"{flt} {kdef.numerator} {kdef.value}":
            df = facts.with_customer_seq(df)
        df = self._params(kdef, name, df, facts.now)
        if flt:
            df = df.filter(pl.sql_expr(flt).fill_null(False))
        return df.with_columns(_period_expr(grain).alias("__p"))

    @staticmethod
    def _params(kdef: KpiDef, name: str, df: pl.DataFrame, now: datetime) -> pl.DataFrame:
        """Columns that depend on a KPI's parameters (SLA hours, notice deadline)."""
        if name == "tickets":
            sla = float(kdef.params.get("sla_hours", 24))
            cutoff = now - timedelta(hours=sla)
            return df.with_columns(
                (pl.col("first_response_minutes") <= sla * 60).fill_null(False).alias("replied_in_sla"),
                (pl.col("first_reply_at").is_null() & (pl.col("created_at") > _lit(cutoff))).alias(
                    "sla_pending"
                ),
            )
        if name == "stage_changes":
            limit = float(kdef.params.get("notice_minutes", 10))
            return df.with_columns(
                (pl.col("notice_delay_minutes") <= limit).fill_null(False).alias("noticed_in_time")
            )
        return df

    def _aggregate(
        self, kdef: KpiDef, df: pl.DataFrame, by: str | None, grain: str
    ) -> tuple[float | None, list[dict[str, Any]]]:
        keys = ["__p"] + ([by] if by else [])
        agg = _agg_exprs(kdef)
        if kdef.kind == "ratio" and kdef.distinct:
            cond = pl.sql_expr(kdef.numerator or "TRUE").fill_null(False).alias("__c")
            ent = df.with_columns(cond).group_by([*keys, kdef.distinct]).agg(pl.col("__c").any())
            series_df = ent.group_by(keys).agg(pl.len().alias("__n"), pl.col("__c").sum().alias("__k"))
            tot = df.with_columns(cond).group_by(kdef.distinct).agg(pl.col("__c").any())
            overall = (tot["__c"].sum() / tot.height) if tot.height else None
            series_df = series_df.with_columns((pl.col("__k") / pl.col("__n")).alias("__v"))
            return _f(overall), _series(series_df, by, grain)
        series_df = df.group_by(keys).agg(agg)
        total = df.select(agg)
        overall = total["__v"][0] if df.height else None
        if kdef.kind == "count" and not df.height:
            overall = 0.0
        return _f(overall), _series(series_df, by, grain)

    def _ratio_of_measures(
        self, kdef: KpiDef, facts: Facts, d0: date, d1: date, grain: str, by: str | None
    ) -> KpiResult:
        assert kdef.num_measure is not None and kdef.den_measure is not None
        parts = []
        note = None
        for m, name in ((kdef.num_measure, "__num"), (kdef.den_measure, "__den")):
            df = self._population(kdef, facts, m.input, m.time, m.filter, d0, d1, grain, by)
            use_by = by if by is not None and by in df.columns else None
            if by is not None and use_by is None:
                note = f"{kdef.key} cannot be split by {by}"
            parts.append((m, name, df, use_by))
        by_ok = by if all(p[3] == by for p in parts) else None
        keys = ["__p"] + ([by_ok] if by_ok else [])
        totals: dict[str, float] = {}
        frames = []
        for m, name, df, _ in parts:
            expr = _measure_expr(m).alias(name)
            frames.append(df.group_by(keys).agg(expr))
            totals[name] = float(df.select(expr)[name][0] or 0.0) if df.height else 0.0
        joined = (
            frames[0]
            .join(frames[1], on=keys, how="full", coalesce=True)
            .with_columns(
                pl.when(pl.col("__den") > 0)
                .then(pl.col("__num").fill_null(0) / pl.col("__den"))
                .otherwise(None)
                .alias("__v")
            )
        )
        overall = totals["__num"] / totals["__den"] if totals["__den"] > 0 else None
        reason = note
        if overall is None and reason is None:
            reason = f"no {kdef.den_measure.input} in the period for the denominator"
        return KpiResult(_f(overall), _series(joined, by_ok, grain), reason)

    def _at_period_end(
        self, kdef: KpiDef, facts: Facts, d0: date, d1: date, grain: str, by: str | None
    ) -> KpiResult:
        """Parcels in flight at each period's end (or now): stale when silent longer than stale_hours."""
        zone = parse_tz(facts.tz)
        hours = float(kdef.params.get("stale_hours", 48))
        base = facts.frame("parcels_at_period_end").filter(pl.col("handed_over_at").is_not_null())
        lo = datetime.combine(d0, datetime.min.time(), zone).astimezone(UTC)
        # Only parcels that can be in flight at some period end: not delivered before the range starts.
        base = base.filter(pl.col("delivered_at").is_null() | (pl.col("delivered_at") > _lit(lo)))
        if by is not None:
            base = facts.with_dim(base, by)
            if by not in base.columns:
                by = None
        now = facts.now
        periods = []
        start = period_start(d0, grain)
        while start <= d1:
            periods.append(start)
            start = period_end(start, grain) + timedelta(days=1)
        ends = [
            min(
                datetime.combine(
                    min(period_end(ps, grain), d1) + timedelta(days=1), datetime.min.time(), zone
                ).astimezone(UTC),
                now,
            )
            for ps in periods
        ]
        # Vectorised: each parcel is in flight at the period ends T with handed_over_at <= T < delivered_at,
        # a contiguous index range found by binary search; explode to one row per (parcel, period end).
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        end_us = np.array([int((e - epoch).total_seconds() * 1e6) for e in ends], dtype=np.int64)
        big = np.iinfo(np.int64).max
        handed = base["handed_over_at"].dt.epoch("us").to_numpy()
        delivered = base["delivered_at"].dt.epoch("us").fill_null(big).to_numpy()
        k_lo = np.searchsorted(end_us, handed, side="left")
        k_hi = np.searchsorted(end_us, delivered, side="left")
        ends_df = pl.DataFrame(
            {
                "__k": pl.Series(range(len(periods)), dtype=pl.Int64),
                "__p": pl.Series(periods, dtype=pl.Date),
                "__at": pl.Series(ends, dtype=UTC_DT),
            }
        )
        exploded = (
            base.with_columns(
                pl.int_ranges(pl.Series(k_lo, dtype=pl.Int64), pl.Series(k_hi, dtype=pl.Int64)).alias("__k")
            )
            .explode("__k")
            .filter(pl.col("__k").is_not_null())
            .join(ends_df, on="__k", how="left")
        )
        at = pl.col("__at")
        last = (
            pl.when(pl.col("last_event_at") <= at)
            .then(pl.col("last_event_at"))
            .otherwise(
                pl.max_horizontal(
                    pl.col("handed_over_at"),
                    pl.when(pl.col("status_at") <= at).then(pl.col("status_at")).otherwise(None),
                )
            )
        )
        all_df = exploded.with_columns(
            pl.lit(True).alias("in_flight"),
            (last < at - pl.duration(hours=hours)).fill_null(False).alias("stale"),
        )
        if kdef.filter:
            all_df = all_df.filter(pl.sql_expr(kdef.filter).fill_null(False))
        overall_df = all_df.filter(pl.col("__k") == len(periods) - 1) if periods else None
        _, series = self._aggregate(kdef, all_df, by, grain)
        overall = None
        if overall_df is not None and overall_df.height:
            overall = _f(overall_df.select(_agg_exprs(kdef))["__v"][0])
        reason = None if overall is not None else "no parcels in flight at the end of the period"
        return KpiResult(overall, series, reason)

    # -------------------------------------------------------------- manual KPIs
    def _manual_values(self, keys: list[str]) -> pl.DataFrame | None:
        if not keys:
            return None
        from deliveryhub.kpi.tables import kpi_manual_values as mv

        try:
            with self.db.read() as conn:
                rows = conn.execute(
                    sa.select(mv.c.key, mv.c.period, mv.c.grp, mv.c.value).where(mv.c.key.in_(keys))
                ).all()
        except sa.exc.DBAPIError:
            rows = []
        return pl.DataFrame(
            {
                "key": [r.key for r in rows],
                "__d": [r.period for r in rows],
                "grp": [r.grp or None for r in rows],
                "value": [float(r.value) for r in rows],
            },
            schema={"key": pl.String, "__d": pl.Date, "grp": pl.String, "value": pl.Float64},
        )

    def _manual(
        self, kdef: KpiDef, manual: pl.DataFrame | None, d0: date, d1: date, grain: str, by: str | None
    ) -> KpiResult:
        if manual is None:
            return KpiResult(None, [], "no manual values entered")
        df = manual.filter((pl.col("key") == kdef.key) & pl.col("__d").is_between(d0, d1))
        if not df.height:
            return KpiResult(None, [], "no manual values entered for the period")
        how = str(kdef.params.get("aggregate", "mean"))
        agg = {"sum": pl.col("value").sum(), "last": pl.col("value").sort_by("__d").last()}.get(
            how, pl.col("value").mean()
        ).alias("__v")
        df = df.with_columns(_period_expr(grain).alias("__p"))
        if by is not None:
            df = df.with_columns(pl.col("grp").alias(by))
            overall_df = df.filter(pl.col("grp").is_null())
            if not overall_df.height:
                overall_df = df
        else:
            overall_df = df.filter(pl.col("grp").is_null()) if df["grp"].null_count() else df
        series_df = df.group_by(["__p"] + ([by] if by else [])).agg(agg)
        return KpiResult(_f(overall_df.select(agg)["__v"][0]), _series(series_df, by, grain))

    # -------------------------------------------------------------- drill-down
    def orders_behind(
        self,
        key: str,
        date_from: str | date,
        date_to: str | date,
        tz: str = "Asia/Seoul",
        grain: str = "month",
        period: str | None = None,
        by: str | None = None,
        group: str | None = None,
        limit: int = 500,
    ) -> dict[str, Any]:
        """The orders behind a KPI's numerator (ratio), population (mean/percentile) or rows (count)."""
        kdef = self.kpi(key)
        d0, d1 = parse_date(date_from, "from"), parse_date(date_to, "to")
        if grain not in GRAINS:
            raise KpiQueryError("grain", f"grain: one of {', '.join(GRAINS)}")
        facts = self.facts(tz)
        if kdef.kind == "manual":
            return {"kpi": key, "orders": [], "total": 0, "reason": "manual KPI: no orders behind it"}
        if kdef.num_measure is not None:
            name, time_col, flt, cond = (
                kdef.num_measure.input,
                kdef.num_measure.time,
                kdef.num_measure.filter,
                None,
            )
        else:
            assert kdef.input is not None and kdef.time is not None
            name, time_col, flt, cond = kdef.input, kdef.time, kdef.filter, kdef.numerator
        if name == "parcels_at_period_end":
            name, time_col, flt, cond = "parcels_at_period_end", "handed_over_at", None, None
            df = facts.dated(name, time_col).filter(
                pl.col("delivered_at").is_null()
                & (
                    pl.col("last_event_at")
                    < _lit(facts.now - timedelta(hours=float(kdef.params.get("stale_hours", 48))))
                )
            )
            df = df.with_columns(_period_expr(grain).alias("__p"))
        else:
            df = self._population(kdef, facts, name, time_col, flt, d0, d1, grain, by)
        if "order_id" not in df.columns:
            return {"kpi": key, "orders": [], "total": 0, "reason": f"{name} rows are not orders"}
        if cond and kdef.kind == "ratio":
            df = df.filter(pl.sql_expr(cond).fill_null(False))
        if period is not None:
            df = df.filter(_label_expr(grain) == period)
        if by is not None and group is not None and by in df.columns:
            df = df.filter(pl.col(by) == group)
        value_col = None
        if kdef.value and kdef.kind in ("mean", "percentile", "score"):
            df = df.with_columns(pl.sql_expr(kdef.value).alias("__val")).sort(
                "__val", descending=True, nulls_last=True
            )
            value_col = "__val"
        else:
            df = df.sort(time_col, descending=True)
        df = df.filter(pl.col("order_id").is_not_null()).unique("order_id", keep="first", maintain_order=True)
        total = df.height
        rows = []
        for r in df.head(limit).iter_rows(named=True):
            t = r.get(time_col)
            rows.append(
                {
                    "order_id": r["order_id"],
                    "at": t.isoformat() if t else None,
                    "value": _f(r[value_col]) if value_col else None,
                    "carrier": r.get("carrier"),
                }
            )
        return {"kpi": key, "orders": rows, "total": total}


# ---------------------------------------------------------------------------------------------- helpers
def _lit(when: datetime) -> pl.Expr:
    return pl.lit(when.astimezone(UTC), UTC_DT)


def _period_expr(grain: str) -> pl.Expr:
    d = pl.col("__d")
    if grain == "day":
        return d
    if grain == "week":
        return d.dt.truncate("1w")
    return d.dt.truncate("1mo")


def _label_expr(grain: str) -> pl.Expr:
    p = pl.col("__p")
    if grain == "day":
        return p.dt.strftime("%Y-%m-%d")
    if grain == "week":
        return p.dt.strftime("%G-W%V")
    return p.dt.strftime("%Y-%m")


def _agg_exprs(kdef: KpiDef) -> pl.Expr:
    if kdef.kind == "ratio":
        cond = pl.sql_expr(kdef.numerator or "TRUE").fill_null(False)
        return pl.when(pl.len() > 0).then(cond.sum() / pl.len()).otherwise(None).alias("__v")
    if kdef.kind in ("mean", "score"):
        return pl.sql_expr(kdef.value or "0").cast(pl.Float64).mean().alias("__v")
    if kdef.kind == "percentile":
        return (
            pl.sql_expr(kdef.value or "0")
            .cast(pl.Float64)
            .quantile(kdef.quantile or 0.5, "linear")
            .alias("__v")
        )
    return pl.len().cast(pl.Float64).alias("__v")


def _measure_expr(m: Measure) -> pl.Expr:
    if m.sum:
        return pl.sql_expr(m.sum).cast(pl.Float64).sum()
    return pl.len().cast(pl.Float64)


def _f(v: Any) -> float | None:
    if v is None:
        return None
    try:
        fv = float(v)
    except (TypeError, ValueError):
        return None
    return None if fv != fv else fv  # NaN → null


def _series(df: pl.DataFrame, by: str | None, grain: str) -> list[dict[str, Any]]:
    if not df.height:
        return []
    cols = ["__p"] + ([by] if by else [])
    df = df.sort(cols, nulls_last=True)
    out = []
    for r in df.iter_rows(named=True):
        out.append(
            {"period": period_label(r["__p"], grain), "group": r[by] if by else None, "value": _f(r["__v"])}
        )
    return out


def evaluate_status(kdef: KpiDef, value: float | None, previous: float | None = None) -> tuple[Any, str]:
    """(target value for the output, status: ok | warning | breach | no_target | no_data)."""
    target: Target | None = kdef.target
    if target is None:
        return None, "no_data" if value is None else "no_target"
    threshold = target.threshold
    op = target.op or (">=" if kdef.direction == "higher" else "<=")
    if target.change_vs_previous is not None:
        if previous is None:
            return None, "no_data" if value is None else "no_target"
        threshold = previous * (1 + target.change_vs_previous)
        op = "<=" if kdef.direction == "lower" else ">="
    if value is None or threshold is None:
        return threshold, "no_data"
    ok = {"<": value < threshold, "<=": value <= threshold, ">": value > threshold, ">=": value >= threshold}[
        op
    ]
    if not ok:
        return threshold, "breach"
    w = kdef.warning
    if w is not None and (
        (kdef.direction == "lower" and value >= w) or (kdef.direction == "higher" and value < w)
    ):
        return threshold, "warning"
    return threshold, "ok"


_ENGINES: dict[int, KpiEngine] = {}


def engine_for(hub: Any) -> KpiEngine:
    """The hub's engine (catalog from settings; notices from the notifications feature when present)."""
    eng = hub.services.get("kpi_engine") if hasattr(hub, "services") else None
    if isinstance(eng, KpiEngine):
        return eng
    eng = _ENGINES.get(id(hub))
    if eng is None:
        provider = hub.services.get("kpi_notices") if hasattr(hub, "services") else None
        eng = KpiEngine(
            hub.db,
            catalog=load_catalog(config_file=hub.settings.config_file),
            now=hub.clock.now,
            notices_provider=provider,
        )
        _ENGINES[id(hub)] = eng
    return eng
