"""tracker.delivery payloads -> canonical shipment events (pure, never raises).

Accepted shapes (``carrierId``/``trackingNumber`` at the top level name the parcel; the client adds them
to the GraphQL answer, which has only ``data``/``errors`` of its own):

* the GraphQL answer of ``track``: ``{"data": {"track": TrackInfo}, "errors"?: [...]}``;
* a bare ``TrackInfo`` (``lastEvent``, ``events.edges[].node`` or ``events`` as a list);
* the tracking webhook callback ``{"carrierId", "trackingNumber"}``: it carries no scans (the hub then
  queries ``track``), so it maps to nothing, with the reason;
* the deprecated v1 answer ``{"carrier": {"id"}, "progresses": [{"time", "status": {"id", "text"}, ...}]}``.

``TrackEvent.status.code`` -> the nine tags (STATUS below); ``UNKNOWN`` (or a code we do not know) is read
from the carrier's own words with the hub's Korean table for that carrier, else kept with status None.
``status.name`` is kept in ``raw_status``, ``description`` in ``message``; ``contact`` (the driver) is kept
masked only (김*수, 010-****-1234). ``lastEvent`` is added when no event equals it (the vendor may put
it first when scans arrive out of order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.payload import KST, as_dict, as_list, as_str, to_rfc3339, truncate
from deliveryhub.adapters.connectors.statuses import normalize_status
from deliveryhub.adapters.connectors.trackerdelivery.carriers import hub_carrier
from deliveryhub.adapters.connectors.trackerdelivery.scans import Found, driver, emit
from deliveryhub.adapters.connectors.tracking import Feed, eta_window, order_or_unknown

CODE = "trackerdelivery"

# TrackEventStatusCode (graphql schema) -> tag; the v1 ids are the same words in lower case.
STATUS: dict[str, str] = {
    "INFORMATION_RECEIVED": "info_received",
    "AT_PICKUP": "in_transit",  # 집화처리: the carrier has the parcel (EVENTS.md: CJ 11 -> in_transit)
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "ATTEMPT_FAIL": "attempt_fail",
    "DELIVERED": "delivered",
    "AVAILABLE_FOR_PICKUP": "available_for_pickup",
    "EXCEPTION": "exception",
}


def _nodes(track: dict[str, Any]) -> list[dict[str, Any]]:
    events = track.get("events")
    if isinstance(events, list):
        return [as_dict(e) for e in events]
    edges = as_list(as_dict(events).get("edges"))
    return [as_dict(as_dict(edge).get("node")) for edge in edges if edge]


def _status(
    carrier: str, code: str | None, name: str | None, text: str | None
) -> tuple[str | None, str | None]:
    tag = STATUS.get((code or "").upper())
    # The carrier's own words: the tag when the code says UNKNOWN, the reason of a problem.
    words_tag, reason, known = normalize_status(carrier, None, name, message=text)
    if tag is None and known:
        return words_tag, reason
    return tag, reason if known and words_tag == tag else None


def _found(carrier: str, where: str, node: dict[str, Any], result: MappingResult) -> Found | None:
    occurred = to_rfc3339(node.get("time"))
    if occurred is None:
        result.unmapped.append(f"{where}: time {node.get('time')!r} missing or without offset")
        return None
    status = as_dict(node.get("status"))
    code = as_str(status.get("code")) or as_str(status.get("id"))
    name = as_str(status.get("name")) or as_str(status.get("text"))
    text = as_str(node.get("description"))
    tag, reason = _status(carrier, code, name, text)
    extra: dict[str, Any] = {"aggregator": CODE}
    contact = as_dict(node.get("contact"))
    masked = driver(as_str(contact.get("name")), as_str(contact.get("phoneNumber")))
    if masked:
        extra["driver"] = masked
    return Found(
        where=where,
        occurred_at=occurred,
        tag=tag,
        raw_code=code,
        raw_status=name,
        location=as_str(as_dict(node.get("location")).get("name")),
        message=text,
        reason=reason,
        extra=extra,
    )


def _eta(feed: Feed, scans: list[Found]) -> list[dict[str, Any]]:
    out = []
    for scan in scans:
        if scan.tag != "out_for_delivery":
            continue
        day = datetime.fromisoformat(scan.occurred_at).astimezone(KST).date()
        window = eta_window(scan.raw_status, day) or eta_window(scan.message, day)
        if window is None:
            continue
        eta_min, eta_max = (w.isoformat() for w in window)
        out.append(
            new_event(
                event_id=stable_id(CODE, feed.carrier, feed.tracking_no, "eta", eta_min, eta_max),
                source=feed.source,
                type="shipment.eta_updated",
                occurred_at=scan.occurred_at,
                order_id=feed.order_id,
                shipment_id=feed.tracking_no,
                data={"eta_min": eta_min, "eta_max": eta_max, "carrier": feed.carrier},
            )
        )
    return out


def _map_track(
    track: dict[str, Any],
    carrier: str,
    number: str,
    order_id: str | None,
    result: MappingResult,
) -> None:
    why = f"{CODE} {carrier} {number}: no order_id"
    feed = Feed(CODE, carrier, number, order_or_unknown(order_id, number, why, result))
    scans: list[Found] = []
    for index, node in enumerate(_nodes(track)):
        found = _found(carrier, f"{CODE} {carrier} {number} event #{index}", node, result)
        if found is not None:
            scans.append(found)
    last = as_dict(track.get("lastEvent") or track.get("last_event"))
    if last:
        found = _found(carrier, f"{CODE} {carrier} {number} lastEvent", last, result)
        seen = {(s.occurred_at, s.raw_code, s.raw_status) for s in scans}
        if found is not None and (found.occurred_at, found.raw_code, found.raw_status) not in seen:
            found.extra["summary"] = True
            scans.append(found)
    if not scans:
        result.unmapped.append(f"{CODE} {carrier} {number}: no tracking events yet")
        return
    emit(feed, scans, result)
    result.events.extend(_eta(feed, scans))


def _fill(payload: Any, result: MappingResult, *, order_id: str | None, tracking_no: str | None) -> None:
    if not isinstance(payload, dict):
        result.unmapped.append(f"{CODE}: payload is not an object: {truncate(payload)}")
        return
    for error in as_list(payload.get("errors")):
        err = as_dict(error)
        code = as_str(as_dict(err.get("extensions")).get("code")) or "ERROR"
        result.unmapped.append(f"{CODE}: GraphQL error {code}: {as_str(err.get('message'))}")
    data = payload.get("data")
    if isinstance(data, dict):
        track = data.get("track")
    elif "progresses" in payload:
        track = {"events": payload.get("progresses")}
    elif "events" in payload or "lastEvent" in payload:
        track = payload
    else:
        track = None
    carrier_id = as_str(payload.get("carrierId")) or as_str(as_dict(payload.get("carrier")).get("id"))
    carrier = hub_carrier(carrier_id) if carrier_id else "unknown"
    number = (
        tracking_no or as_str(payload.get("trackingNumber")) or as_str(as_dict(track).get("trackingNumber"))
    )
    if not isinstance(track, dict):
        if "errors" not in payload:
            if carrier_id and number and set(payload) <= {"carrierId", "trackingNumber"}:
                result.unmapped.append(
                    f"{CODE}: webhook callback for {carrier_id} {number} carries no scans (query track)"
                )
            else:
                result.unmapped.append(f"{CODE}: no TrackInfo in payload: {truncate(payload)}")
        elif data is not None:
            result.unmapped.append(f"{CODE}: track is null")
        return
    if not number:
        result.unmapped.append(f"{CODE}: no tracking number in payload")
        return
    _map_track(track, carrier, number, order_id or as_str(payload.get("orderId")), result)


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map a tracker.delivery payload (track answer, TrackInfo, callback, v1 answer); never raises."""
    return guarded(CODE, _fill, payload, order_id=order_id, tracking_no=tracking_no)
