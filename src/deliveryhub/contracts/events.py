"""Pydantic models for the canonical envelope and every event type of EVENTS.md (schema version 1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from deliveryhub.contracts.ids import FORBIDDEN_ID_CHARS, ID_ERROR_CODE, SafeId, id_problem, is_id_error
from deliveryhub.pii import dlp_fields

SCHEMA_VERSION = 1

TrackingTag = Literal[
    "pending",
    "info_received",
    "in_transit",
    "out_for_delivery",
    "attempt_fail",
    "delivered",
    "available_for_pickup",
    "exception",
    "expired",
]
TRACKING_TAGS: tuple[str, ...] = get_args(TrackingTag)

_SOURCE_RE = re.compile(
    r"^(oms|wms|tms|crm|erp|chatbot|sim|ui|cs|carrier:[a-z0-9_-]{1,32}|[a-z][a-z0-9_.:-]{0,63})$"
)
_CUSTOM_TYPE_RE = re.compile(r"^x-[A-Za-z0-9._-]{1,62}$")
# CS facts may concern no order (a general question by e-mail); they carry data.ticket_id instead.
ORDERLESS_TYPES = frozenset(
    {
        "inventory.snapshot",
        "cost.recorded",
        "ticket.created",
        "ticket.replied",
        "ticket.resolved",
        "ticket.recategorized",
        "survey.answered",
    }
)


class _Data(BaseModel):
    """Base of every `data` model: unknown fields are kept, never dropped.

    Known fields are ids, codes, enums, amounts and timestamps (kept as sent; ids and codes obey the id
    rule) unless listed in TEXT (free text: DLP-masked). Unknown fields are DLP-masked at any depth.
    NESTED names the model of a list of objects (its items are checked the same way)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    TEXT: ClassVar[frozenset[str]] = frozenset()
    NESTED: ClassVar[dict[str, type[_Data]]] = {}


class Customer(_Data):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    external_id: SafeId | None = Field(default=None, max_length=128)


class Address(_Data):
    zip: str | None = Field(default=None, max_length=20)
    line1: str | None = Field(default=None, max_length=500)
    line2: str | None = Field(default=None, max_length=500)


class Item(_Data):
    sku: SafeId = Field(min_length=1, max_length=128)
    qty: int = Field(default=1, ge=0, le=1_000_000)
    price: float | None = Field(default=None, ge=0)


class OrderCreated(_Data):
    customer: Customer = Field(default_factory=Customer)
    address: Address = Field(default_factory=Address)
    items: list[Item] = Field(default_factory=list)
    total: float | None = Field(default=None, ge=0)
    channel: SafeId | None = Field(default=None, max_length=64)
    promised_delivery_date: date | None = None
    warehouse: SafeId | None = None
    region: SafeId | None = None
    category: SafeId | None = None
    NESTED: ClassVar[dict[str, type[_Data]]] = {"items": Item}


class OrderPaid(_Data):
    amount: float | None = Field(default=None, ge=0)
    method: SafeId | None = None
    # The payment provider's own id of the payment (Toss `paymentKey`): what a refund is asked against.
    payment_key: SafeId | None = Field(default=None, max_length=200)
    provider: SafeId | None = Field(default=None, max_length=32)


class WithReason(_Data):
    reason: str | None = Field(default=None, max_length=2000)
    TEXT: ClassVar[frozenset[str]] = frozenset({"reason"})


class AddressChanged(_Data):
    address: Address


class WithItems(_Data):
    items: list[Item] | list[SafeId] | None = None
    reason: str | None = None
    TEXT: ClassVar[frozenset[str]] = frozenset({"reason"})
    NESTED: ClassVar[dict[str, type[_Data]]] = {"items": Item}


ReasonCode = Literal["change_of_mind", "defective", "damaged", "wrong_item", "not_as_described", "other"]


class ReturnOpened(WithItems):
    """return.requested / exchange.requested: the workflow's id, the reason's code and who pays the fee."""

    return_id: SafeId | None = Field(default=None, max_length=64)
    reason_code: ReasonCode | None = None
    fee: float | None = Field(default=None, ge=0)
    fee_payer: Literal["customer", "shop"] | None = None


class ReturnStep(_Data):
    """A step of a return or exchange (picked up, received, completed), by the workflow's id."""

    return_id: SafeId | None = Field(default=None, max_length=64)
    tracking_no: SafeId | None = Field(default=None, max_length=64)


class PickupBooked(ReturnStep):
    carrier: SafeId | None = Field(default=None, max_length=32)
    pickup_ref: SafeId | None = Field(default=None, max_length=128)
    via: SafeId | None = Field(default=None, max_length=32)


class Inspected(ReturnStep):
    result: Literal["pass", "fail"]
    note: str | None = Field(default=None, max_length=2000)
    photo_id: SafeId | None = Field(default=None, max_length=64)
    TEXT: ClassVar[frozenset[str]] = frozenset({"note"})


class Reshipped(ReturnStep):
    carrier: SafeId | None = Field(default=None, max_length=32)


class Refunded(_Data):
    """return.refunded / payment.refunded: money given back through the payments port."""

    amount: float | None = Field(default=None, ge=0)
    return_id: SafeId | None = Field(default=None, max_length=64)
    refund_id: SafeId | None = Field(default=None, max_length=200)
    cause: Literal["return", "cancel", "compensation", "manual"] | None = None


OutsideSystem = Literal["payments", "pickup", "fulfilment", "rewards", "marketplace"]


class ActionOutcome(_Data):
    """action.completed / action.failed: an action the hub carried out in an outside system."""

    system: OutsideSystem
    action: SafeId = Field(max_length=64)
    key: SafeId = Field(max_length=200)
    ref: SafeId | None = Field(default=None, max_length=200)
    message: str | None = Field(default=None, max_length=2000)
    TEXT: ClassVar[frozenset[str]] = frozenset({"message"})


class InventoryShortage(_Data):
    sku: SafeId
    requested: int = Field(ge=0)
    available: int = Field(ge=0)


class InventorySnapshot(_Data):
    warehouse: SafeId
    counts: dict[SafeId, int]


class Packed(_Data):
    packaging: Literal["standard", "green"] | None = None


class PickError(_Data):
    expected_sku: SafeId | None = None
    scanned_sku: SafeId | None = None


class WaybillCreated(_Data):
    carrier: SafeId = Field(min_length=1, max_length=32)
    tracking_no: SafeId = Field(min_length=1, max_length=64)


class HandedOver(_Data):
    carrier: SafeId | None = None


class Tracking(_Data):
    status: TrackingTag | None = None
    raw_status: str | None = Field(default=None, max_length=500)
    raw_code: SafeId | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=500)
    message: str | None = Field(default=None, max_length=2000)
    reason: SafeId | None = Field(default=None, max_length=64)
    eta_min: AwareDatetime | None = None
    eta_max: AwareDatetime | None = None
    TEXT: ClassVar[frozenset[str]] = frozenset({"raw_status", "location", "message"})


class Delivered(_Data):
    proof: Any = None
    TEXT: ClassVar[frozenset[str]] = frozenset({"proof"})


class EtaUpdated(_Data):
    eta_min: AwareDatetime
    eta_max: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> EtaUpdated:
        if self.eta_max < self.eta_min:
            raise ValueError("eta_max is before eta_min")
        return self


class Amount(_Data):
    amount: float | None = Field(default=None, ge=0)


class ClaimOpened(_Data):
    kind: Literal["delay", "damage", "wrong_item", "missing", "other"]
    amount: float | None = Field(default=None, ge=0)


class CompensationIssued(_Data):
    kind: Literal["coupon", "refund", "points"]
    amount: float = Field(ge=0)
    rule: SafeId | None = None


class TicketCreated(_Data):
    channel: SafeId | None = None
    subject: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=20000)
    category: SafeId | None = None
    ticket_id: SafeId | None = None
    TEXT: ClassVar[frozenset[str]] = frozenset({"subject", "text"})


class TicketRecategorized(_Data):
    """A CS lead's correction of a ticket's VOC category (the KPIs count the newest one)."""

    category: SafeId
    ticket_id: SafeId | None = None


class TicketReplied(_Data):
    by: Literal["agent", "bot"]
    ticket_id: SafeId | None = None
    text: str | None = Field(default=None, max_length=20000)
    TEXT: ClassVar[frozenset[str]] = frozenset({"text"})


class TicketResolved(_Data):
    ticket_id: SafeId | None = None


class SurveyAnswered(_Data):
    csat: int | None = Field(default=None, ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    comment: str | None = Field(default=None, max_length=20000)
    TEXT: ClassVar[frozenset[str]] = frozenset({"comment"})

    @model_validator(mode="after")
    def _one_score(self) -> SurveyAnswered:
        if self.csat is None and self.nps is None:
            raise ValueError("a survey answer needs csat (1-5) or nps (0-10)")
        return self


class CostRecorded(_Data):
    kind: Literal["shipping", "logistics", "operation"]
    amount: float = Field(ge=0)
    currency: SafeId = Field(default="KRW", min_length=3, max_length=3)


class Empty(_Data):
    pass


DATA_MODELS: dict[str, type[_Data]] = {
    "order.created": OrderCreated,
    "order.paid": OrderPaid,
    "order.cancelled": WithReason,
    "order.address_changed": AddressChanged,
    "inventory.reserved": WithItems,
    "inventory.shortage": InventoryShortage,
    "inventory.snapshot": InventorySnapshot,
    "fulfillment.picked": Empty,
    "fulfillment.packed": Packed,
    "fulfillment.pick_error": PickError,
    "shipment.waybill_created": WaybillCreated,
    "shipment.handed_over": HandedOver,
    "shipment.tracking": Tracking,
    "shipment.delivered": Delivered,
    "shipment.delivery_failed": WithReason,
    "shipment.eta_updated": EtaUpdated,
    "return.requested": ReturnOpened,
    "return.pickup_booked": PickupBooked,
    "return.picked_up": ReturnStep,
    "return.received": ReturnStep,
    "return.inspected": Inspected,
    "return.refunded": Refunded,
    "exchange.requested": ReturnOpened,
    "exchange.reshipped": Reshipped,
    "exchange.completed": ReturnStep,
    "payment.refunded": Refunded,
    "action.completed": ActionOutcome,
    "action.failed": ActionOutcome,
    "claim.opened": ClaimOpened,
    "compensation.issued": CompensationIssued,
    "ticket.created": TicketCreated,
    "ticket.replied": TicketReplied,
    "ticket.resolved": TicketResolved,
    "ticket.recategorized": TicketRecategorized,
    "survey.answered": SurveyAnswered,
    "cost.recorded": CostRecorded,
}
EVENT_TYPES = tuple(DATA_MODELS)
# Per data model: its known field names, free-text fields and nested object lists (looked up per event).
_PLANNED: list[type[_Data]] = [*DATA_MODELS.values(), Item]
_PLANS: dict[type[_Data], tuple[frozenset[str], frozenset[str], dict[str, type[_Data]]]] = {
    m: (frozenset(m.model_fields), m.TEXT, m.NESTED) for m in _PLANNED
}


class Envelope(BaseModel):
    """The canonical envelope every inbound fact is translated into."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    event_id: SafeId = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=72)
    type: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime
    order_id: SafeId | None = Field(default=None, min_length=1, max_length=128)
    shipment_id: SafeId | None = Field(default=None, min_length=1, max_length=128)
    data: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    manual: bool = False

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if not _SOURCE_RE.match(value):
            raise ValueError(
                "source must be oms, wms, tms, crm, erp, carrier:<code>, chatbot, sim or a custom name"
            )
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in DATA_MODELS:
            return value
        if not value.startswith("x-"):
            raise ValueError(f"unknown event type {value!r}; custom types need the x- prefix")
        if not _CUSTOM_TYPE_RE.match(value):
            raise ValueError("custom event types may only use letters, digits, '.', '_' and '-' after x-")
        return value

    @model_validator(mode="after")
    def _order_required(self) -> Envelope:
        if self.order_id is None and self.type not in ORDERLESS_TYPES and not self.type.startswith("x-"):
            raise ValueError("order_id is required for this event type")
        return self


class ContractError(ValueError):
    """A rejected inbound item: `field` names the offending path, `code` is machine readable."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str]:
        """The JSON error object of INTERFACE.md."""
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class CanonicalEvent(BaseModel):
    """A validated event: the envelope plus its typed, normalised data (as a plain dict)."""

    model_config = ConfigDict(frozen=False)

    event_id: str
    source: str
    type: str
    occurred_at: datetime
    order_id: str | None
    shipment_id: str | None
    data: dict[str, Any]
    schema_version: int = SCHEMA_VERSION
    manual: bool = False


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (type, from_version) -> function producing the next version's data; empty while only v1 exists.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def _first_error(exc: ValidationError, prefix: str = "") -> ContractError:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    if field and FORBIDDEN_ID_CHARS.search(field):  # a bad dict key is part of the path: never echo it
        field = FORBIDDEN_ID_CHARS.sub("?", field)
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if err.get("type") == "timezone_aware":
        return ContractError("naive_timestamp", f"{field}: timestamp needs a UTC offset (RFC 3339)", field)
    if err.get("type") == "missing":
        return ContractError("missing_field", f"{field}: field required", field)
    if is_id_error(dict(err)):
        problem = id_problem(str(err.get("input", ""))) or "control or format character"
        return ContractError(ID_ERROR_CODE, f"{field}: {problem}", field)
    return ContractError("invalid_field", f"{field}: {msg}" if field else msg, field)


def scrub(model: type[_Data] | None, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with DLP applied to free text and unknown fields; ids, codes, amounts, timestamps and the
    customer/address objects (encrypted separately at ingest) are left as they are."""
    known, text, nested = _PLANS[model] if model is not None else (frozenset(), frozenset(), {})
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            out[dlp_fields.clean_text(key)] = dlp_fields.mask_unknown(key, value)
        elif key in text:
            out[key] = dlp_fields.mask_unknown("", value)
        elif key in nested and isinstance(value, list):
            sub = nested[key]
            out[key] = [scrub(sub, v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            # customer / address: encrypted whole at ingest (masking would break the blind index), but
            # control characters go (a NUL in line1 would reach orders.region and break PostgreSQL).
            out[key] = dlp_fields.strip_controls(value)
        else:
            out[key] = value
    return out


# Keys ingest itself adds to stored data (ids and codes it derived): never re-masked.
INGEST_KEYS = frozenset({"customer_id", "customer_external", "region", "status_unknown"})


def scrub_stored(type_: str, data: Any) -> Any:
    """DLP for `data` as stored by an older version (migration 0005): what parse_event would have kept."""
    if not isinstance(data, dict):
        return data
    kept = {k: v for k, v in data.items() if k in INGEST_KEYS}
    rest = {k: v for k, v in data.items() if k not in INGEST_KEYS}
    return {**scrub(DATA_MODELS.get(type_), rest), **kept}


def parse_event(raw: Any) -> CanonicalEvent:
    """Validate one raw inbound item into a CanonicalEvent, or raise ContractError naming the field."""
    if not isinstance(raw, dict):
        raise ContractError("invalid_item", "each event must be a JSON object")
    kind = raw.get("type")
    if (
        raw.get("order_id") in (None, "")
        and isinstance(kind, str)
        and kind in DATA_MODELS
        and kind not in ORDERLESS_TYPES
    ):
        raise ContractError("missing_field", f"order_id: required for {kind} events", "order_id")
    try:
        env = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc) from None
    data = dict(env.data)
    version = env.schema_version
    while (env.type, version) in UPCASTERS:
        data = UPCASTERS[(env.type, version)](data)
        version += 1
    model = DATA_MODELS.get(env.type)
    if model is not None:
        try:
            data = model.model_validate(data).model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            raise _first_error(exc, "data.") from None
    data = scrub(model, data)
    return CanonicalEvent(
        event_id=env.event_id,
        source=env.source,
        type=env.type,
        occurred_at=env.occurred_at,
        order_id=env.order_id,
        shipment_id=env.shipment_id,
        data=data,
        schema_version=SCHEMA_VERSION,
        manual=env.manual,
    )
