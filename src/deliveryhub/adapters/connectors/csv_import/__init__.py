"""Bulk import of CSV exports (Korean OMS / courier spreadsheets) through a declarative YAML mapping.

    reader = read_csv_events(Path("orders.csv"), load_mapping("korean_oms.yaml"))
    for result in reader:          # reader.encoding: 'utf-8' | 'utf-8-sig' | 'cp949' | 'utf-16'
        if result.rejection: ...   # Rejection(row, column, reason)
        else: events.extend(result.events)

The mapping format is described in `mapping`; an annotated example ships as examples/korean_oms.yaml.
"""

from __future__ import annotations

from pathlib import Path

from deliveryhub.adapters.connectors.csv_import.mapping import (
    ColumnSpec,
    CsvMapping,
    EventSpec,
    Mapping,
    MappingError,
    load_mapping,
    parse_mapping,
)
from deliveryhub.adapters.connectors.csv_import.parse import CellError, parse_datetime
from deliveryhub.adapters.connectors.csv_import.reader import (
    CsvEventReader,
    CsvImportError,
    Rejection,
    RowResult,
    decode_bytes,
    map_row,
    read_csv_events,
)

EXAMPLES_DIR = Path(__file__).parent / "examples"

__all__ = [
    "EXAMPLES_DIR",
    "CellError",
    "ColumnSpec",
    "CsvEventReader",
    "CsvImportError",
    "CsvMapping",
    "EventSpec",
    "Mapping",
    "MappingError",
    "Rejection",
    "RowResult",
    "decode_bytes",
    "load_mapping",
    "map_row",
    "parse_datetime",
    "parse_mapping",
    "read_csv_events",
]
