"""Plain data the hub exchanges with outside systems when it acts (issue 16): requests and results.

They live below the adapters so an adapter (Toss, juso, the HTTP ports) can answer in these shapes; the
ports that use them are in service_layer/ports.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class OutsideResult:
    """What an outside system answered to one action: done (with its reference), retry later (5xx, 429,
    timeout; `retry_after` seconds when it said), or refused for good (4xx with its reason)."""

    outcome: Literal["done", "retry", "refused"]
    ref: str | None = None
    message: str = ""
    retry_after: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PickupRequest:
    """Book the collection of a return (or an exchange's old goods) from the customer's address.

    `source` is the marketplace the order came from (naver, coupang, cafe24) when it did: its own claim
    API books the pickup; otherwise the shop's carrier-return port does."""

    return_id: str
    order_id: str
    kind: Literal["return", "exchange"]
    items: Sequence[Mapping[str, Any]]
    address: Mapping[str, Any]
    reason_code: str
    source: str | None = None
    marketplace_ref: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    """Give money back against a payment (Toss: cancel `amount` of `payment_key` with `reason`)."""

    order_id: str
    payment_key: str
    amount: int
    reason: str


@dataclass(frozen=True)
class RewardRequest:
    """A coupon or points for a customer (a compensation), created in the shop's own system."""

    order_id: str
    customer_ref: str | None
    kind: Literal["coupon", "points"]
    amount: int
    reason: str


@dataclass(frozen=True)
class NormalisedAddress:
    """A Korean address in the shape the hub stores: 5-digit 우편번호, 도로명 line, detail line, and
    whether it is on Jeju or a remote island (도서산간: extra shipping, longer lead time)."""

    zip: str
    line1: str
    line2: str = ""
    jeju: bool = False
    remote: bool = False
    jibun: str | None = None
    source: Literal["format", "juso"] = "format"

    def as_event_address(self) -> dict[str, Any]:
        """The `address` object of order.address_changed."""
        return {"zip": self.zip, "line1": self.line1, "line2": self.line2}
