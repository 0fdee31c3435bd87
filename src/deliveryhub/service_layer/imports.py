"""Bulk imports (Olist, CSV exports) through the one ingest path, in batches, with a summary: imported,
duplicate, rejected with reasons, data anomalies. Progress is reported to a callback; the command line
(entrypoints/cli.py) draws the progress bar and the tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.csv_import import (
    CsvImportError,
    MappingError,
    load_mapping,
    read_csv_events,
)
from deliveryhub.adapters.connectors.olist import ImportAnomalies, count_olist_orders, iter_olist_events
from deliveryhub.service_layer.ingest import IngestService

BATCH = 1000
# (done, total or None when unknown)
Progress = Callable[[int, int | None], None]


def _batches(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_stream(ingest: IngestService, events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Feed events to the hub in batches; count results and collect rejection reasons."""
    counts: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for batch in _batches(events):
        results = ingest.ingest(batch)
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


def _quiet(_done: int, _total: int | None) -> None:
    pass


def import_olist(
    ingest: IngestService,
    directory: Path,
    tz: str = "America/Sao_Paulo",
    *,
    progress: Progress = _quiet,
) -> tuple[dict[str, Any], ImportAnomalies]:
    """`deliveryhub import olist DIR`: every order, payment, handover, delivery and review as events."""
    anomalies = ImportAnomalies()
    total = count_olist_orders(directory)
    progress(0, total)
    summary = ingest_stream(ingest, iter_olist_events(directory, tz, anomalies=anomalies, progress=progress))
    summary["orders_in_files"] = total
    summary["anomalies"] = anomalies.as_dict()
    return summary, anomalies


def import_csv(
    ingest: IngestService, file: Path, mapping_path: Path, *, progress: Progress = _quiet
) -> tuple[dict[str, Any], list[tuple[int, str | None, str]]]:
    """`deliveryhub import csv FILE --mapping MAPPING.yaml`: the summary and the rejected rows."""
    try:
        mapping = load_mapping(mapping_path)
        reader = read_csv_events(file, mapping)
    except (MappingError, CsvImportError, OSError) as exc:
        return {"error": str(exc), "imported": 0, "duplicate": 0, "rejected": 0}, []
    row_rejections: list[tuple[int, str | None, str]] = []

    def events() -> Iterator[dict[str, Any]]:
        for done, result in enumerate(reader, start=1):
            progress(done, None)
            if result.rejection is not None:
                rej = result.rejection
                row_rejections.append((rej.row, rej.column, rej.reason))
            else:
                yield from result.events

    summary = ingest_stream(ingest, events())
    summary["encoding"] = reader.encoding
    summary["rows_rejected"] = len(row_rejections)
    summary["row_rejections"] = [{"row": r, "column": c, "reason": m} for r, c, m in row_rejections[:50]]
    return summary, row_rejections
