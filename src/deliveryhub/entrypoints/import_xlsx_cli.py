"""`deliveryhub import xlsx FILE --mapping M.yaml [--sheet NAME]`: an Excel export of a Korean OMS through
the CSV importer's mapping and rejection report (registered on `import_app` by entrypoints/cli.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from deliveryhub.adapters.connectors.csv_import import MappingError, load_mapping
from deliveryhub.adapters.connectors.csv_import.xlsx import XlsxImportError, read_xlsx_events
from deliveryhub.service_layer.imports import Progress, ingest_stream
from deliveryhub.service_layer.ingest import IngestService


def _quiet(_done: int, _total: int | None) -> None:
    return None


def import_xlsx(
    ingest: IngestService,
    file: Path,
    mapping_path: Path,
    *,
    sheet: str | None = None,
    progress: Progress = _quiet,
) -> tuple[dict[str, Any], list[tuple[int, str | None, str]]]:
    """Import one .xlsx export: the summary (as `import csv`'s) and the rejected rows."""
    try:
        mapping = load_mapping(mapping_path)
        reader = read_xlsx_events(file, mapping, sheet)
    except (MappingError, XlsxImportError, OSError) as exc:
        return {"error": str(exc), "imported": 0, "duplicate": 0, "rejected": 0}, []
    row_rejections: list[tuple[int, str | None, str]] = []
    orders: set[str] = set()

    def events() -> Iterator[dict[str, Any]]:
        for done, result in enumerate(reader, start=1):
            progress(done, None)
            if result.rejection is not None:
                rej = result.rejection
                row_rejections.append((rej.row, rej.column, rej.reason))
                continue
            for event in result.events:
                if event["type"] == "order.created" and event.get("order_id"):
                    orders.add(event["order_id"])
            yield from result.events

    summary = ingest_stream(ingest, events())
    summary["encoding"] = "xlsx"
    summary["sheet"] = reader.sheet
    summary["header_row"] = reader.header_row
    summary["orders"] = len(orders)
    summary["rows_rejected"] = len(row_rejections)
    summary["row_rejections"] = [{"row": r, "column": c, "reason": m} for r, c, m in row_rejections[:50]]
    return summary, row_rejections


def import_xlsx_command(
    ctx: typer.Context,
    file: Path,
    mapping: Annotated[Path, typer.Option("--mapping")],
    sheet: Annotated[str | None, typer.Option("--sheet", help="sheet name (default: the first)")] = None,
) -> None:
    """Bulk import an OMS Excel export (.xlsx; title rows, two-row headers, one row per product line)."""
    from deliveryhub.adapters.connectors.olist.summary import rejection_table
    from deliveryhub.entrypoints.cli import _hub, _progress_bar, err

    hub = _hub(ctx)
    with _progress_bar() as bar:
        task = bar.add_task(f"XLSX {file.name}", total=None)
        summary, row_rejections = import_xlsx(
            hub.ingest,
            file,
            mapping,
            sheet=sheet,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    if summary.get("error"):
        err.print(summary["error"], style="red", markup=False)
    else:
        if row_rejections:
            err.print(rejection_table(row_rejections))
        err.print(
            f"orders {summary['orders']}, imported {summary['imported']}, duplicate {summary['duplicate']}, "
            f"rejected {summary['rejected'] + len(row_rejections)} (sheet {summary['sheet']}, "
            f"header row {summary['header_row']})"
        )
    print(json.dumps(summary, ensure_ascii=False))
    if summary.get("error"):
        raise typer.Exit(2)
