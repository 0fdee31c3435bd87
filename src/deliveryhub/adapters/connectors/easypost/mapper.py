"""EasyPost tracking payloads -> canonical shipment events (pure).

Accepted shapes: an Event webhook body ``{"object": "Event", "description": "tracker.updated", "result":
<Tracker>}``; a Tracker ``{"object": "Tracker", ...}``; ``{"trackers": [...]}``; ``{"events": [Event...]}``.
Each ``tracking_details`` entry -> ``shipment.tracking`` (tag from ``status``, reason from ``status_detail``).
If the tracker's own status differs from its last detail, or there is no detail, one more event with
``summary: true`` carries it, dated ``updated_at``. Trackers carry no order reference: unless the caller
passes ``order_id`` (or the tracker has ``reference``/``order_id``), ``order_id`` is ``unknown:<code>``.
"""

from __future__ import annotations

from typing import Any

from deliveryhub.adapters.connectors import tracking
from deliveryhub.adapters.connectors.base import MappingResult, as_dict, as_list, as_str, to_rfc3339, truncate

CARRIER = "easypost"
SOURCE = "carrier:easypost"


def _trackers(payload: dict[str, Any], result: MappingResult) -> list[dict[str, Any]] | None:
    kind = as_str(payload.get("object"))
    if kind == "Tracker":
        return [payload]
    if kind == "Event":
        found = as_dict(payload.get("result"))
        if as_str(found.get("object")) == "Tracker":
            return [found]
        result.unmapped.append(
            f"easypost event {as_str(payload.get('id'))} ({as_str(payload.get('description'))}): "
            f"result is {as_str(found.get('object'))!r}, not a Tracker"
        )
        return []
    if isinstance(payload.get("trackers"), list):
        return [t for t in payload["trackers"] if isinstance(t, dict)]
    if isinstance(payload.get("events"), list):
        trackers: list[dict[str, Any]] = []
        for event in payload["events"]:
            found_in = _trackers(as_dict(event), result)
            trackers.extend(found_in or [])
        return trackers
    if isinstance(payload.get("error"), dict):
        error = payload["error"]
        result.unmapped.append(f"easypost error {as_str(error.get('code'))}: {as_str(error.get('message'))}")
        return []
    return None


def _location(detail: dict[str, Any]) -> str | None:
    loc = as_dict(detail.get("tracking_location"))
    parts = [as_str(loc.get(k)) for k in ("city", "state", "zip", "country")]
    return ", ".join(p for p in parts if p) or None


def _map_tracker(
    trk: dict[str, Any], *, order_id: str | None, tracking_no: str | None, result: MappingResult
) -> None:
    number = as_str(trk.get("tracking_code")) or tracking_no
    if number is None:
        result.unmapped.append(f"easypost tracker {as_str(trk.get('id'))}: no tracking_code")
        return
    carrier = as_str(trk.get("carrier")) or "unknown"
    oid = order_id or as_str(trk.get("order_id")) or as_str(trk.get("reference"))
    if oid is None:
        oid = f"unknown:{number}"
        result.unmapped.append(
            f"easypost {carrier} {number}: tracker has no order reference; order_id set to {oid}"
        )
    extra_base = {"aggregator": CARRIER, "easypost_tracker_id": as_str(trk.get("id"))}
    if as_str(trk.get("shipment_id")):
        extra_base["easypost_shipment_id"] = as_str(trk.get("shipment_id"))
    scans: list[dict[str, Any]] = []
    details = [as_dict(d) for d in as_list(trk.get("tracking_details"))]
    for index, detail in enumerate(details):
        occurred = to_rfc3339(detail.get("datetime"))
        if occurred is None:
            result.unmapped.append(
                f"easypost {number} detail #{index}: datetime {detail.get('datetime')!r} unusable"
            )
            continue
        message = as_str(detail.get("message")) or as_str(detail.get("description"))
        scans.append(
            _event(carrier, number, oid, occurred, detail, message, _location(detail), {**extra_base}, result)
        )
    last = details[-1] if details else {}
    status, status_detail = as_str(trk.get("status")), as_str(trk.get("status_detail"))
    if status and (not scans or status != as_str(last.get("status"))):
        occurred = to_rfc3339(trk.get("updated_at"))
        if occurred is None:
            result.unmapped.append(f"easypost {number}: tracker status {status!r} has no usable updated_at")
        else:
            summary = {"status": status, "status_detail": status_detail}
            result.events.append(
                _event(
                    carrier,
                    number,
                    oid,
                    occurred,
                    summary,
                    None,
                    None,
                    {**extra_base, "summary": True},
                    result,
                )
            )
    result.events.extend(scans)
    result.events.extend(
        tracking.derive_shipment_events(
            scans, prefix=CARRIER, source=SOURCE, carrier=carrier, tracking_no=number
        )
    )


def _event(
    carrier: str,
    number: str,
    order_id: str,
    occurred: str,
    detail: dict[str, Any],
    message: str | None,
    location: str | None,
    extra: dict[str, Any],
    result: MappingResult,
) -> dict[str, Any]:
    raw_status, raw_code = as_str(detail.get("status")), as_str(detail.get("status_detail"))
    tag, reason, known = tracking.normalize_status(CARRIER, raw_code, raw_status)
    if not known:
        result.unmapped.append(f"easypost {number}: unknown status={raw_status!r} detail={raw_code!r} (kept)")
    return tracking.tracking_event(
        prefix=CARRIER,
        source=SOURCE,
        carrier=carrier,
        tracking_no=number,
        order_id=order_id,
        occurred_at=occurred,
        tag=tag,
        reason=reason,
        known=known,
        raw_code=raw_code,
        raw_status=raw_status,
        location=location,
        message=message,
        extra=extra,
    )


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map any EasyPost tracker payload; never raises."""
    result = MappingResult()
    try:
        trackers = _trackers(payload, result) if isinstance(payload, dict) else None
        if trackers is None:
            result.unmapped.append(f"easypost: no tracker in payload: {truncate(payload)}")
            return result
        for trk in trackers:
            _map_tracker(trk, order_id=order_id, tracking_no=tracking_no, result=result)
    except Exception as exc:  # noqa: BLE001 - a mapper reports, it never raises
        result.unmapped.append(f"easypost: mapper error {type(exc).__name__}: {exc}")
    return result
