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

from deliveryhub.adapters.connectors.base import MappingResult
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str, to_rfc3339, truncate
from deliveryhub.adapters.connectors.tracking import (
    Feed,
    Scan,
    aggregator_feed,
    map_aggregator,
    order_or_unknown,
)

CODE = "aftership"


def _trackings(payload: dict[str, Any], _: MappingResult) -> list[dict[str, Any]] | None:
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


def _scan(where: str, occurred: str, cp: dict[str, Any]) -> Scan:
    extra = {key: cp[key] for key in ("raw_tag", "subtag_message") if cp.get(key) is not None}
    return Scan(
        where=where,
        occurred_at=occurred,
        raw_code=as_str(cp.get("subtag")),
        raw_status=as_str(cp.get("tag")),
        location=_location(cp),
        message=as_str(cp.get("message")),
        extra={"aggregator": CODE, **extra},
    )


def _map_tracking(
    trk: dict[str, Any], *, order_id: str | None, tracking_no: str | None, result: MappingResult
) -> None:
    number = as_str(trk.get("tracking_number")) or tracking_no
    if number is None:
        result.unmapped.append(f"aftership: tracking without tracking_number: {truncate(trk)}")
        return
    slug = as_str(trk.get("slug")) or "unknown"
    why = f"aftership {slug} {number}: no order_id/order_number"
    feed = Feed(CODE, slug, number, order_or_unknown(_order_id(trk, order_id), number, why, result))
    checkpoints = [as_dict(raw) for raw in as_list(trk.get("checkpoints"))]
    scans: list[Scan] = []
    for index, cp in enumerate(checkpoints):
        where = f"aftership {slug} {number} checkpoint #{index}"
        occurred = to_rfc3339(cp.get("checkpoint_time"))
        if occurred is None:
            result.unmapped.append(
                f"{where}: checkpoint_time {cp.get('checkpoint_time')!r} has no offset or is invalid"
            )
            continue
        scans.append(_scan(where, occurred, cp))
    last = checkpoints[-1] if checkpoints else {}
    tag, subtag = as_str(trk.get("tag")), as_str(trk.get("subtag"))
    differs = (tag, subtag) != (as_str(last.get("tag")), as_str(last.get("subtag")))
    summary = None
    if (tag or subtag) and (not scans or differs) and not trk.get("_last_checkpoint_only"):
        occurred = to_rfc3339(trk.get("updated_at")) or to_rfc3339(trk.get("last_updated_at"))
        if occurred is None:
            result.unmapped.append(
                f"aftership {slug} {number}: tracking tag {tag!r} has no usable updated_at"
            )
        else:
            summary = Scan(
                where=f"aftership {slug} {number} summary",
                occurred_at=occurred,
                raw_code=subtag,
                raw_status=tag,
                message=as_str(trk.get("subtag_message")),
                extra={"aggregator": CODE, "summary": True},
            )
    aggregator_feed(feed, scans, summary, result)


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map any AfterShip tracking payload; never raises."""
    return map_aggregator(
        CODE, "tracking", _trackings, _map_tracking, payload, order_id=order_id, tracking_no=tracking_no
    )
