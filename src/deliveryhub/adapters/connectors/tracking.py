"""Tracking-status normalization shared by the carrier connectors, plus the Korean carrier payload mapper.

    raw (code, text, message) --carrier statuses.py tables--> (tag, reason, known)
                              --GENERIC_KEYWORDS (Korean)----^      reason <- REASON_KEYWORDS

Unknown raw statuses never crash and are never guessed: ``normalize_status`` returns ``(None, None, False)``;
the mappers keep such a scan as a ``shipment.tracking`` event with ``status: None, status_known: False`` (raw
code and text kept) and list it in ``MappingResult.unmapped`` so it can be counted and a table row added.

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

import importlib
import re
from datetime import date, datetime, time, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from deliveryhub.adapters.connectors.base import (
    CONNECTOR_PACKAGES,
    KST,
    KeywordRules,
    MappingResult,
    TrackingStatus,
    as_dict,
    as_list,
    as_str,
    new_event,
    stable_id,
    to_rfc3339,
    truncate,
)

KOREAN_CARRIERS: tuple[str, ...] = ("cj", "lotte", "hanjin", "epost", "logen")

# Fallback for every Korean carrier when its own tables do not match (problem vocabulary is shared).
GENERIC_KEYWORDS: KeywordRules = (
    ("반송", TrackingStatus("exception", "returning_to_sender")),
    ("파손", TrackingStatus("exception", "damaged")),
    ("분실", TrackingStatus("exception", "lost")),
    ("사고", TrackingStatus("exception")),
    ("미배달", TrackingStatus("attempt_fail")),
    ("미배송", TrackingStatus("attempt_fail")),
    ("배달완료", TrackingStatus("delivered")),
    ("배송완료", TrackingStatus("delivered")),
)

# Reason words searched in status text and message when the tag is attempt_fail or exception.
REASON_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("수취거절", "refused"),
    ("수취인거절", "refused"),
    ("인수거절", "refused"),
    ("수령거부", "refused"),
    ("주소불명", "address_not_found"),
    ("주소지불명", "address_not_found"),
    ("주소오류", "address_not_found"),
    ("주소지없음", "address_not_found"),
    ("파손", "damaged"),
    ("분실", "lost"),
    ("폐문부재", "recipient_not_available"),
    ("수취인부재", "recipient_not_available"),
    ("부재", "recipient_not_available"),
    ("기상", "weather_delay"),
    ("폭설", "weather_delay"),
    ("태풍", "weather_delay"),
    ("천재지변", "weather_delay"),
    ("통관", "customs"),
    ("반송", "returning_to_sender"),
)

_PROBLEM_TAGS = frozenset({"attempt_fail", "exception"})
_HANDED_OVER_TAGS = frozenset(
    {"in_transit", "out_for_delivery", "attempt_fail", "delivered", "available_for_pickup"}
)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip(".")


def _statuses(carrier: str) -> ModuleType | None:
    if carrier not in CONNECTOR_PACKAGES:
        return None
    try:
        return importlib.import_module(f"deliveryhub.adapters.connectors.{carrier}.statuses")
    except ImportError:  # pragma: no cover - a package without a table
        return None


def _keyword(rules: KeywordRules, *texts: str | None) -> TrackingStatus | None:
    for text in texts:
        if not text:
            continue
        compact = _compact(text)
        for needle, status in rules:
            if needle in text or _compact(needle) in compact:
                return status
    return None


def _lookup(
    carrier: str, raw_code: str | None, raw_status: str | None, message: str | None
) -> TrackingStatus | None:
    module = _statuses(carrier)
    if module is None:
        return None
    custom = getattr(module, "lookup", None)
    if custom is not None:
        found: TrackingStatus | None = custom(raw_code, raw_status)
        return found
    codes = getattr(module, "CODES", {})
    texts = getattr(module, "TEXTS", {})
    if raw_code and raw_code.strip() in codes:
        return codes[raw_code.strip()]  # type: ignore[no-any-return]
    if raw_status:
        compact = _compact(raw_status)
        if compact in texts:
            return texts[compact]  # type: ignore[no-any-return]
    found = _keyword(getattr(module, "KEYWORDS", ()), raw_status, message)
    if found is None and carrier in KOREAN_CARRIERS:
        found = _keyword(GENERIC_KEYWORDS, raw_status, message)
    return found


def _reason(*texts: str | None) -> str | None:
    for text in texts:
        if not text:
            continue
        compact = _compact(text)
        for needle, reason in REASON_KEYWORDS:
            if needle in compact:
                return reason
    return None


def normalize_status(
    carrier: str, raw_code: str | None, raw_status: str | None, *, message: str | None = None
) -> tuple[str | None, str | None, bool]:
    """Carrier raw code/text -> (tag, reason, known). Unknown -> (None, None, False); never raises."""
    code = raw_code if isinstance(raw_code, str) else None
    text = raw_status if isinstance(raw_status, str) else None
    msg = message if isinstance(message, str) else None
    status = _lookup(carrier, code, text, msg)
    if status is None:
        return None, None, False
    reason = status.reason
    if reason is None and status.tag in _PROBLEM_TAGS and carrier in KOREAN_CARRIERS:
        reason = _reason(text, msg)
    return status.tag, reason, True


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


def tracking_event(
    *,
    prefix: str,
    source: str,
    carrier: str,
    tracking_no: str,
    order_id: str,
    occurred_at: str,
    tag: str | None,
    reason: str | None,
    known: bool,
    raw_code: str | None,
    raw_status: str | None,
    location: str | None,
    message: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``shipment.tracking`` event; the id hashes (carrier, tracking no, time, code, text, location)."""
    data: dict[str, Any] = {
        "status": tag,
        "raw_status": mask_personal(raw_status)[:500] if raw_status else raw_status,
        "raw_code": raw_code[:64] if raw_code else raw_code,
        "location": location[:500] if location else location,
        "message": mask_personal(message)[:2000] if message else message,
        "carrier": carrier,
        "tracking_no": tracking_no,
        "status_known": known,
    }
    if reason:
        data["reason"] = reason
    if extra:
        data.update(extra)
    return new_event(
        event_id=stable_id(prefix, carrier, tracking_no, occurred_at, raw_code, raw_status, location),
        source=source,
        type="shipment.tracking",
        occurred_at=occurred_at,
        order_id=order_id,
        shipment_id=tracking_no,
        data=data,
    )


def _sort_key(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def derive_shipment_events(
    tracking_events: list[dict[str, Any]], *, prefix: str, source: str, carrier: str, tracking_no: str
) -> list[dict[str, Any]]:
    """Stage facts implied by scans: first carrier scan -> handed_over; first delivered -> delivered.

    Ids depend only on (carrier, tracking no, kind), so later polls with more scans dedupe to the same event.
    """
    derived: list[dict[str, Any]] = []
    ordered = sorted(tracking_events, key=_sort_key)
    first_scan = next((e for e in ordered if e["data"].get("status") in _HANDED_OVER_TAGS), None)
    if first_scan is not None:
        derived.append(
            new_event(
                event_id=stable_id(prefix, carrier, tracking_no, "handed_over"),
                source=source,
                type="shipment.handed_over",
                occurred_at=first_scan["occurred_at"],
                order_id=first_scan["order_id"],
                shipment_id=tracking_no,
                data={"carrier": carrier, "tracking_no": tracking_no},
            )
        )
    delivered = next((e for e in ordered if e["data"].get("status") == "delivered"), None)
    if delivered is not None:
        derived.append(
            new_event(
                event_id=stable_id(prefix, carrier, tracking_no, "delivered"),
                source=source,
                type="shipment.delivered",
                occurred_at=delivered["occurred_at"],
                order_id=delivered["order_id"],
                shipment_id=tracking_no,
                data={
                    "carrier": carrier,
                    "tracking_no": tracking_no,
                    "location": delivered["data"].get("location"),
                },
            )
        )
    return derived


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


def _map_korean_events(
    carrier: str, raw_events: list[Any], *, tracking_no: str, order_id: str, result: MappingResult
) -> None:
    prefix, source = carrier, f"carrier:{carrier}"
    scans: list[dict[str, Any]] = []
    extra_events: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            result.unmapped.append(f"{carrier} {tracking_no} event #{index}: not an object: {truncate(raw)}")
            continue
        raw_code = as_str(raw.get("code"))
        raw_status = as_str(raw.get("status")) or as_str(raw.get("state"))
        location = as_str(raw.get("location")) or as_str(raw.get("position"))
        message = as_str(raw.get("message"))
        occurred_at = _event_time(raw)
        if occurred_at is None:
            result.unmapped.append(
                f"{carrier} {tracking_no} event #{index}: unparseable time {truncate(raw)}"
            )
            continue
        if raw_code is None and raw_status is None:
            result.unmapped.append(f"{carrier} {tracking_no} event #{index}: no status code or text")
            continue
        tag, reason, known = normalize_status(carrier, raw_code, raw_status, message=message)
        if not known:
            result.unmapped.append(
                f"{carrier} {tracking_no} event #{index}: unknown status code={raw_code!r} "
                f"text={raw_status!r} (kept with status None)"
            )
        event = tracking_event(
            prefix=prefix,
            source=source,
            carrier=carrier,
            tracking_no=tracking_no,
            order_id=order_id,
            occurred_at=occurred_at,
            tag=tag,
            reason=reason,
            known=known,
            raw_code=raw_code,
            raw_status=raw_status,
            location=location,
            message=message,
        )
        scans.append(event)
        if tag == "out_for_delivery":
            window = eta_window(raw_status, _kst_day(occurred_at)) or eta_window(
                message, _kst_day(occurred_at)
            )
            if window is not None:
                eta_min, eta_max = (w.isoformat() for w in window)
                extra_events.append(
                    new_event(
                        event_id=stable_id(prefix, carrier, tracking_no, "eta", eta_min, eta_max),
                        source=source,
                        type="shipment.eta_updated",
                        occurred_at=occurred_at,
                        order_id=order_id,
                        shipment_id=tracking_no,
                        data={"eta_min": eta_min, "eta_max": eta_max, "carrier": carrier},
                    )
                )
    result.events.extend(scans)
    result.events.extend(extra_events)
    result.events.extend(
        derive_shipment_events(scans, prefix=prefix, source=source, carrier=carrier, tracking_no=tracking_no)
    )


def _kst_day(occurred_at: str) -> date:
    return datetime.fromisoformat(occurred_at).astimezone(KST).date()


def _search_post_entries(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    response = payload.get("response")
    if isinstance(response, dict):
        response = response.get("response")
    if not isinstance(response, list):
        return None
    return [entry for entry in response if isinstance(entry, dict)]


def _order_id(
    carrier: str, explicit: str | None, payload: dict[str, Any], tracking_no: str, result: MappingResult
) -> str:
    order_id = explicit or as_str(payload.get("order_id"))
    if order_id:
        return order_id
    result.unmapped.append(
        f"{carrier} {tracking_no}: no order_id in payload; order_id set to unknown:{tracking_no}"
    )
    return f"unknown:{tracking_no}"


def map_korean_payload(
    carrier: str, payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Map a Korean carrier payload (push format or search-post response) for ``carrier``; never raises."""
    result = MappingResult()
    try:
        _map_korean(carrier, payload, order_id=order_id, tracking_no=tracking_no, result=result)
    except Exception as exc:  # noqa: BLE001 - a mapper reports, it never raises
        result.unmapped.append(f"{carrier}: mapper error {type(exc).__name__}: {exc}")
    return result


def _map_korean(
    carrier: str, payload: Any, *, order_id: str | None, tracking_no: str | None, result: MappingResult
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
    oid = _order_id(carrier, order_id, payload, number, result) if raw_events else ""
    _map_korean_events(carrier, raw_events, tracking_no=number, order_id=oid, result=result)


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
