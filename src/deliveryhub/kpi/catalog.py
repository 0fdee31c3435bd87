"""The KPI catalog as data: the shipped catalog.yaml plus the user's file, validated with line numbers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from deliveryhub.kernel.configfile import ConfigError, config_files, read_config

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")
ENV_VAR = "DELIVERYHUB_KPI_CATALOG"
KINDS = ("ratio", "mean", "count", "percentile", "score", "manual")
UNITS = ("rate", "days", "hours", "minutes", "count", "score", "currency", "kg")
DIRECTIONS = ("higher", "lower")
FACTS = (
    "orders",
    "delivered_orders",
    "delivered_parcels",
    "parcels_at_period_end",
    "stage_changes",
    "tickets",
    "surveys",
    "claims",
    "returns",
    "exchanges",
    "costs",
    "packings",
    "inventory_counts",
    "received",
)
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_TARGET_RE = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*(-?\d+(?:\.\d+)?)\s*$")
_RELATIVE_RE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*%\s*vs\s*previous\s*$", re.IGNORECASE)


class CatalogError(ValueError):
    """A catalog file is invalid; the message names the file, line and field."""


@dataclass(frozen=True)
class Target:
    """A target: `value op threshold`, or a relative change against the previous period."""

    op: str | None = None  # <, <=, >, >=
    threshold: float | None = None
    change_vs_previous: float | None = None  # e.g. -0.40

    @classmethod
    def parse(cls, raw: Any) -> Target | None:
        """'< 0.03', '>= 0.98', '-40% vs previous' or a bare number (direction decides the op later)."""
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            raise ValueError("target must be a comparison such as '< 0.03'")
        if isinstance(raw, int | float):
            return cls(op=None, threshold=float(raw))
        text = str(raw).strip()
        m = _TARGET_RE.match(text)
        if m:
            op = {"≤": "<=", "≥": ">="}.get(m.group(1), m.group(1))
            return cls(op=op, threshold=float(m.group(2)))
        m = _RELATIVE_RE.match(text)
        if m:
            return cls(change_vs_previous=float(m.group(1)) / 100.0)
        try:
            return cls(op=None, threshold=float(text))
        except ValueError:
            raise ValueError(f"target {text!r}: write '< 0.03', '>= 0.98' or '-40% vs previous'") from None

    def text(self) -> str:
        """Human form, as written in the catalog."""
        if self.change_vs_previous is not None:
            return f"{self.change_vs_previous * 100:+.0f}% vs previous"
        return f"{self.op or ''} {self.threshold:g}".strip() if self.threshold is not None else ""

    def as_json(self) -> Any:
        """The JSON value of `target` in the KPI output: the threshold number (or the relative text)."""
        if self.change_vs_previous is not None:
            return self.text()
        return self.threshold


@dataclass(frozen=True)
class Measure:
    """One side of a ratio over its own input: count (or sum of `sum`) of rows passing `filter`."""

    input: str
    time: str
    filter: str | None = None
    sum: str | None = None


@dataclass(frozen=True)
class Excluded:
    """Rows of a KPI's input left out of its population on purpose, reported with their count and why."""

    when: str
    reason_ko: str
    reason_en: str

    def reason(self, lang: str = "ko") -> str:
        """Why these rows are left out, in `lang`."""
        return self.reason_en if lang == "en" else self.reason_ko


@dataclass(frozen=True)
class KpiDef:
    """One KPI of the catalog."""

    key: str
    name_ko: str
    name_en: str
    kind: str
    unit: str
    direction: str
    input: str | None = None
    time: str | None = None
    filter: str | None = None
    numerator: str | None = None
    value: str | None = None
    quantile: float | None = None
    distinct: str | None = None
    num_measure: Measure | None = None
    den_measure: Measure | None = None
    target: Target | None = None
    warning: float | None = None
    industry_avg: float | tuple[float, float] | None = None
    attribution: str = ""
    requires: tuple[str, ...] = ()
    excluded: Excluded | None = None
    min_sample: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    action_ko: str = ""
    action_en: str = ""
    line: int = 0

    def name(self, lang: str = "ko") -> str:
        """The display name in `lang`."""
        return self.name_en if lang == "en" else self.name_ko

    def action(self, lang: str = "ko") -> str:
        """The improvement action implied by a breach, in `lang`."""
        return self.action_en if lang == "en" else self.action_ko

    def industry_text(self) -> str:
        """Industry average as text ('0.055' or '0.45–0.95')."""
        if self.industry_avg is None:
            return ""
        if isinstance(self.industry_avg, tuple):
            return f"{self.industry_avg[0]:g}–{self.industry_avg[1]:g}"
        return f"{self.industry_avg:g}"

    def summary(self) -> dict[str, Any]:
        """The `kpi list` row."""
        return {
            "key": self.key,
            "name_ko": self.name_ko,
            "name_en": self.name_en,
            "kind": self.kind,
            "unit": self.unit,
            "direction": self.direction,
            "target": self.target.text() if self.target else None,
            "warning": self.warning,
            "industry_avg": list(self.industry_avg)
            if isinstance(self.industry_avg, tuple)
            else self.industry_avg,
            "attribution": self.attribution,
            "input": self.input or (self.num_measure.input if self.num_measure else None),
        }


_KNOWN_FIELDS = {
    "key",
    "name_ko",
    "name_en",
    "kind",
    "unit",
    "direction",
    "input",
    "time",
    "filter",
    "numerator",
    "denominator",
    "value",
    "quantile",
    "distinct",
    "target",
    "warning",
    "industry_avg",
    "attribution",
    "requires",
    "action_ko",
    "action_en",
    "description",
    "stale_hours",
    "notice_minutes",
    "sla_hours",
    "aggregate",
    "excluded",
    "min_sample",
}
_PARAM_FIELDS = ("stale_hours", "notice_minutes", "sla_hours", "aggregate")


def _lines(text: str) -> dict[int, dict[str, int]]:
    """Line number (1-based) of every entry of `kpis:` and of each of its fields, by entry index."""
    out: dict[int, dict[str, int]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return out
    if not isinstance(root, yaml.MappingNode):
        return out
    for k, v in root.value:
        if k.value == "kpis" and isinstance(v, yaml.SequenceNode):
            for i, item in enumerate(v.value):
                fields = {"": item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    for fk, fv in item.value:
                        fields[str(fk.value)] = fv.start_mark.line + 1
                out[i] = fields
    return out


def _check_expr(expr: str, where: str) -> None:
    try:
        pl.sql_expr(expr)
    except Exception as exc:  # polars raises several error types for bad SQL
        raise ValueError(f"{where}: not a valid expression ({str(exc).splitlines()[0][:120]})") from None


def _measure(raw: Any, where: str) -> Measure:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a mapping with input, time, filter?, sum?")
    for name in ("input", "time"):
        if not isinstance(raw.get(name), str):
            raise ValueError(f"{where}.{name}: required")
    if raw["input"] not in FACTS:
        raise ValueError(f"{where}.input: unknown input {raw['input']!r} (one of {', '.join(FACTS)})")
    for name in ("filter", "sum"):
        if raw.get(name) is not None:
            _check_expr(str(raw[name]), f"{where}.{name}")
    return Measure(raw["input"], raw["time"], raw.get("filter"), raw.get("sum"))


def _excluded(raw: Any) -> Excluded | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("when"), str):
        raise ValueError("excluded: a mapping with when (an expression), reason_ko and reason_en")
    _check_expr(raw["when"], "excluded.when")
    return Excluded(raw["when"], str(raw.get("reason_ko") or ""), str(raw.get("reason_en") or ""))


def _parse_entry(raw: dict[str, Any], base: KpiDef | None, line: int) -> KpiDef:
    unknown = set(raw) - _KNOWN_FIELDS
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: unknown field")
    merged: dict[str, Any] = {}
    if base is not None:
        merged = {
            "name_ko": base.name_ko,
            "name_en": base.name_en,
            "kind": base.kind,
            "unit": base.unit,
            "direction": base.direction,
        }
    merged.update(raw)
    key = str(merged.get("key", ""))
    if not _KEY_RE.match(key):
        raise ValueError("key: lower-case letters, digits and _ (2–64 chars)")
    for name in ("name_ko", "name_en", "kind", "unit", "direction"):
        if not merged.get(name):
            raise ValueError(f"{name}: required")
    if merged["kind"] not in KINDS:
        raise ValueError(f"kind: {merged['kind']!r} is not one of {', '.join(KINDS)}")
    if merged["unit"] not in UNITS:
        raise ValueError(f"unit: {merged['unit']!r} is not one of {', '.join(UNITS)}")
    if merged["direction"] not in DIRECTIONS:
        raise ValueError("direction: must be higher or lower")
    try:
        target = Target.parse(merged["target"]) if "target" in merged else (base.target if base else None)
    except ValueError as exc:
        raise ValueError(f"target: {exc}") from None
    warning = merged.get("warning", base.warning if base else None)
    if warning is not None and not isinstance(warning, int | float):
        raise ValueError("warning: must be a number")
    ind = merged.get("industry_avg", base.industry_avg if base else None)
    if isinstance(ind, list):
        if len(ind) != 2 or not all(isinstance(x, int | float) for x in ind):
            raise ValueError("industry_avg: a number or [low, high]")
        ind = (float(ind[0]), float(ind[1]))
    elif ind is not None and not isinstance(ind, int | float | tuple):
        raise ValueError("industry_avg: a number or [low, high]")
    kind = merged["kind"]
    inp = merged.get("input", base.input if base else None)
    num_m = den_m = None
    numerator = merged.get("numerator", base.numerator if base else None)
    if kind != "manual":
        if isinstance(numerator, dict) or "denominator" in merged:
            if kind != "ratio":
                raise ValueError("denominator: only ratio KPIs have one")
            num_m = _measure(numerator, "numerator")
            den_m = _measure(merged.get("denominator"), "denominator")
            numerator = None
        else:
            if inp not in FACTS:
                raise ValueError(f"input: {inp!r} is not one of {', '.join(FACTS)}")
            if not merged.get("time", base.time if base else None):
                raise ValueError("time: required (the column that attributes a row to a period)")
            if kind == "ratio" and not numerator:
                raise ValueError("numerator: required for a ratio")
            if kind in ("mean", "percentile", "score") and not merged.get(
                "value", base.value if base else None
            ):
                raise ValueError(f"value: required for kind {kind}")
        for name in ("filter", "value"):
            expr = merged.get(name)
            if expr is not None:
                _check_expr(str(expr), name)
        if isinstance(numerator, str):
            _check_expr(numerator, "numerator")
    q = merged.get("quantile", base.quantile if base else None)
    if kind == "percentile" and not (isinstance(q, int | float) and 0 < q < 1):
        raise ValueError("quantile: a number between 0 and 1 for percentile KPIs")
    req = merged.get("requires", list(base.requires) if base else [])
    if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
        raise ValueError("requires: a list of event types")
    excluded = _excluded(merged["excluded"]) if "excluded" in merged else (base.excluded if base else None)
    min_sample = merged.get("min_sample", base.min_sample if base else None)
    if min_sample is not None and (
        isinstance(min_sample, bool) or not isinstance(min_sample, int) or min_sample < 0
    ):
        raise ValueError("min_sample: a whole number ≥ 0")
    params = dict(base.params) if base else {}
    params.update({k: merged[k] for k in _PARAM_FIELDS if k in merged})
    return KpiDef(
        key=key,
        name_ko=str(merged["name_ko"]),
        name_en=str(merged["name_en"]),
        kind=kind,
        unit=merged["unit"],
        direction=merged["direction"],
        input=inp if not num_m else None,
        time=merged.get("time", base.time if base else None),
        filter=merged.get("filter", base.filter if base else None),
        numerator=numerator if isinstance(numerator, str) else None,
        value=merged.get("value", base.value if base else None),
        quantile=float(q) if q else None,
        distinct=merged.get("distinct", base.distinct if base else None),
        num_measure=num_m,
        den_measure=den_m,
        target=target,
        warning=float(warning) if warning is not None else None,
        industry_avg=ind,
        attribution=str(merged.get("attribution", base.attribution if base else "")),
        requires=tuple(req),
        excluded=excluded,
        min_sample=min_sample,
        params=params,
        action_ko=str(merged.get("action_ko", base.action_ko if base else "")),
        action_en=str(merged.get("action_en", base.action_en if base else "")),
        line=line,
    )


def parse_catalog_text(text: str, source: str, base: dict[str, KpiDef] | None = None) -> dict[str, KpiDef]:
    """Parse a catalog document; entries override `base` by key. Errors name source:line and the field."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise CatalogError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    out = dict(base or {})
    if doc is None:
        return out
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis", []), list):
        raise CatalogError(f"{source}:1: expected a mapping with a `kpis:` list")
    lines = _lines(text)
    seen: set[str] = set()
    for i, raw in enumerate(doc.get("kpis") or []):
        fields = lines.get(i, {})
        if not isinstance(raw, dict):
            raise CatalogError(f"{source}:{fields.get('', 0)}: each KPI must be a mapping")
        key = str(raw.get("key", ""))
        if key in seen:
            raise CatalogError(
                f"{source}:{fields.get('key', fields.get('', 0))}: key {key!r} is declared twice"
            )
        seen.add(key)
        try:
            out[key] = _parse_entry(raw, out.get(key), fields.get("", 0))
        except ValueError as exc:
            field_name = str(exc).split(":", 1)[0].split(".", 1)[0]
            line = fields.get(field_name, fields.get("", 0))
            raise CatalogError(f"{source}:{line}: KPI {key or '#' + str(i + 1)}: {exc}") from None
    return out


def user_catalog_path(config_file: Path | None = None) -> Path | None:
    """The user's catalog: DELIVERYHUB_KPI_CATALOG, else settings.config_file if it has a `kpis:` section."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    if config_file is not None and Path(config_file).exists():
        try:
            doc = read_config(config_file)  # the one shared, cached parse of the config file
        except ConfigError:
            return None  # the config's owner reports a broken file; it holds no catalog we can read
        if "kpis" in doc.data:
            return Path(config_file)
    return None


def load_catalog(user_file: Path | None = None, *, config_file: Path | None = None) -> dict[str, KpiDef]:
    """The shipped catalog, extended/overridden by the user's catalog file when there is one."""
    catalog = parse_catalog_text(DEFAULT_CATALOG.read_text(encoding="utf-8"), str(DEFAULT_CATALOG))
    path = user_file or user_catalog_path(config_file)
    if path is not None:
        if not Path(path).exists():
            raise CatalogError(f"{path}: KPI catalog file does not exist")
        files = [Path(path)]
        if user_file is None and config_file is not None and Path(path) == Path(config_file):
            files = config_files(path)  # a shop's file builds on the platform's (`extends:`)
        for part in files:
            catalog = parse_catalog_text(part.read_text(encoding="utf-8"), str(part), catalog)
    return catalog


def with_target(kpi: KpiDef, target: str | float | None, warning: float | None) -> KpiDef:
    """A copy of `kpi` with an overridden target and warning threshold."""
    return replace(kpi, target=Target.parse(target), warning=warning)
