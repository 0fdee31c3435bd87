"""Rich renderables for the import summary (the CLI prints them after `import olist` / `import csv`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.table import Table

from deliveryhub.adapters.connectors.olist.anomalies import DESCRIPTIONS, ImportAnomalies


def event_count_table(counts: Mapping[str, int], title: str = "Events read") -> Table:
    table = Table(title=title)
    table.add_column("type")
    table.add_column("events", justify="right")
    for type_, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(type_, f"{n:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{sum(counts.values()):,}[/bold]")
    return table


def anomaly_table(anomalies: ImportAnomalies, title: str = "Data anomalies (kept as the data says)") -> Table:
    table = Table(title=title)
    table.add_column("anomaly")
    table.add_column("count", justify="right")
    table.add_column("what it means")
    table.add_column("example orders", overflow="fold")
    for kind, n in sorted(anomalies.counts.items(), key=lambda kv: (-kv[1], kv[0])):
        examples = anomalies.examples.get(kind, [])[:3]
        table.add_row(kind, f"{n:,}", DESCRIPTIONS.get(kind, ""), ", ".join(examples))
    return table


def rejection_table(rejections: Iterable[tuple[int, str | None, str]], limit: int = 20) -> Table:
    """(row, column, reason) triples, e.g. from csv_import Rejection objects; at most `limit` rows."""
    table = Table(title="Rejected rows")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("reason", overflow="fold")
    shown = hidden = 0
    for row, column, reason in rejections:
        if shown < limit:
            table.add_row(str(row), column or "", reason)
            shown += 1
        else:
            hidden += 1
    if hidden:
        table.caption = f"… and {hidden:,} more"
    return table
