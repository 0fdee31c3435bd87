"""What KPI admins change (the HTTP routes in entrypoints call these): target overrides and manual
KPI values entered one by one or as CSV (UTF-8 or CP949, as Korean spreadsheets save it)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import TYPE_CHECKING, Any

from deliveryhub.adapters.persistence.dialect import upsert
from deliveryhub.kpi.catalog import Target
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.tables import kpi_manual_values, kpi_targets

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

MAX_MANUAL_ROWS = 10_000


class ManualInputError(ValueError):
    """Bad manual-value input; `field` names it, `too_many` when the file has too many rows."""

    def __init__(self, field_name: str, message: str, *, too_many: bool = False) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.too_many = too_many


def set_target(
    core: Core, engine: KpiEngine, key: str, target: str | float | None, warning: float | None, actor: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Override one KPI's target and warning threshold; (before, after) as {target, warning}.

    Raises KeyError for an unknown KPI and ValueError for a target that does not parse."""
    if key not in engine.catalog:
        raise KeyError(key)
    parsed = Target.parse(target)
    before = engine.kpi(key)
    with core.db.write() as conn:
        upsert(
            conn,
            kpi_targets,
            [
                {
                    "key": key,
                    "target": parsed.text() if parsed else None,
                    "warning": warning,
                    "updated_by": actor,
                    "updated_at": core.clock.now(),
                }
            ],
            ["key"],
        )
    after = engine.kpi(key)
    return (
        {"target": before.target.text() if before.target else None, "warning": before.warning},
        {"target": after.target.text() if after.target else None, "warning": after.warning},
    )


def decode_csv(raw: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM) or CP949."""
    for enc in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ManualInputError("csv", "csv: encoding must be UTF-8 or CP949")


def parse_manual_csv(text: str, known: set[str]) -> list[dict[str, Any]]:
    """Rows of key,period,value[,group]; a period is YYYY-MM or YYYY-MM-DD."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or not {"key", "period", "value"} <= set(reader.fieldnames):
        raise ManualInputError("csv", "csv: header must have key,period,value (and optional group)")
    rows = []
    for n, r in enumerate(reader, start=2):
        if n > MAX_MANUAL_ROWS + 1:
            raise ManualInputError("csv", f"csv: at most {MAX_MANUAL_ROWS} rows", too_many=True)
        key = (r.get("key") or "").strip()
        if key not in known:
            raise ManualInputError("key", f"line {n}: key: unknown KPI {key!r}")
        raw_period = (r.get("period") or "").strip()
        try:
            period = date.fromisoformat(raw_period[:10] if len(raw_period) > 7 else raw_period + "-01")
        except ValueError:
            raise ManualInputError("period", f"line {n}: period: YYYY-MM or YYYY-MM-DD") from None
        try:
            value = float((r.get("value") or "").strip())
        except ValueError:
            raise ManualInputError("value", f"line {n}: value: not a number") from None
        rows.append({"key": key, "period": period, "grp": (r.get("group") or "").strip(), "value": value})
    return rows


def store_manual(core: Core, rows: list[dict[str, Any]], actor: str) -> int:
    """Store manual values (a value for the same key, period and group replaces the old one); how many."""
    now = core.clock.now()
    with core.db.write() as conn:
        upsert(
            conn,
            kpi_manual_values,
            [{**r, "entered_by": actor, "entered_at": now} for r in rows],
            ["key", "period", "grp"],
        )
    return len(rows)
