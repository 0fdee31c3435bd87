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

from deliveryhub.adapters.connectors.base import MappingResult
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339
from deliveryhub.adapters.connectors.tracking import (
    Feed,
    Scan,
    aggregator_feed,
    map_aggregator,
    order_or_unknown,
)

CODE = "easypost"


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
    why = f"easypost {carrier} {number}: tracker has no order reference"
    oid = order_id or as_str(trk.get("order_id")) or as_str(trk.get("reference"))
    feed = Feed(CODE, carrier, number, order_or_unknown(oid, number, why, result))
    extra = {"aggregator": CODE, "easypost_tracker_id": as_str(trk.get("id"))}
    if as_str(trk.get("shipment_id")):
        extra["easypost_shipment_id"] = as_str(trk.get("shipment_id"))
    details = [as_dict(d) for d in as_list(trk.get("tracking_details"))]
    scans: list[Scan] = []
    for index, detail in enumerate(details):
        occurred = to_rfc3339(detail.get("datetime"))
        if occurred is None:
            result.unmapped.append(
                f"easypost {number} detail #{index}: datetime {detail.get('datetime')!r} unusable"
            )
            continue
        scans.append(
            Scan(
                where=f"easypost {number} detail #{index}",
                occurred_at=occurred,
                raw_code=as_str(detail.get("status_detail")),
                raw_status=as_str(detail.get("status")),
                location=_location(detail),
                message=as_str(detail.get("message")) or as_str(detail.get("description")),
                extra=dict(extra),
            )
        )
    last = details[-1] if details else {}
    status = as_str(trk.get("status"))
    summary = None
    if status and (not scans or status != as_str(last.get("status"))):
        occurred = to_rfc3339(trk.get("updated_at"))
        if occurred is None:
            result.unmapped.append(f"easypost {number}: tracker status {status!r} has no usable updated_at")
        else:
            summary = Scan(
                where=f"easypost {number} summary",
                occurred_at=occurred,
                raw_code=as_str(trk.get("status_detail")),
                raw_status=status,
                extra={**extra, "summary": True},
            )
    aggregator_feed(feed, scans, summary, result)


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map any EasyPost tracker payload; never raises."""
    return map_aggregator(
        CODE, "tracker", _trackers, _map_tracker, payload, order_id=order_id, tracking_no=tracking_no
    )
