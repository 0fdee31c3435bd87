"""KPI results as a flat table (total and series rows) for the CLI, CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
from typing import Any


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
