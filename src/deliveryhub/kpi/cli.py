"""`deliveryhub kpi list|compute` (wired in entrypoints/cli.py)."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from deliveryhub.kpi.catalog import CatalogError, load_catalog
from deliveryhub.kpi.engine import KpiQueryError

FORMATS = ("json", "table", "csv")
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(2)


def kpi_list(obj: dict[str, Any], fmt: str) -> None:
    """Print the catalog: key, names, unit, direction, target."""
    if fmt not in FORMATS:
        _fail(f"--format: one of {', '.join(FORMATS)}")
    try:
        from deliveryhub.config import load_settings

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


def result_rows(result: dict[str, Any], catalog: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Flatten the compute JSON into rows (kpi, period, group, value, target, status) for CSV/XLSX/table."""
    rows = []
    for key, k in result["kpis"].items():
        name = catalog[key].name_ko if catalog and key in catalog else ""
        rows.append(
            {
                "kpi": key,
                "name": name,
                "period": "total",
                "group": "",
                "value": k["value"],
                "target": k["target"],
                "status": k["status"],
                "reason": k.get("reason", ""),
            }
        )
        for s in k["series"]:
            rows.append(
                {
                    "kpi": key,
                    "name": name,
                    "period": s["period"],
                    "group": s["group"] or "",
                    "value": s["value"],
                    "target": k["target"],
                    "status": "",
                    "reason": "",
                }
            )
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text of flattened KPI rows (UTF-8; Excel opens it with the BOM the caller adds)."""
    buf = io.StringIO()
    if not rows:
        return ""
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """An XLSX workbook of flattened KPI rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "KPIs"
    if rows:
        ws.append(list(rows[0]))
        for r in rows:
            ws.append([v for v in r.values()])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.kpi.engine import engine_for

    try:
        hub = bootstrap(db_url=obj.get("db_url"))
    except Exception as exc:
        _fail(f"cannot start: {exc}")
    try:
        engine = engine_for(hub)
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
