"""Bulk imports (Olist, CSV exports) through the one ingest path, in batches, with a Rich progress bar
and a summary: imported, duplicate, rejected with reasons, data anomalies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

BATCH = 1000


def _batches(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_stream(hub: Any, events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Feed events to the hub in batches; count results and collect rejection reasons."""
    counts: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for batch in _batches(events):
        results = hub.ingest.ingest(batch)
        for item, res in zip(batch, results, strict=True):
            counts[res.status] += 1
            if res.status == "accepted":
                by_type[str(item.get("type"))] += 1
            elif res.status == "rejected" and res.error:
                reasons[res.error.get("message", "?")] += 1
                if len(examples) < 20:
                    examples.append({"event_id": res.event_id, **res.error})
    return {
        "imported": counts["accepted"],
        "duplicate": counts["duplicate"],
        "rejected": counts["rejected"],
        "imported_by_type": dict(by_type),
        "rejection_reasons": dict(reasons.most_common(20)),
        "rejected_examples": examples,
    }


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def import_olist(hub: Any, directory: Path, tz: str = "America/Sao_Paulo") -> dict[str, Any]:
    """`deliveryhub import olist DIR`: every order, payment, handover, delivery and review as events."""
    from deliveryhub.adapters.connectors.olist import ImportAnomalies, count_olist_orders, iter_olist_events
    from deliveryhub.adapters.connectors.olist.summary import anomaly_table

    console = Console(stderr=True)
    anomalies = ImportAnomalies()
    total = count_olist_orders(directory)
    with _progress(console) as progress:
        task = progress.add_task("Olist 가져오기 / importing orders", total=total)

        def tick(done: int, _total: int) -> None:
            progress.update(task, completed=done)

        summary = ingest_stream(hub, iter_olist_events(directory, tz, anomalies=anomalies, progress=tick))
    summary["orders_in_files"] = total
    summary["anomalies"] = anomalies.as_dict()
    if anomalies.total:
        console.print(anomaly_table(anomalies))
    console.print(
        f"imported {summary['imported']}, duplicate {summary['duplicate']}, rejected {summary['rejected']}"
    )
    return summary


def import_csv(hub: Any, file: Path, mapping_path: Path) -> dict[str, Any]:
    """`deliveryhub import csv FILE --mapping MAPPING.yaml`."""
    from deliveryhub.adapters.connectors.csv_import import (
        CsvImportError,
        MappingError,
        load_mapping,
        read_csv_events,
    )
    from deliveryhub.adapters.connectors.olist.summary import rejection_table

    console = Console(stderr=True)
    try:
        mapping = load_mapping(mapping_path)
        reader = read_csv_events(file, mapping)
    except (MappingError, CsvImportError, OSError) as exc:
        console.print(f"[red]{exc}[/red]")
        return {"error": str(exc), "imported": 0, "duplicate": 0, "rejected": 0}
    row_rejections: list[tuple[int, str | None, str]] = []

    def events() -> Iterator[dict[str, Any]]:
        with _progress(console) as progress:
            task = progress.add_task(f"CSV {file.name}", total=None)
            for result in reader:
                progress.advance(task)
                if result.rejection is not None:
                    rej = result.rejection
                    row_rejections.append((rej.row, rej.column, rej.reason))
                else:
                    yield from result.events

    summary = ingest_stream(hub, events())
    summary["encoding"] = reader.encoding
    summary["rows_rejected"] = len(row_rejections)
    summary["row_rejections"] = [{"row": r, "column": c, "reason": m} for r, c, m in row_rejections[:50]]
    if row_rejections:
        console.print(rejection_table(row_rejections))
    console.print(
        f"imported {summary['imported']}, duplicate {summary['duplicate']}, "
        f"rejected {summary['rejected'] + len(row_rejections)} (encoding {reader.encoding})"
    )
    return summary
