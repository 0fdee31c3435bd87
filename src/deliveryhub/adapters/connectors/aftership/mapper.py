"""AfterShip tracking payloads -> canonical shipment events (pure).

Accepted shapes: a webhook body ``{"event", "event_id", "msg": <Tracking>, "ts"}``; an API response
``{"meta", "data": {"tracking": <Tracking>}}`` / ``{"data": {"trackings": [...]}}`` / last_checkpoint
``{"data": {"tracking_number", "slug", "tag", "subtag", "checkpoint"}}``; or a bare Tracking object.

Each checkpoint -> ``shipment.tracking`` (tag from subtag/tag, reason from subtag, raw tag/subtag kept).
When the tracking's own tag differs from its last checkpoint (e.g. Expired, or marked Exception_013 lost by
hand) or there is no checkpoint, one more ``shipment.tracking`` with ``summary: true`` carries it, dated
``updated_at``. First carrier scan / first delivery add ``shipment.handed_over`` / ``shipment.delivered``.
Checkpoint times without an offset are rejected (listed in ``unmapped``), as EVENTS.md requires.
"""

from __future__ import annotations

from typing import Any

from deliveryhub.adapters.connectors import tracking
from deliveryhub.adapters.connectors.base import (
    MappingResult,
    as_dict,
    as_list,
    as_str,
    to_rfc3339,
    truncate,
)

CARRIER = "aftership"
SOURCE = "carrier:aftership"


def _trackings(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    if isinstance(payload.get("msg"), dict):
        return [payload["msg"]]
    data = payload.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("tracking"), dict):
            return [data["tracking"]]
        if isinstance(data.get("trackings"), list):
            return [t for t in data["trackings"] if isinstance(t, dict)]
        if isinstance(data.get("checkpoint"), dict) and "tracking_number" in data:
            return [{**data, "checkpoints": [data["checkpoint"]], "_last_checkpoint_only": True}]
        return None
    if "tracking_number" in payload:
        return [payload]
    return None


def _order_id(trk: dict[str, Any], explicit: str | None) -> str | None:
    custom = as_dict(trk.get("custom_fields"))
    return (
        explicit
        or as_str(trk.get("order_id"))
        or as_str(trk.get("order_number"))
        or as_str(custom.get("order_id"))
        or as_str(custom.get("order_number"))
    )


def _location(cp: dict[str, Any]) -> str | None:
    location = as_str(cp.get("location"))
    if location:
        return location
    parts = [as_str(cp.get(k)) for k in ("city", "state", "zip", "country_name")]
    return ", ".join(p for p in parts if p) or as_str(cp.get("country_iso3"))


def _map_tracking(
    trk: dict[str, Any], *, order_id: str | None, tracking_no: str | None, result: MappingResult
) -> None:
    number = as_str(trk.get("tracking_number")) or tracking_no
    if number is None:
        result.unmapped.append(f"aftership: tracking without tracking_number: {truncate(trk)}")
        return
    slug = as_str(trk.get("slug")) or "unknown"
    oid = _order_id(trk, order_id)
    if oid is None:
        oid = f"unknown:{number}"
        result.unmapped.append(f"aftership {slug} {number}: no order_id/order_number; order_id set to {oid}")
    scans: list[dict[str, Any]] = []
    for index, raw in enumerate(as_list(trk.get("checkpoints"))):
        cp = as_dict(raw)
        occurred = to_rfc3339(cp.get("checkpoint_time"))
        if occurred is None:
            result.unmapped.append(
                f"aftership {slug} {number} checkpoint #{index}: checkpoint_time "
                f"{cp.get('checkpoint_time')!r} has no offset or is invalid"
            )
            continue
        scans.append(
            _event(slug, number, oid, occurred, as_str(cp.get("subtag")), as_str(cp.get("tag")), cp, result)
        )
    last = as_dict(as_list(trk.get("checkpoints"))[-1]) if as_list(trk.get("checkpoints")) else {}
    tag, subtag = as_str(trk.get("tag")), as_str(trk.get("subtag"))
    differs = (tag, subtag) != (as_str(last.get("tag")), as_str(last.get("subtag")))
    if (tag or subtag) and (not scans or differs) and not trk.get("_last_checkpoint_only"):
        occurred = to_rfc3339(trk.get("updated_at")) or to_rfc3339(trk.get("last_updated_at"))
        if occurred is None:
            result.unmapped.append(
                f"aftership {slug} {number}: tracking tag {tag!r} has no usable updated_at"
            )
        else:
            summary = {"message": as_str(trk.get("subtag_message")), "summary": True}
            result.events.append(_event(slug, number, oid, occurred, subtag, tag, summary, result))
    result.events.extend(scans)
    result.events.extend(
        tracking.derive_shipment_events(
            scans, prefix=CARRIER, source=SOURCE, carrier=slug, tracking_no=number
        )
    )


def _event(
    slug: str,
    number: str,
    order_id: str,
    occurred: str,
    subtag: str | None,
    tag: str | None,
    cp: dict[str, Any],
    result: MappingResult,
) -> dict[str, Any]:
    status, reason, known = tracking.normalize_status(CARRIER, subtag, tag)
    if not known:
        result.unmapped.append(f"aftership {slug} {number}: unknown tag={tag!r} subtag={subtag!r} (kept)")
    extra: dict[str, Any] = {"aggregator": CARRIER}
    for key in ("raw_tag", "subtag_message", "summary"):
        if cp.get(key) is not None:
            extra[key] = cp[key]
    return tracking.tracking_event(
        prefix=CARRIER,
        source=SOURCE,
        carrier=slug,
        tracking_no=number,
        order_id=order_id,
        occurred_at=occurred,
        tag=status,
        reason=reason,
        known=known,
        raw_code=subtag,
        raw_status=tag,
        location=None if cp.get("summary") else _location(cp),
        message=as_str(cp.get("message")),
        extra=extra,
    )


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map any AfterShip tracking payload; never raises."""
    result = MappingResult()
    try:
        trackings = _trackings(payload) if isinstance(payload, dict) else None
        if trackings is None:
            result.unmapped.append(f"aftership: no tracking in payload: {truncate(payload)}")
            return result
        for trk in trackings:
            _map_tracking(trk, order_id=order_id, tracking_no=tracking_no, result=result)
    except Exception as exc:  # noqa: BLE001 - a mapper reports, it never raises
        result.unmapped.append(f"aftership: mapper error {type(exc).__name__}: {exc}")
    return result
