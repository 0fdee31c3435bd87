"""The mapping file: which column is which canonical field, and which events a row makes.

Example (see examples/korean_oms.yaml)::

    version: 1
    source: import:csv            # default
    timezone: Asia/Seoul          # for naive times; default
    columns:                      # header → canonical field (dotted path), or {field, type, optional}
      주문번호: order_id
      수령인: customer.name
      택배사: carrier
    defaults: {channel: oms}      # canonical field values used when the cell is absent or empty
    events:
      - type: order.created
        occurred_at: 주문일시       # the event is made only when this cell is non-empty
        required: true            # ...and an empty cell rejects the row
      - type_column: 처리상태       # or: the event type read from a column, through type_values
        type_values: {결제완료: order.paid}
        occurred_at: 처리일시
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deliveryhub.kernel.configfile import check_time_zone

FieldType = Literal["str", "int", "number", "datetime", "date", "carrier", "tracking_no", "phone", "zip"]

EVENT_TYPES = frozenset(
    {
        "order.created", "order.paid", "order.cancelled", "order.address_changed",
        "inventory.reserved", "inventory.shortage", "inventory.snapshot",
        "fulfillment.picked", "fulfillment.packed", "fulfillment.pick_error",
        "shipment.waybill_created", "shipment.handed_over", "shipment.tracking", "shipment.delivered",
        "shipment.delivery_failed", "shipment.eta_updated",
        "return.requested", "return.picked_up", "return.received", "return.refunded",
        "exchange.requested", "exchange.completed", "claim.opened", "compensation.issued",
        "ticket.created", "ticket.replied", "ticket.resolved", "survey.answered", "cost.recorded",
    }
)  # fmt: skip
ORDERLESS_TYPES = frozenset({"inventory.snapshot", "cost.recorded"})

# data fields copied into an event when its `data` is not given (only those with a value are copied)
DEFAULT_DATA: dict[str, list[str]] = {  # fmt: skip
    "order.created": [
        "customer",
        "address",
        "items",
        "total",
        "currency",
        "channel",
        "promised_delivery_date",
        "region",
        "category",
        "warehouse",
    ],
    "order.paid": ["amount", "method", "currency"],
    "order.cancelled": ["reason"],
    "order.address_changed": ["address"],
    "shipment.waybill_created": ["carrier", "tracking_no"],
    "shipment.handed_over": ["carrier", "tracking_no"],
    "shipment.tracking": [
        "carrier",
        "tracking_no",
        "status",
        "raw_status",
        "raw_code",
        "location",
        "message",
    ],
    "shipment.delivered": ["carrier", "tracking_no", "proof"],
    "shipment.delivery_failed": ["carrier", "tracking_no", "reason"],
    "return.requested": ["items", "reason"],
    "return.refunded": ["amount", "currency"],
    "exchange.requested": ["items", "reason"],
    "claim.opened": ["kind"],
    "compensation.issued": ["kind", "amount", "rule"],
    "ticket.created": ["channel", "subject", "text", "category"],
    "survey.answered": ["csat", "nps", "comment"],
    "cost.recorded": ["kind", "amount", "currency"],
}

# type of a canonical field by its last path segment, when the column does not declare one
FIELD_TYPES: dict[str, FieldType] = {
    "occurred_at": "datetime",
    "promised_delivery_date": "date",
    "total": "number",
    "amount": "number",
    "price": "number",
    "qty": "int",
    "csat": "int",
    "nps": "int",
    "carrier": "carrier",
    "tracking_no": "tracking_no",
    "phone": "phone",
    "zip": "zip",
}

_FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class MappingError(ValueError):
    """The mapping file is invalid; the message names the bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    field: str
    type: FieldType | None = None
    optional: bool = False  # the column may be missing from the file header

    @field_validator("field")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _FIELD_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not a canonical field path like customer.name")
        return value

    @property
    def field_type(self) -> FieldType:
        return self.type or FIELD_TYPES.get(self.field.rsplit(".", 1)[-1], "str")


class EventSpec(_Strict):
    type: str | None = None
    type_column: str | None = None
    type_values: dict[str, str] = Field(default_factory=dict)
    occurred_at: str  # the column holding the event time
    required: bool = False
    data: list[str] | dict[str, str] | None = None  # data key → canonical field; a list keeps the names
    constants: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None:
            _check_type(value)
        return value

    @field_validator("type_values")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        for type_ in value.values():
            _check_type(type_)
        return value

    @model_validator(mode="after")
    def _one_type_source(self) -> EventSpec:
        if (self.type is None) == (self.type_column is None):
            raise ValueError("give exactly one of `type` or `type_column`")
        if self.type_column is not None and not self.type_values:
            raise ValueError("`type_column` needs `type_values` (cell value → event type)")
        return self

    def data_fields(self, type_: str) -> dict[str, str]:
        if self.data is None:
            return {name: name for name in DEFAULT_DATA.get(type_, [])}
        if isinstance(self.data, list):
            return {name: name for name in self.data}
        return dict(self.data)


def _check_type(value: str) -> None:
    if value not in EVENT_TYPES and not value.startswith("x-"):
        raise ValueError(f"unknown event type {value!r} (canonical types, or a custom type starting with x-)")


class CsvMapping(_Strict):
    version: Literal[1] = 1
    source: str = "import:csv"
    timezone: str = "Asia/Seoul"
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp949", "euc-kr"] = "auto"
    delimiter: str | None = None  # None: sniffed from the header line (comma, tab or semicolon)
    columns: dict[str, ColumnSpec]
    defaults: dict[str, Any] = Field(default_factory=dict)
    carriers: dict[str, str] = Field(default_factory=dict)  # extra carrier names → codes
    events: list[EventSpec] = Field(min_length=1)

    @field_validator("columns", mode="before")
    @classmethod
    def _short_columns(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip(): ({"field": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _consistent(self) -> CsvMapping:
        fields = [c.field for c in self.columns.values()]
        if "order_id" not in fields and any(e.type not in ORDERLESS_TYPES for e in self.events):
            raise ValueError("columns: no column is mapped to order_id")
        dupes = {f for f in fields if fields.count(f) > 1}
        if dupes:
            raise ValueError(f"columns: several columns map to {', '.join(sorted(dupes))}")
        return self

    def column_for(self, field: str) -> str | None:
        for header, spec in self.columns.items():
            if spec.field == field:
                return header
        return None


Mapping = CsvMapping


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "model-")) or part in {"str", "list[str]", "dict[str,str]"}:
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def parse_mapping(raw: Any, *, origin: str = "mapping") -> CsvMapping:
    """Validate an already-loaded mapping document; MappingError names the bad key."""
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: the top level must be a mapping with `columns` and `events`")
    try:
        return CsvMapping.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{_loc(tuple(err['loc']))}: {msg}")
        raise MappingError(f"{origin}: " + "; ".join(dict.fromkeys(problems))) from exc


def load_mapping(path: Path | str) -> CsvMapping:
    """Read and validate a mapping YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from exc
    return parse_mapping(raw, origin=str(path))
