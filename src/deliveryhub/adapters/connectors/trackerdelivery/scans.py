"""Tracking events of the Korean tracking aggregators (tracker.delivery, Sweet Tracker): one builder.

Each aggregator keeps its status table as data in its own package and calls ``tracking_event`` with the
tag it found (or None: unknown, kept with ``status_known: False`` and listed in ``unmapped``). Carrier text
is kept in ``raw_status``/``message`` masked; the driver's name and phone are kept masked only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deliveryhub.adapters.connectors.base import MappingResult, new_event, stable_id
from deliveryhub.adapters.connectors.tracking import Feed, derive_shipment_events, mask_personal

_NON_DIGIT = re.compile(r"[^0-9Xx*]")


def mask_name(name: str | None) -> str | None:
    """'김민수' -> '김*수', '이수' -> '이*'; None/blank stays None."""
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    """'+821012341234' / '010-1234-1234' -> '010-****-1234'; too short to show anything -> '****'."""
    if not isinstance(phone, str) or not phone.strip():
        return None
    raw = phone.strip()
    digits = _NON_DIGIT.sub("", raw[1:] if raw.startswith("+") else raw)
    if raw.startswith("+82"):
        digits = "0" + digits[2:]
    if len(digits) < 8:
        return "****"
    head = digits[:3] if digits.startswith("01") or not digits.startswith("02") else digits[:2]
    return f"{head}-****-{digits[-4:]}"


def driver(name: str | None, *phones: str | None) -> dict[str, str] | None:
    """The driver's contact, masked; None when the vendor gave none."""
    masked_phone = next((m for m in (mask_phone(p) for p in phones) if m), None)
    out = {k: v for k, v in (("name", mask_name(name)), ("phone", masked_phone)) if v}
    return out or None


@dataclass
class Found:
    """One vendor checkpoint with its time, its raw words and the tag its table gave (None: unknown)."""

    where: str
    occurred_at: str
    tag: str | None
    raw_code: str | None
    raw_status: str | None
    location: str | None = None
    message: str | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def tracking_event(feed: Feed, found: Found, result: MappingResult) -> dict[str, Any]:
    """One ``shipment.tracking`` event (id from carrier, number, time, code, text, location)."""
    if found.tag is None:
        result.unmapped.append(
            f"{found.where}: unknown status code={found.raw_code!r} text={found.raw_status!r} "
            "(kept with status None)"
        )
    data: dict[str, Any] = {
        "status": found.tag,
        "raw_status": mask_personal(found.raw_status)[:500] if found.raw_status else found.raw_status,
        "raw_code": found.raw_code[:64] if found.raw_code else found.raw_code,
        "location": found.location[:500] if found.location else found.location,
        "message": mask_personal(found.message)[:2000] if found.message else found.message,
        "carrier": feed.carrier,
        "tracking_no": feed.tracking_no,
        "status_known": found.tag is not None,
    }
    if found.reason:
        data["reason"] = found.reason
    data.update(found.extra)
    return new_event(
        event_id=stable_id(
            feed.connector,
            feed.carrier,
            feed.tracking_no,
            found.occurred_at,
            found.raw_code,
            found.raw_status,
            found.location,
        ),
        source=feed.source,
        type="shipment.tracking",
        occurred_at=found.occurred_at,
        order_id=feed.order_id,
        shipment_id=feed.tracking_no,
        data=data,
    )


def emit(feed: Feed, scans: list[Found], result: MappingResult) -> None:
    """The scans' events, then the stage facts they imply (handed over, delivered)."""
    events = [tracking_event(feed, scan, result) for scan in scans]
    result.events.extend(events)
    result.events.extend(derive_shipment_events(feed, events))


Resolve = Callable[[str | None, str], str | None]
"""(order id, tracking no.) -> the hub's shipment id of that parcel (None: keep the tracking number)."""


def attach(result: MappingResult, shipment_id: str | None) -> MappingResult:
    """Point the events at the parcel the hub knows (its shipment id may differ from the tracking no.)."""
    if shipment_id:
        for event in result.events:
            event["shipment_id"] = shipment_id
    return result
