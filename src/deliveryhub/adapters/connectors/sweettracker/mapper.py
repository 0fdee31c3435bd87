"""Sweet Tracker (스마트택배) payloads -> canonical shipment events (pure, never raises).

* ``/api/v1/trackingInfo`` answer: each ``trackingDetails[]`` entry -> ``shipment.tracking``; ``level``
  1-6 -> tag (codes.LEVELS), a failed attempt in ``kind``/``remark`` -> attempt_fail; an unknown level is
  read from the carrier's words with the hub's table, else kept with status None. ``kind`` is kept in
  ``raw_status``, ``remark`` in ``message``; ``manName``/``telno``/``telno2`` only masked (``driver``).
  Time: ``time`` (epoch ms) or ``timeString`` (Korea wall time). No details but ``lastStateDetail`` /
  ``lastDetail``: that one scan. The carrier is ``t_code`` at the top level (the client adds it).
* error answers ``{"status": false, "code", "msg"}``, ``/api/v1/companylist`` and ``/api/v1/recommend``
  carry no scans: nothing is mapped and the reason is given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deliveryhub.adapters.connectors.base import MappingResult, guarded
from deliveryhub.adapters.connectors.payload import KST, as_dict, as_list, as_str, to_rfc3339, truncate
from deliveryhub.adapters.connectors.statuses import normalize_status
from deliveryhub.adapters.connectors.sweettracker.codes import ATTEMPT_FAIL_WORDS, LEVELS, hub_carrier
from deliveryhub.adapters.connectors.trackerdelivery.scans import Found, driver, emit
from deliveryhub.adapters.connectors.tracking import Feed, order_or_unknown

CODE = "sweettracker"


def _time(detail: dict[str, Any]) -> str | None:
    stamp = detail.get("time")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        seconds = stamp / 1000 if stamp > 10**11 else stamp
        return datetime.fromtimestamp(seconds, UTC).astimezone(KST).isoformat()
    return to_rfc3339(detail.get("timeString"), default_tz=KST)


def _level(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _tag(
    carrier: str, level: int | None, kind: str | None, remark: str | None
) -> tuple[str | None, str | None]:
    words = "".join(w for w in (kind, remark) if w).replace(" ", "")
    if any(word in words for word in ATTEMPT_FAIL_WORDS):
        return "attempt_fail", "recipient_not_available" if "부재" in words else None
    if level in LEVELS:
        return LEVELS[level], None
    tag, reason, known = normalize_status(carrier, None, kind, message=remark)
    return (tag, reason) if known else (None, None)


def _found(carrier: str, where: str, detail: dict[str, Any], result: MappingResult) -> Found | None:
    occurred = _time(detail)
    if occurred is None:
        result.unmapped.append(f"{where}: no usable time/timeString {truncate(detail)}")
        return None
    level = _level(detail.get("level"))
    kind, remark = as_str(detail.get("kind")), as_str(detail.get("remark"))
    tag, reason = _tag(carrier, level, kind, remark)
    extra: dict[str, Any] = {"aggregator": CODE}
    if level is not None:
        extra["level"] = level
    masked = driver(as_str(detail.get("manName")), as_str(detail.get("telno2")), as_str(detail.get("telno")))
    if masked:
        extra["driver"] = masked
    return Found(
        where=where,
        occurred_at=occurred,
        tag=tag,
        raw_code=as_str(detail.get("code")) or (str(level) if level is not None else None),
        raw_status=kind,
        location=as_str(detail.get("where")),
        message=remark,
        reason=reason,
        extra=extra,
    )


def _fill(payload: Any, result: MappingResult, *, order_id: str | None, tracking_no: str | None) -> None:
    if not isinstance(payload, dict):
        result.unmapped.append(f"{CODE}: payload is not an object: {truncate(payload)}")
        return
    if payload.get("status") is False or (as_str(payload.get("result")) == "N"):
        result.unmapped.append(
            f"{CODE}: error answer code={as_str(payload.get('code'))!r} msg={as_str(payload.get('msg'))!r}"
        )
        return
    if "Company" in payload or "Recommend" in payload:
        result.unmapped.append(f"{CODE}: a carrier list carries no tracking scans")
        return
    details = [as_dict(d) for d in as_list(payload.get("trackingDetails"))]
    if not details:
        last = as_dict(payload.get("lastStateDetail")) or as_dict(payload.get("lastDetail"))
        details = [last] if last else []
    if "trackingDetails" not in payload and not details:
        result.unmapped.append(f"{CODE}: no trackingDetails in payload: {truncate(payload)}")
        return
    number = tracking_no or as_str(payload.get("invoiceNo")) or as_str(payload.get("t_invoice"))
    if not number:
        result.unmapped.append(f"{CODE}: no invoiceNo; {len(details)} scans dropped")
        return
    code = as_str(payload.get("t_code"))
    carrier = hub_carrier(code) if code else "unknown"
    why = f"{CODE} {carrier} {number}: no order_id"
    oid = order_or_unknown(order_id or as_str(payload.get("orderNumber")), number, why, result)
    feed = Feed(CODE, carrier, number, oid)
    scans = []
    for index, detail in enumerate(details):
        found = _found(carrier, f"{CODE} {carrier} {number} detail #{index}", detail, result)
        if found is not None:
            scans.append(found)
    if not scans:
        result.unmapped.append(f"{CODE} {carrier} {number}: no tracking scans yet")
        return
    emit(feed, scans, result)


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map a Sweet Tracker trackingInfo answer (or say why a payload holds no scans); never raises."""
    return guarded(CODE, _fill, payload, order_id=order_id, tracking_no=tracking_no)
