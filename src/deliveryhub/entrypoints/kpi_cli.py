"""`deliveryhub kpi list|compute` and `deliveryhub report monthly` (wired in entrypoints/cli.py): the
KPI feature computes and renders, this module starts a hub and prints."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from deliveryhub.bootstrap import Hub, bootstrap
from deliveryhub.config import load_settings
from deliveryhub.kpi.catalog import CatalogError, load_catalog
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.export import result_rows, to_csv
from deliveryhub.kpi.periods import KpiQueryError
from deliveryhub.kpi.report import parse_month, write_report

FORMATS = ("json", "table", "csv")
err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(2)


def _start_kpi(obj: dict[str, Any]) -> tuple[Hub, KpiEngine]:
    """A started hub and its KPI engine; fails (closing the hub) when the KPI feature is not wired."""
    try:
        hub = bootstrap(db_url=obj.get("db_url"))
    except Exception as exc:
        _fail(f"cannot start: {exc}")
    if hub.kpi is None:
        hub.close()
        _fail("the KPI feature is not wired into this hub")
    return hub, hub.kpi.engine


def kpi_list(obj: dict[str, Any], fmt: str) -> None:
    """Print the catalog: key, names, unit, direction, target."""
    if fmt not in FORMATS:
        _fail(f"--format: one of {', '.join(FORMATS)}")
    try:
        catalog = load_catalog(config_file=load_settings().config_file)
    except CatalogError as exc:
        _fail(str(exc))
    rows = [k.summary() for k in catalog.values()]
    if fmt == "json":
        print(json.dumps({"kpis": rows}, ensure_ascii=False))
        return
    cols = ["key", "name_ko", "name_en", "kind", "unit", "direction", "target", "warning", "industry_avg"]
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r[c] is None else r[c] for c in cols])
        return
    table = Table(title="KPI catalog / KPI 목록")
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*["" if r[c] is None else str(r[c]) for c in cols])
    Console().print(table)


def kpi_compute(
    obj: dict[str, Any],
    date_from: str,
    date_to: str,
    grain: str,
    by: str | None,
    tz: str,
    fmt: str,
    kpis: list[str] | None,
) -> None:
    """Compute the catalog for a period and print JSON, a table or CSV."""
    if fmt not in FORMATS:
        _fail(f"--format: one of {', '.join(FORMATS)}")
    hub, engine = _start_kpi(obj)
    try:
        result = engine.compute(date_from, date_to, grain, by, tz, kpis or None)
    except KpiQueryError as exc:
        _fail(f"--{exc.field}: {exc.message}" if not exc.message.startswith(exc.field) else exc.message)
    except CatalogError as exc:
        _fail(str(exc))
    finally:
        hub.close()
    if fmt == "json":
        print(json.dumps(result, ensure_ascii=False))
        return
    rows = result_rows(result, engine.catalog)
    if fmt == "csv":
        sys.stdout.write(to_csv(rows))
        return
    table = Table(title=f"KPIs {result['from']} → {result['to']} ({grain}{', ' + by if by else ''})")
    for c in ("kpi", "name", "value", "target", "status", "reason"):
        table.add_column(c)
    for r in rows:
        if r["period"] == "total":
            v = r["value"]
            table.add_row(
                r["kpi"],
                r["name"],
                "—" if v is None else f"{v:.4g}",
                "" if r["target"] is None else str(r["target"]),
                r["status"],
                r["reason"] or "",
            )
    Console().print(table)


def report_monthly(obj: dict[str, Any], month: str, out: Path, tz: str) -> None:
    """`deliveryhub report monthly --month YYYY-MM --out FILE.pdf|.html`."""
    try:
        parse_month(month)
        if Path(out).suffix.lower() not in (".pdf", ".html", ".htm"):
            raise ValueError("--out: the file name must end in .pdf or .html")
    except ValueError as exc:
        _fail(str(exc))
    hub, engine = _start_kpi(obj)
    try:
        path = write_report(engine, month, Path(out), tz)
    except (ValueError, KpiQueryError) as exc:
        _fail(str(exc))
    finally:
        hub.close()
    print(str(path))
