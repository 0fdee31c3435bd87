"""Reads a CSV export with Korean headers into canonical events, row by row.

Each data row gives one RowResult: its events, or a rejection naming the column. Rows are numbered as a
spreadsheet shows them (header = row 1, first data row = row 2). Completely blank rows are skipped.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deliveryhub.adapters.connectors.csv_import import parse
from deliveryhub.adapters.connectors.csv_import.mapping import (
    ORDERLESS_TYPES,
    ColumnSpec,
    CsvMapping,
    EventSpec,
    load_mapping,
)
from deliveryhub.contracts.ids import ID_FIELDS, id_problem

MAX_EVENT_ID = 128


class CsvImportError(ValueError):
    """The file as a whole cannot be imported (encoding, header); nothing was read."""


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass(frozen=True)
class RowResult:
    row: int
    events: list[dict[str, Any]] = field(default_factory=list)
    rejection: Rejection | None = None

    @property
    def ok(self) -> bool:
        return self.rejection is None


def decode_bytes(raw: bytes, encoding: str = "auto", name: str = "file") -> tuple[str, str]:
    """(text, encoding used). auto: UTF-16 by BOM, else UTF-8 (with or without BOM), else CP949."""
    if encoding != "auto":
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise CsvImportError(
                f"{name}: not {encoding} (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "set `encoding: auto` in the mapping or save the file again"
            ) from exc
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    try:
        used = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
        return raw.decode("utf-8-sig"), used
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("cp949"), "cp949"
        except UnicodeDecodeError as cp949_error:
            raise CsvImportError(
                f"{name}: cannot tell the text encoding: not UTF-8 (byte 0x{raw[utf8_error.start]:02x} at "
                f"offset {utf8_error.start}) and not CP949/EUC-KR (byte 0x{raw[cp949_error.start]:02x} at "
                f"offset {cp949_error.start}). In Excel use 'Save as' → 'CSV UTF-8 (comma delimited)'"
            ) from cp949_error


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _set_path(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = tree
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _get_path(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class CsvEventReader(Iterator[RowResult]):
    """Iterator of RowResult over one file; `encoding`, `delimiter` and `header` describe what was found.

    Decoding and the header check happen in the constructor, so a CsvImportError comes before any row.
    """

    def __init__(self, path: Path, mapping: CsvMapping) -> None:
        self.path = Path(path)
        self.mapping = mapping
        self.zone = ZoneInfo(mapping.timezone)
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CsvImportError(f"{self.path}: cannot read ({exc.strerror})") from exc
        text, self.encoding = decode_bytes(raw, mapping.encoding, self.path.name)
        self.delimiter = mapping.delimiter or _sniff_delimiter(text)
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            header = next(self._reader)
        except StopIteration:
            raise CsvImportError(f"{self.path.name}: the file is empty") from None
        self.header = [h.strip().lstrip("\ufeff").strip() for h in header]
        self._check_header()
        self._row_no = 1
        self._rows = self._iter()

    def _check_header(self) -> None:
        seen: set[str] = set()
        for name in self.header:
            if name and name in seen:
                raise CsvImportError(f"{self.path.name}: the header has the column {name!r} twice")
            seen.add(name)
        missing = [
            f"{name!r} (→ {spec.field})"
            for name, spec in self.mapping.columns.items()
            if name not in seen and not spec.optional
        ]
        for event in self.mapping.events:
            for column in (event.occurred_at, event.type_column):
                if column is not None and column not in seen:
                    spec = self.mapping.columns.get(column)
                    label = f"{column!r} (→ {event.type or 'event type'})"
                    if (spec is None or not spec.optional) and label not in missing:
                        missing.append(label)
        if missing:
            raise CsvImportError(
                f"{self.path.name}: column(s) {', '.join(missing)} named in the mapping are not in the "
                f"header; the header has: {', '.join(repr(h) for h in self.header)}"
            )

    def __next__(self) -> RowResult:
        return next(self._rows)

    def _iter(self) -> Iterator[RowResult]:
        width = len(self.header)
        for cells in self._reader:
            self._row_no += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                yield RowResult(
                    self._row_no,
                    rejection=Rejection(
                        self._row_no, None, f"the row has {len(cells)} cells but the header has {width}"
                    ),
                )
                continue
            yield map_row(self._row_no, dict(zip(self.header, cells, strict=False)), self.mapping, self.zone)


def _convert(spec: ColumnSpec, value: str, mapping: CsvMapping, zone: ZoneInfo) -> Any:
    kind = spec.field_type
    if kind == "str":
        return value
    if kind == "int":
        return parse.parse_int(value)
    if kind == "number":
        return parse.parse_number(value)
    if kind == "datetime":
        return _aware(parse.parse_datetime(value)[0], zone).isoformat()
    if kind == "date":
        return parse.parse_date(value).isoformat()
    if kind == "carrier":
        return parse.parse_carrier(value, mapping.carriers)
    if kind == "tracking_no":
        return parse.parse_tracking_no(value)
    if kind == "phone":
        return parse.parse_phone(value)
    if kind == "zip":
        return parse.parse_zip(value)
    raise AssertionError(kind)  # pragma: no cover


def _aware(at: datetime, zone: ZoneInfo) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def map_row(row_no: int, cells: dict[str, str], mapping: CsvMapping, zone: ZoneInfo) -> RowResult:
    """One row (header → cell text) → its events, or a rejection naming the column(s)."""
    tree: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for header, spec in mapping.columns.items():
        value = (cells.get(header) or "").strip()
        if not value:
            continue
        if spec.field.rsplit(".", 1)[-1] in ID_FIELDS and (problem := id_problem(value)) is not None:
            problems.append((header, f"column {header!r} ({spec.field}): {problem}"))
            continue
        try:
            _set_path(tree, spec.field, _convert(spec, value, mapping, zone))
        except parse.CellError as exc:
            reason = f"column {header!r} ({spec.field}): {_shorten(value)!r} is {_reason(spec, exc)}"
            problems.append((header, reason))
    for name, value in mapping.defaults.items():
        if _get_path(tree, name) is None:
            _set_path(tree, name, value)
    if isinstance(tree.get("items"), dict):
        item = tree["items"]
        item.setdefault("qty", 1)
        tree["items"] = [item]

    events: list[dict[str, Any]] = []
    for event_spec in mapping.events:
        event = _event_for(event_spec, cells, tree, mapping, zone, problems)
        if event is not None:
            events.append(event)
    if problems:
        reason = "; ".join(p for _, p in problems)
        return RowResult(row_no, rejection=Rejection(row_no, problems[0][0], reason))
    if not events:
        columns = ", ".join(dict.fromkeys(repr(e.occurred_at) for e in mapping.events))
        reason = f"no event: every time column ({columns}) is empty"
        return RowResult(row_no, rejection=Rejection(row_no, None, reason))
    return RowResult(row_no, events=events)


def _reason(spec: ColumnSpec, exc: parse.CellError) -> str:
    kind = spec.field_type
    if kind in ("datetime", "date"):
        return f"not a date/time ({exc}); accepted: {parse.ACCEPTED_DATETIME}"
    if kind in ("int", "number"):
        return f"not a {'whole ' if kind == 'int' else ''}number ({exc})"
    return str(exc)


def _event_for(
    spec: EventSpec,
    cells: dict[str, str],
    tree: dict[str, Any],
    mapping: CsvMapping,
    zone: ZoneInfo,
    problems: list[tuple[str, str]],
) -> dict[str, Any] | None:
    if spec.type_column is not None:
        raw_type = (cells.get(spec.type_column) or "").strip()
        if not raw_type:
            return None
        type_ = spec.type_values.get(raw_type)
        if type_ is None:
            known = ", ".join(repr(k) for k in spec.type_values)
            reason = f"column {spec.type_column!r}: {_shorten(raw_type)!r} is not one of {known}"
            problems.append((spec.type_column, reason))
            return None
    else:
        assert spec.type is not None  # noqa: S101 - guaranteed by the mapping validator
        type_ = spec.type
    at_text = (cells.get(spec.occurred_at) or "").strip()
    if not at_text:
        if spec.required:
            problems.append((spec.occurred_at, f"column {spec.occurred_at!r} ({type_} time): empty"))
        return None
    try:
        occurred = _aware(parse.parse_datetime(at_text)[0], zone)
    except parse.CellError as exc:
        problems.append(
            (
                spec.occurred_at,
                f"column {spec.occurred_at!r} ({type_} time): {_shorten(at_text)!r} is not a date/time "
                f"({exc}); accepted: {parse.ACCEPTED_DATETIME}",
            )
        )
        return None
    order_id = tree.get("order_id")
    order_id = str(order_id) if order_id is not None else None
    if not order_id and type_ not in ORDERLESS_TYPES:
        column = mapping.column_for("order_id") or "order_id"
        if not any(c == column for c, _ in problems):
            problems.append((column, f"column {column!r} (order_id): empty"))
        return None
    data: dict[str, Any] = {}
    for key, path in spec.data_fields(type_).items():
        value = _get_path(tree, path)
        if value is not None:
            _set_path(data, key, value)
    data.update(spec.constants)
    shipment_id = tree.get("shipment_id")
    if shipment_id is None and type_.startswith("shipment."):
        shipment_id = tree.get("tracking_no")
    occurred_at = occurred.isoformat()
    return {
        "event_id": event_id(order_id or "", type_, occurred_at, shipment_id, data),
        "source": mapping.source,
        "type": type_,
        "occurred_at": occurred_at,
        "order_id": order_id,
        "shipment_id": str(shipment_id) if shipment_id is not None else None,
        "data": data,
    }


def event_id(order_id: str, type_: str, occurred_at: str, shipment_id: Any, data: dict[str, Any]) -> str:
    """csv:{order_id}:{type}:{hash of the event's content}: the same fact from any export gets the same id."""
    content = [type_, occurred_at, shipment_id, data]
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    eid = f"csv:{order_id}:{type_}:{digest}"
    if len(eid) > MAX_EVENT_ID:
        short = hashlib.sha256(order_id.encode()).hexdigest()[:24]
        eid = f"csv:{short}:{type_}:{digest}"
    return eid


def read_csv_events(path: Path, mapping: CsvMapping | Path | str) -> CsvEventReader:
    """Row results of `path`; `mapping` is a CsvMapping or the path of a mapping YAML.

    Raises MappingError (bad mapping) or CsvImportError (unreadable file, missing columns) before any row.
    """
    if not isinstance(mapping, CsvMapping):
        mapping = load_mapping(mapping)
    return CsvEventReader(Path(path), mapping)
