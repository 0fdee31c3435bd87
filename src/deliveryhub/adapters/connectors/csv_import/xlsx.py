"""Reads an Excel (.xlsx) export of a Korean OMS into canonical events, with the CSV importer's mapping
YAML and its row-level rejection report.

What Korean OMS exports look like, and what is done about it:
- a title row or two above the table (“주문내역 (2026-12-01 ~ 2026-12-06)”), and a two-row header whose
  upper row groups columns under merged cells (“주문정보” over 주문번호/주문일시, “배송정보” over
  택배사/송장번호) while some columns are merged down both rows: the header row is the first row (within
  the first 20) that, read together with the row above it, names every required column of the mapping.
  A column's name is its own cell, or — when that is empty because of a vertical merge — the cell above;
  “그룹 이름” forms (e.g. "배송정보 송장번호") match too. Spaces and line breaks in names are ignored.
- one row per product line: the rows of one 주문번호 become ONE order (its order.created carries every
  line's item); repeated order-level facts (payment, waybill per tracking number) are kept once. When
  any line of an order is rejected, the order's other lines are rejected with it (a partial order is
  never imported; fix the row and import the file again).
- dates as Excel date cells, Excel serial numbers, or Korean text (2026-12-01, 2026.12.01,
  2026년 12월 1일 14:30, 2026. 12. 1. 오후 2:30); 주문번호/송장번호 typed as numbers keep all digits.

openpyxl reads the file in read-only (streaming) mode; rows are numbered as Excel shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from deliveryhub.adapters.connectors.csv_import.mapping import (
    CsvMapping,
    load_mapping,
)
from deliveryhub.adapters.connectors.csv_import.reader import (
    CsvImportError,
    Rejection,
    RowResult,
    event_id,
    map_row,
)

HEADER_SCAN_ROWS = 20
DATE_TYPES = ("datetime", "date")
_KOREAN_DATE = re.compile(
    r"^\s*(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일(?:\s*\([^)]*\))?"
    r"(?:\s*(오전|오후)?\s*(\d{1,2})\s*(?::|시)\s*(\d{1,2})?\s*(?:분)?(?:\s*:?\s*(\d{1,2})\s*초?)?)?\s*$"
)


class XlsxImportError(CsvImportError):
    """The workbook as a whole cannot be imported (not an .xlsx, no sheet, no header); nothing was read."""


def _norm(name: Any) -> str:
    return re.sub(r"\s+", "", str(name)) if name is not None else ""


def korean_date_text(text: str) -> str | None:
    """'2026년 12월 1일 14:30' / '2026년 12월 1일 오후 2시 30분' → '2026-12-01 14:30'; None otherwise."""
    m = _KOREAN_DATE.match(text)
    if m is None:
        return None
    year, month, day, ampm, hour, minute, second = m.groups()
    out = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    if hour is None:
        return out
    h = int(hour)
    if ampm == "오후" and h < 12:
        h += 12
    elif ampm == "오전" and h == 12:
        h = 0
    out += f" {h:02d}:{int(minute or 0):02d}"
    return out + (f":{int(second):02d}" if second else "")


def cell_text(value: Any, *, is_date: bool = False) -> str:
    """One cell as the CSV importer's text: dates ISO, serials (in date columns) as dates, numbers whole."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if is_date and 1 <= value < 2958466:
            converted = from_excel(value)
            return cell_text(converted)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    text = str(value).strip()
    if is_date:
        return korean_date_text(text) or text
    return text


@dataclass
class _Order:
    rows: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    rejected: Rejection | None = None


class XlsxEventReader(Iterator[RowResult]):
    """Iterator of RowResult over one sheet, grouped by order; `header_row`, `sheet` tell what was found.

    The header is found in the constructor, so an XlsxImportError comes before any row. Rows are read
    as a stream; results come once the sheet is read (an order's lines may be anywhere in the sheet).
    """

    def __init__(self, path: Path, mapping: CsvMapping, sheet: str | None = None) -> None:
        self.path = Path(path)
        self.mapping = mapping
        self.zone = ZoneInfo(mapping.timezone)
        self.encoding = "xlsx"
        try:
            self._book = load_workbook(self.path, read_only=True, data_only=True)
        except FileNotFoundError as exc:
            raise XlsxImportError(f"{self.path}: cannot read ({exc.strerror})") from exc
        except Exception as exc:  # openpyxl raises several types for a file that is not .xlsx
            raise XlsxImportError(f"{self.path.name}: not an Excel .xlsx workbook ({exc})") from exc
        if sheet is not None and sheet not in self._book.sheetnames:
            self._book.close()
            raise XlsxImportError(
                f"{self.path.name}: no sheet {sheet!r}; sheets: {', '.join(self._book.sheetnames)}"
            )
        ws = self._book[sheet] if sheet is not None else self._book.worksheets[0]
        self.sheet = ws.title
        self._rows = ws.iter_rows(values_only=True)
        self._date_columns = self._dates()
        self.header_row, self.header = self._find_header()
        self._results = self._iter()

    def _dates(self) -> set[str]:
        names = {n for n, spec in self.mapping.columns.items() if spec.field_type in DATE_TYPES}
        names |= {e.occurred_at for e in self.mapping.events}
        return names

    def _required(self) -> set[str]:
        names = {n for n, spec in self.mapping.columns.items() if not spec.optional}
        for event in self.mapping.events:
            names.add(event.occurred_at)
            if event.type_column is not None:
                names.add(event.type_column)
        optional = {n for n, spec in self.mapping.columns.items() if spec.optional}
        return names - optional

    def _known(self) -> dict[str, str]:
        names = set(self.mapping.columns) | self._date_columns
        names |= {e.type_column for e in self.mapping.events if e.type_column is not None}
        return {_norm(n): n for n in names}

    def _name_columns(self, upper: tuple[Any, ...] | None, lower: tuple[Any, ...]) -> list[str]:
        known = self._known()
        names: list[str] = []
        group = ""
        for j, cell in enumerate(lower):
            above = upper[j] if upper is not None and j < len(upper) else None
            if above is not None and _norm(above):
                group = _norm(above)
            own = _norm(cell)
            candidates = [own, group + own, _norm(above)] if own else [_norm(above)]
            name = next((known[c] for c in candidates if c and c in known), None)
            names.append(name or (str(cell).strip() if own else str(above or "").strip()))
        return names

    def _find_header(self) -> tuple[int, list[str]]:
        required = self._required()
        previous: tuple[Any, ...] | None = None
        best: tuple[int, list[str]] = (0, [])
        for row_no in range(1, HEADER_SCAN_ROWS + 1):
            row = next(self._rows, None)
            if row is None:
                break
            names = self._name_columns(previous, row)
            found = required & set(names)
            if found == required and required:
                return row_no, names
            if len(found) > len(set(best[1]) & required):
                best = (row_no, names)
            previous = row
        missing = sorted(required - set(best[1]))
        self._book.close()
        raise XlsxImportError(
            f"{self.path.name} (sheet {self.sheet!r}): no header row with the mapping's columns in the first "
            f"{HEADER_SCAN_ROWS} rows; missing: {', '.join(repr(m) for m in missing)}"
        )

    def __next__(self) -> RowResult:
        return next(self._results)

    def _read_rows(self, order_column: str) -> Iterator[tuple[str, RowResult]]:
        width = len(self.header)
        row_no = self.header_row
        for row in self._rows:
            row_no += 1
            cells: dict[str, str] = {}
            for j, value in enumerate(row[:width]):
                name = self.header[j]
                if name:
                    cells[name] = cell_text(value, is_date=name in self._date_columns)
            if not any(v for v in cells.values()):
                continue
            yield cells.get(order_column, ""), map_row(row_no, cells, self.mapping, self.zone)
        self._book.close()

    def _iter(self) -> Iterator[RowResult]:
        orders: dict[str, _Order] = {}
        loose: list[RowResult] = []
        order_column = self.mapping.column_for("order_id") or "order_id"
        for key, result in self._read_rows(order_column):
            if not key:
                loose.append(result)
                continue
            order = orders.setdefault(key, _Order())
            order.rows.append(result.row)
            if result.rejection is not None:
                order.rejected = order.rejected or result.rejection
                loose.append(result)
            else:
                order.events.extend(result.events)
        by_row: dict[int, RowResult] = {r.row: r for r in loose}
        for key, order in orders.items():
            if order.rejected is not None:
                for row in order.rows:
                    if row not in by_row:
                        reason = (
                            f"order {key!r} ({order_column}) has a rejected row {order.rejected.row}: "
                            "the whole order is left out"
                        )
                        by_row[row] = RowResult(row, rejection=Rejection(row, order_column, reason))
                continue
            first = order.rows[0]
            by_row[first] = RowResult(first, events=merge_order_events(order.events))
        for row in sorted(by_row):
            yield by_row[row]


def merge_order_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of one order's rows as one order: one order.created with every line's items, each
    other fact once (same event id)."""
    created: dict[str, Any] | None = None
    items: list[Any] = []
    others: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "order.created":
            if created is None:
                created = {**event, "data": dict(event["data"])}
            items.extend(event["data"].get("items") or [])
        else:
            others.setdefault(event["event_id"], event)
    out: list[dict[str, Any]] = []
    if created is not None:
        if items:
            created["data"]["items"] = items
        created["event_id"] = event_id(
            created["order_id"] or "",
            created["type"],
            created["occurred_at"],
            created.get("shipment_id"),
            created["data"],
        )
        out.append(created)
    return out + list(others.values())


def read_xlsx_events(
    path: Path, mapping: CsvMapping | Path | str, sheet: str | None = None
) -> XlsxEventReader:
    """Row results of an .xlsx export; `mapping` is a CsvMapping or the path of a mapping YAML.

    Raises MappingError (bad mapping) or XlsxImportError (unreadable workbook, no header) before any row.
    """
    if not isinstance(mapping, CsvMapping):
        mapping = load_mapping(mapping)
    return XlsxEventReader(Path(path), mapping, sheet)
