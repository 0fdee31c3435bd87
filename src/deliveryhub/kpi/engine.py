"""The KPI engine: any catalog KPI for any period, grain and dimension, in the operator's time zone.

Facts (one Polars frame per population: orders, delivered orders, tickets, …; `facts.py`) are derived
from the snapshot of the read models, the inbox and the notices sent (`snapshot.py`), cached per
snapshot version and zone, and every KPI is a declarative aggregation over one fact (catalog.yaml,
`measures.py`). Absent inputs give null with a reason, never 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.kpi.catalog import KpiDef, load_catalog
from deliveryhub.kpi.facts import Facts
from deliveryhub.kpi.measures import (
    KpiResult,
    aggregate,
    at_period_end,
    evaluate_status,
    manual_result,
    measure_expr,
    number,
    population_counts,
    series_of,
)
from deliveryhub.kpi.periods import (
    DIMENSIONS,
    GRAINS,
    KpiQueryError,
    current_period,
    label_expr,
    lit,
    parse_date,
    parse_tz,
    period_end,
    period_expr,
)
from deliveryhub.kpi.snapshot import SnapshotStore, store_for

__all__ = [
    "KpiEngine",
    "KpiQueryError",
    "KpiResult",
    "current_period",
    "evaluate_status",
    "period_end",
]


def sample_fields(kdef: KpiDef, res: KpiResult) -> dict[str, Any]:
    """The output fields that say how much stands behind a value: `sample` (rows the value is computed
    over; a ratio's denominator), `count` (a ratio's numerator), `min_sample` (below it the status is
    low_sample, shown as "표본 부족") and `excluded` ({count, reason_ko, reason_en}: rows left out on
    purpose). Documented in docs/KPI_SAMPLES.md."""
    out: dict[str, Any] = {}
    if res.sample is not None:
        out["sample"] = res.sample
    if res.count is not None:
        out["count"] = res.count
    if kdef.min_sample:
        out["min_sample"] = kdef.min_sample
    if kdef.excluded is not None and res.excluded is not None:
        out["excluded"] = {
            "count": res.excluded,
            "reason_ko": kdef.excluded.reason_ko,
            "reason_en": kdef.excluded.reason_en,
        }
    return out


class KpiEngine:
    """Computes catalog KPIs from one database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        db: Database,
        *,
        catalog: dict[str, KpiDef] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog if catalog is not None else load_catalog()
        self.now = now or (lambda: datetime.now(UTC))
        self.store: SnapshotStore = store_for(db)
        self._facts: dict[str, Facts] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------- inputs
    def facts(self, tz: str) -> Facts:
        """Facts of the current snapshot in `tz` (cached per snapshot version and zone)."""
        parse_tz(tz)
        snap = self.store.current()
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
            target_value, status = evaluate_status(kdef, res.value, previous, res.sample)
            entry: dict[str, Any] = {
                "value": res.value,
                "target": target_value,
                "status": status,
                "series": res.series,
            }
            if res.reason:
                entry["reason"] = res.reason
            entry.update(sample_fields(kdef, res))
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
            return manual_result(kdef, manual, d0, d1, grain, by)
        missing = self._missing(kdef, facts)
        if missing:
            return KpiResult(None, [], missing)
        if kdef.num_measure is not None and kdef.den_measure is not None:
            return self._ratio_of_measures(kdef, facts, d0, d1, grain, by)
        assert kdef.input is not None and kdef.time is not None
        if kdef.input == "parcels_at_period_end":
            return at_period_end(kdef, facts, d0, d1, grain, by)
        df = self._population(kdef, facts, kdef.input, kdef.time, kdef.filter, d0, d1, grain, by)
        note = None
        if by is not None and by not in df.columns:
            note = f"{kdef.key} cannot be split by {by}"
            by = None
        overall, series = aggregate(kdef, df, by, grain)
        sample, count = population_counts(kdef, df)
        excluded = None
        if kdef.excluded is not None:
            left_out = self._population(kdef, facts, kdef.input, kdef.time, kdef.excluded.when, d0, d1, grain)
            excluded = left_out.height
        reason = note
        if overall is None and reason is None:
            reason = f"no {kdef.input.replace('_', ' ')} in the period" + (
                " matching the filter" if kdef.filter else ""
            )
            if excluded:
                reason += f"; {excluded} left out: {kdef.excluded.reason_en}"  # type: ignore[union-attr]
        return KpiResult(overall, series, reason, sample, count, excluded)

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
        return df.with_columns(period_expr(grain).alias("__p"))

    @staticmethod
    def _params(kdef: KpiDef, name: str, df: pl.DataFrame, now: datetime) -> pl.DataFrame:
        """Columns that depend on a KPI's parameters (SLA hours, notice deadline)."""
        if name == "tickets":
            sla = float(kdef.params.get("sla_hours", 24))
            cutoff = now - timedelta(hours=sla)
            return df.with_columns(
                (pl.col("first_response_minutes") <= sla * 60).fill_null(False).alias("replied_in_sla"),
                (pl.col("first_reply_at").is_null() & (pl.col("created_at") > lit(cutoff))).alias(
                    "sla_pending"
                ),
            )
        if name == "stage_changes":
            # In time: by the hub's own deadline for its notice (quiet hours included), else within
            # notice_minutes of the change; an unsent notice whose deadline is still ahead is open.
            limit = float(kdef.params.get("notice_minutes", 10))
            sent = pl.col("first_notice_at")
            deadline = pl.col("notice_deadline_at")
            return df.with_columns(
                pl.when(deadline.is_not_null())
                .then(sent <= deadline)
                .otherwise(pl.col("notice_delay_minutes") <= limit)
                .fill_null(False)
                .alias("noticed_in_time"),
                (sent.is_null() & (deadline > lit(now))).fill_null(False).alias("notice_open"),
            )
        return df

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
            expr = measure_expr(m).alias(name)
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
        return KpiResult(number(overall), series_of(joined, by_ok, grain), reason)

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
                    < lit(facts.now - timedelta(hours=float(kdef.params.get("stale_hours", 48))))
                )
            )
            df = df.with_columns(period_expr(grain).alias("__p"))
        else:
            df = self._population(kdef, facts, name, time_col, flt, d0, d1, grain, by)
        if "order_id" not in df.columns:
            return {"kpi": key, "orders": [], "total": 0, "reason": f"{name} rows are not orders"}
        if cond and kdef.kind == "ratio":
            df = df.filter(pl.sql_expr(cond).fill_null(False))
        if period is not None:
            df = df.filter(label_expr(grain) == period)
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
                    "value": number(r[value_col]) if value_col else None,
                    "carrier": r.get("carrier"),
                }
            )
        return {"kpi": key, "orders": rows, "total": total}
