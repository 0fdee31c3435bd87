"""Tracking events shared by the carrier connectors, and the one payload mapper of every Korean carrier.

Statuses are normalized by ``statuses.normalize_status`` from the data in ``carriers.yaml``. An unknown raw
status is kept as a ``shipment.tracking`` event with ``status: None, status_known: False`` (raw code and text
kept) and listed in ``MappingResult.unmapped`` so it can be counted and a table row added.

Korean payload shapes understood by ``map_korean_payload``:

1. the documented push format::

       {"tracking_no": "...", "order_id": "..."?, "events": [
           {"time": "2024-05-02T14:03:00+09:00" | "2024-05-02 14:03", "code": "82"?, "status": "배송출발",
            "location": "...", "message": "..."}]}

   Naive times are Korea time (the importer declares Asia/Seoul, UTC+9, no DST).
2. the search-post scraper response (``korean_tracking/*.json``)::

       {"request_url": "...?tracking-number=N", "response": {"response": [
           {"companyName": "cj", "result": [{"date", "time", "position", "state"}]}]}}

Carrier messages may carry driver names and phone numbers: ``message`` and ``raw_status`` are stored masked
(``mask_personal``); masking only touches names next to a role word or a phone number, and phone digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from deliveryhub.adapters.connectors.base import MappingResult, guarded, new_event, stable_id
from deliveryhub.adapters.connectors.payload import KST, as_dict, as_list, as_str, to_rfc3339, truncate
from deliveryhub.adapters.connectors.statuses import korean_carriers, normalize_status

KOREAN_CARRIERS: tuple[str, ...] = korean_carriers()

_HANDED_OVER_TAGS = frozenset(
    {"in_transit", "out_for_delivery", "attempt_fail", "delivered", "available_for_pickup"}
)


_WINDOW = re.compile(r"\(?\s*(\d{1,2})\s*(?:시)?\s*[~\-–]\s*(\d{1,2})\s*시\s*\)?")


def eta_window(text: str | None, day: date) -> tuple[datetime, datetime] | None:
    """CJ's two-hour window "(14~16시)" in an out-for-delivery text -> (eta_min, eta_max) in Korea time."""
    if not isinstance(text, str):
        return None
    match = _WINDOW.search(text)
    if match is None:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    if not (0 <= start < end <= 24):
        return None
    midnight = datetime.combine(day, time(0, 0), tzinfo=KST)
    return midnight + timedelta(hours=start), midnight + timedelta(hours=end)


_ROLE = (
    r"(?:배송\s?기사|택배\s?기사|배달\s?기사|담당\s?기사|배송\s?담당자?|배달\s?담당자?"
    r"|담당자|배달원|집배원|기사)"
)
_NAME_AFTER_ROLE = re.compile(rf"({_ROLE}\s*(?:님)?\s*[:：]?\s*)([가-힣]{{2,4}}?)(?=님|[^가-힣]|$)")
_PHONE_SEP = r"(?<!\d)(0\d{1,2})([-.\s])(\d{3,4})[-.\s](\d{4})(?!\d)"
_NAME_BEFORE_PHONE = re.compile(
    rf"(?<![가-힣*])([가-힣]{{2,4}}?)(님?\s*\(?\s*)(?=(?:{_PHONE_SEP})|(?<!\d)01[016789]\d{{7,8}}(?!\d))"
)
_PHONE = re.compile(_PHONE_SEP)
_MOBILE_BARE = re.compile(r"(?<!\d)(01[016789])(\d{3,4})(\d{4})(?!\d)")


def _mask_name(name: str) -> str:
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_personal(text: str) -> str:
    """Mask driver names and phone numbers in a carrier message.

    "배송기사 홍길동" -> "배송기사 홍*동"; "010-1234-5678" -> "010-****-5678".
    """
    if not isinstance(text, str) or not text:
        return text
    masked = _NAME_AFTER_ROLE.sub(lambda m: m.group(1) + _mask_name(m.group(2)), text)
    masked = _NAME_BEFORE_PHONE.sub(lambda m: _mask_name(m.group(1)) + m.group(2), masked)
    masked = _PHONE.sub(lambda m: f"{m.group(1)}-****-{m.group(4)}", masked)
    return _MOBILE_BARE.sub(lambda m: f"{m.group(1)}-****-{m.group(3)}", masked)


# ------------------------------------------------------------------------------------ event building


@dataclass(frozen=True)
class Feed:
    """Whose scans these are: the connector (status vocabulary, event source and id prefix), the carrier
    named in the events (an aggregator reports for many), the parcel and its order."""

    connector: str
    carrier: str
    tracking_no: str
    order_id: str

    @property
    def source(self) -> str:
        """The canonical event source, e.g. ``carrier:cj``."""
        return f"carrier:{self.connector}"


@dataclass
class Scan:
    """One raw checkpoint of a vendor payload with a usable time, before its status is normalized."""

    where: str  # names the checkpoint in ``unmapped``, e.g. "cj 553825406594 event #2"
    occurred_at: str
    raw_code: str | None
    raw_status: str | None
    location: str | None = None
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def scan_event(feed: Feed, scan: Scan, result: MappingResult) -> dict[str, Any]:
    """One ``shipment.tracking`` event; the id hashes (carrier, tracking no, time, code, text, location).

    An unknown raw status is kept with status None and listed in ``result.unmapped``.
    """
    tag, reason, known = normalize_status(
        feed.connector, scan.raw_code, scan.raw_status, message=scan.message
    )
    if not known:
        result.unmapped.append(
            f"{scan.where}: unknown status code={scan.raw_code!r} text={scan.raw_status!r} "
            "(kept with status None)"
        )
    raw_code, raw_status, location, message = scan.raw_code, scan.raw_status, scan.location, scan.message
    data: dict[str, Any] = {
        "status": tag,
        "raw_status": mask_personal(raw_status)[:500] if raw_status else raw_status,
        "raw_code": raw_code[:64] if raw_code else raw_code,
        "location": location[:500] if location else location,
        "message": mask_personal(message)[:2000] if message else message,
        "carrier": feed.carrier,
        "tracking_no": feed.tracking_no,
        "status_known": known,
    }
    if reason:
        data["reason"] = reason
    data.update(scan.extra)
    return new_event(
        event_id=stable_id(
            feed.connector, feed.carrier, feed.tracking_no, scan.occurred_at, raw_code, raw_status, location
        ),
        source=feed.source,
        type="shipment.tracking",
        occurred_at=scan.occurred_at,
        order_id=feed.order_id,
        shipment_id=feed.tracking_no,
        data=data,
    )


def _sort_key(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def derive_shipment_events(feed: Feed, tracking_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stage facts implied by scans: first carrier scan -> handed_over; first delivered -> delivered.

    Ids depend only on (carrier, tracking no, kind), so later polls with more scans dedupe to the same event.
    """
    ordered = sorted(tracking_events, key=_sort_key)
    facts = (
        ("handed_over", next((e for e in ordered if e["data"].get("status") in _HANDED_OVER_TAGS), None)),
        ("delivered", next((e for e in ordered if e["data"].get("status") == "delivered"), None)),
    )
    derived: list[dict[str, Any]] = []
    for kind, scan in facts:
        if scan is None:
            continue
        data = {"carrier": feed.carrier, "tracking_no": feed.tracking_no}
        if kind == "delivered":
            data["location"] = scan["data"].get("location")
        derived.append(
            new_event(
                event_id=stable_id(feed.connector, feed.carrier, feed.tracking_no, kind),
                source=feed.source,
                type=f"shipment.{kind}",
                occurred_at=scan["occurred_at"],
                order_id=scan["order_id"],
                shipment_id=feed.tracking_no,
                data=data,
            )
        )
    return derived


def aggregator_feed(feed: Feed, scans: list[Scan], summary: Scan | None, result: MappingResult) -> None:
    """One aggregator tracker: the summary scan (the tracker's own status, when its checkpoints do not end
    with it) first, then the checkpoints, then the stage facts they imply."""
    events = [scan_event(feed, scan, result) for scan in scans]
    if summary is not None:
        result.events.append(scan_event(feed, summary, result))
    result.events.extend(events)
    result.events.extend(derive_shipment_events(feed, events))


Find = Callable[[dict[str, Any], MappingResult], list[dict[str, Any]] | None]
"""(payload object, result) -> the trackers it holds, or None when it holds none at all."""
MapOne = Callable[..., None]
"""(tracker, *, order_id, tracking_no, result) -> None: the tracker's events into the result."""


def map_aggregator(
    name: str, what: str, find: Find, map_one: MapOne, payload: Any, **context: str | None
) -> MappingResult:
    """An aggregator payload: each tracker ``find`` names, mapped by ``map_one``; never raises."""

    def fill(payload: Any, result: MappingResult, **context: str | None) -> None:
        trackers = find(payload, result) if isinstance(payload, dict) else None
        if trackers is None:
            result.unmapped.append(f"{name}: no {what} in payload: {truncate(payload)}")
            return
        for tracker in trackers:
            map_one(tracker, result=result, **context)

    return guarded(name, fill, payload, **context)


# ----------------------------------------------------------------------------- Korean carrier payloads


def _tracking_no_from_url(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    for key in ("tracking-number", "tracking_number", "tracking_no", "invoice", "t_invoice"):
        if query.get(key):
            return as_str(query[key][0])
    return None


def _event_time(raw: dict[str, Any]) -> str | None:
    when = raw.get("time")
    day = raw.get("date")
    if isinstance(day, str) and isinstance(when, str) and len(when.strip()) <= 8:
        return to_rfc3339(f"{day.strip()} {when.strip()}", default_tz=KST)
    return to_rfc3339(when if when is not None else day, default_tz=KST)


def _map_korean_events(feed: Feed, raw_events: list[Any], result: MappingResult) -> None:
    scans: list[dict[str, Any]] = []
    eta_events: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        where = f"{feed.carrier} {feed.tracking_no} event #{index}"
        if not isinstance(raw, dict):
            result.unmapped.append(f"{where}: not an object: {truncate(raw)}")
            continue
        occurred_at = _event_time(raw)
        if occurred_at is None:
            result.unmapped.append(f"{where}: unparseable time {truncate(raw)}")
            continue
        scan = Scan(
            where=where,
            occurred_at=occurred_at,
            raw_code=as_str(raw.get("code")),
            raw_status=as_str(raw.get("status")) or as_str(raw.get("state")),
            location=as_str(raw.get("location")) or as_str(raw.get("position")),
            message=as_str(raw.get("message")),
        )
        if scan.raw_code is None and scan.raw_status is None:
            result.unmapped.append(f"{where}: no status code or text")
            continue
        event = scan_event(feed, scan, result)
        scans.append(event)
        if event["data"]["status"] == "out_for_delivery":
            day = _kst_day(occurred_at)
            window = eta_window(scan.raw_status, day) or eta_window(scan.message, day)
            if window is not None:
                eta_min, eta_max = (w.isoformat() for w in window)
                eta_events.append(
                    new_event(
                        event_id=stable_id(
                            feed.connector, feed.carrier, feed.tracking_no, "eta", eta_min, eta_max
                        ),
                        source=feed.source,
                        type="shipment.eta_updated",
                        occurred_at=occurred_at,
                        order_id=feed.order_id,
                        shipment_id=feed.tracking_no,
                        data={"eta_min": eta_min, "eta_max": eta_max, "carrier": feed.carrier},
                    )
                )
    result.events.extend(scans)
    result.events.extend(eta_events)
    result.events.extend(derive_shipment_events(feed, scans))


def _kst_day(occurred_at: str) -> date:
    return datetime.fromisoformat(occurred_at).astimezone(KST).date()


def _search_post_entries(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    response = payload.get("response")
    if isinstance(response, dict):
        response = response.get("response")
    if not isinstance(response, list):
        return None
    return [entry for entry in response if isinstance(entry, dict)]


def order_or_unknown(order_id: str | None, tracking_no: str, why: str, result: MappingResult) -> str:
    """``order_id``, or ``unknown:<tracking no>`` with ``why`` listed in ``result.unmapped``."""
    if order_id:
        return order_id
    result.unmapped.append(f"{why}; order_id set to unknown:{tracking_no}")
    return f"unknown:{tracking_no}"


def map_korean_payload(
    carrier: str, payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map a Korean carrier payload (push format or search-post response) for ``carrier``; never raises."""
    return guarded(
        carrier, partial(_map_korean, carrier), payload, order_id=order_id, tracking_no=tracking_no
    )


def _map_korean(
    carrier: str, payload: Any, result: MappingResult, *, order_id: str | None, tracking_no: str | None
) -> None:
    if not isinstance(payload, dict):
        result.unmapped.append(f"{carrier}: payload is not an object: {truncate(payload)}")
        return
    entries = _search_post_entries(payload) if "events" not in payload else None
    if entries is not None:
        number = (
            tracking_no
            or as_str(payload.get("tracking_no"))
            or _tracking_no_from_url(payload.get("request_url"))
        )
        mine = [e for e in entries if as_str(e.get("companyName")) == carrier]
        for other in entries:
            name = as_str(other.get("companyName"))
            if name != carrier and as_list(other.get("result")):
                result.unmapped.append(
                    f"{carrier}: search-post result for {name!r} ignored (use map_search_post)"
                )
        raw_events = [ev for entry in mine for ev in as_list(entry.get("result"))]
        if not raw_events:
            if not mine:
                result.unmapped.append(f"{carrier}: search-post response has no {carrier} entry")
            return
    elif "events" in payload:
        number = tracking_no or as_str(payload.get("tracking_no"))
        raw_events = as_list(payload.get("events"))
        if not isinstance(payload.get("events"), list):
            result.unmapped.append(f"{carrier}: 'events' is not a list")
            return
    else:
        result.unmapped.append(
            f"{carrier}: unrecognized payload shape, keys={sorted(map(str, payload))[:10]}"
        )
        return
    if not number:
        result.unmapped.append(f"{carrier}: no tracking number; {len(raw_events)} events dropped")
        return
    why = f"{carrier} {number}: no order_id in payload"
    oid = (
        order_or_unknown(order_id or as_str(payload.get("order_id")), number, why, result)
        if raw_events
        else ""
    )
    _map_korean_events(Feed(carrier, carrier, number, oid), raw_events, result)


def map_search_post(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """A search-post response holds results for several carriers: map each non-empty one with its carrier."""
    result = MappingResult()
    entries = _search_post_entries(payload) if isinstance(payload, dict) else None
    if entries is None:
        result.unmapped.append(f"search-post: unrecognized payload {truncate(payload)}")
        return result
    for entry in entries:
        name = as_str(entry.get("companyName"))
        if not as_list(entry.get("result")):
            continue
        if name not in KOREAN_CARRIERS:
            result.unmapped.append(f"search-post: unknown company {name!r}")
            continue
        single = {**as_dict(payload), "response": [entry]}
        result.extend(map_korean_payload(str(name), single, order_id=order_id, tracking_no=tracking_no))
    return result
