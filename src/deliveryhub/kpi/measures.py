"""How a KPI turns a population into numbers: the aggregation of each kind (ratio, mean, percentile,
score, count), parcels in flight at each period end, manual values, and the target status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from deliveryhub.kpi.catalog import KpiDef, Measure, Target
from deliveryhub.kpi.facts import Facts
from deliveryhub.kpi.periods import lit, parse_tz, period_end, period_expr, period_label, period_start
from deliveryhub.kpi.snapshot import UTC_DT


@dataclass
class KpiResult:
    """One KPI over a query: overall value, series, and the reason when null."""

    value: float | None
    series: list[dict[str, Any]]
    reason: str | None = None
    sample: int | None = None  # rows the value is computed over (a ratio's denominator)
    count: int | None = None  # a ratio's numerator
    excluded: int | None = None  # rows left out on purpose (the catalog entry's `excluded`)


def aggregate(
    kdef: KpiDef, df: pl.DataFrame, by: str | None, grain: str
) -> tuple[float | None, list[dict[str, Any]]]:
    """The KPI's overall value over `df` and its series per period (and group `by`)."""
    keys = ["__p"] + ([by] if by else [])
    agg = agg_exprs(kdef)
    if kdef.kind == "ratio" and kdef.distinct:
        cond = pl.sql_expr(kdef.numerator or "TRUE").fill_null(False).alias("__c")
        ent = df.with_columns(cond).group_by([*keys, kdef.distinct]).agg(pl.col("__c").any())
        series_df = ent.group_by(keys).agg(pl.len().alias("__n"), pl.col("__c").sum().alias("__k"))
        tot = df.with_columns(cond).group_by(kdef.distinct).agg(pl.col("__c").any())
        overall = (tot["__c"].sum() / tot.height) if tot.height else None
        series_df = series_df.with_columns((pl.col("__k") / pl.col("__n")).alias("__v"))
        return number(overall), series_of(series_df, by, grain)
    series_df = df.group_by(keys).agg(agg)
    total = df.select(agg)
    overall = total["__v"][0] if df.height else None
    if kdef.kind == "count" and not df.height:
        overall = 0.0
    return number(overall), series_of(series_df, by, grain)


def at_period_end(kdef: KpiDef, facts: Facts, d0: date, d1: date, grain: str, by: str | None) -> KpiResult:
    """Parcels in flight at each period's end (or now): stale when silent longer than stale_hours."""
    zone = parse_tz(facts.tz)
    hours = float(kdef.params.get("stale_hours", 48))
    base = facts.frame("parcels_at_period_end").filter(pl.col("handed_over_at").is_not_null())
    lo = datetime.combine(d0, datetime.min.time(), zone).astimezone(UTC)
    # Only parcels that can be in flight at some period end: not delivered before the range starts.
    base = base.filter(pl.col("delivered_at").is_null() | (pl.col("delivered_at") > lit(lo)))
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
    _, series = aggregate(kdef, all_df, by, grain)
    overall = None
    sample, count = (0, None) if overall_df is None else population_counts(kdef, overall_df)
    if overall_df is not None and overall_df.height:
        overall = number(overall_df.select(agg_exprs(kdef))["__v"][0])
    reason = None if overall is not None else "no parcels in flight at the end of the period"
    return KpiResult(overall, series, reason, sample, count)


def manual_result(
    kdef: KpiDef, manual: pl.DataFrame | None, d0: date, d1: date, grain: str, by: str | None
) -> KpiResult:
    """A manual KPI from the values entered for [d0, d1] (mean, sum or last, per its catalog entry)."""
    if manual is None:
        return KpiResult(None, [], "no manual values entered")
    df = manual.filter((pl.col("key") == kdef.key) & pl.col("__d").is_between(d0, d1))
    if not df.height:
        return KpiResult(None, [], "no manual values entered for the period")
    how = str(kdef.params.get("aggregate", "mean"))
    agg = {"sum": pl.col("value").sum(), "last": pl.col("value").sort_by("__d").last()}.get(
        how, pl.col("value").mean()
    ).alias("__v")
    df = df.with_columns(period_expr(grain).alias("__p"))
    if by is not None:
        df = df.with_columns(pl.col("grp").alias(by))
        overall_df = df.filter(pl.col("grp").is_null())
        if not overall_df.height:
            overall_df = df
    else:
        overall_df = df.filter(pl.col("grp").is_null()) if df["grp"].null_count() else df
    series_df = df.group_by(["__p"] + ([by] if by else [])).agg(agg)
    return KpiResult(number(overall_df.select(agg)["__v"][0]), series_of(series_df, by, grain))


def agg_exprs(kdef: KpiDef) -> pl.Expr:
    """The aggregation of one KPI kind, as `__v`."""
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


def measure_expr(m: Measure) -> pl.Expr:
    """A measure of a ratio of measures: a sum, or a row count."""
    if m.sum:
        return pl.sql_expr(m.sum).cast(pl.Float64).sum()
    return pl.len().cast(pl.Float64)


def number(v: Any) -> float | None:
    """A float for JSON: None for null, NaN and anything not numeric."""
    if v is None:
        return None
    try:
        fv = float(v)
    except (TypeError, ValueError):
        return None
    return None if fv != fv else fv  # NaN → null


def series_of(df: pl.DataFrame, by: str | None, grain: str) -> list[dict[str, Any]]:
    """The `__v` of each period (and group) as the API's series entries, in order."""
    if not df.height:
        return []
    cols = ["__p"] + ([by] if by else [])
    df = df.sort(cols, nulls_last=True)
    out = []
    for r in df.iter_rows(named=True):
        out.append(
            {
                "period": period_label(r["__p"], grain),
                "group": r[by] if by else None,
                "value": number(r["__v"]),
            }
        )
    return out


def population_counts(kdef: KpiDef, df: pl.DataFrame) -> tuple[int, int | None]:
    """(sample, numerator count): the rows a KPI's value is computed over, and for a ratio those counted."""
    if kdef.kind == "ratio" and kdef.distinct:
        ent = df.with_columns(pl.sql_expr(kdef.numerator or "TRUE").fill_null(False).alias("__c"))
        ent = ent.group_by(kdef.distinct).agg(pl.col("__c").any())
        return ent.height, int(ent["__c"].sum())
    if kdef.kind == "ratio":
        return df.height, int(df.select(pl.sql_expr(kdef.numerator or "TRUE").fill_null(False).sum()).item())
    if kdef.kind in ("mean", "score", "percentile"):
        return int(df.select(pl.sql_expr(kdef.value or "0").is_not_null().sum()).item()), None
    return df.height, None


def evaluate_status(
    kdef: KpiDef, value: float | None, previous: float | None = None, sample: int | None = None
) -> tuple[Any, str]:
    """(target value for the output, status: ok | warning | breach | low_sample | no_target | no_data).

    low_sample ("표본 부족"): the KPI has a `min_sample` and fewer rows than that stand behind the value;
    the value is still reported but judged against no target (never red, never alerted)."""
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
    if kdef.min_sample and sample is not None and sample < kdef.min_sample:
        return threshold, "low_sample"
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
