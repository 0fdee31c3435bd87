"""What the order page and the tracking page tell about one order: lateness against the promised date,
the ETA window against it, per-parcel carrier scans with their location, notices per channel with their
delivery status, open exceptions with their evidence, and the claims on the order. Pure functions over
`order_detail` and the order sections (no I/O), shared by the operator's and the customer's page."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from deliveryhub.kernel.labels import is_known, label
from deliveryhub.kernel.timefmt import format_date, parse_date, parse_datetime

TERMINAL = ("delivered", "cancelled", "returned")
# A carrier's public tracking page for a tracking number (the customer's "see it at the carrier" link).
CARRIER_TRACKING_URLS = {
    "cj": "https://trace.cjlogistics.com/next/tracking.html?wblNo={no}",
    "lotte": "https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={no}",
    "hanjin": "https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={no}",
    "epost": "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={no}",
    "logen": "https://www.ilogen.com/web/personal/trace/{no}",
}


def local_text(value: Any, zone: tzinfo) -> str:
    """An instant as local "YYYY-MM-DD HH:MM" ("" when there is none)."""
    at = parse_datetime(value)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def lateness(detail: dict[str, Any], today: date, zone: tzinfo) -> dict[str, Any]:
    """The order against its promised date: state (late, due_today, on_track, delivered_late,
    delivered_on_time, no_promise, closed) and whole days late."""
    promised = parse_date(detail.get("promised_delivery_date"))
    stage = detail.get("stage") or ""
    if promised is None:
        return {"state": "no_promise", "days_late": 0, "promised": None}
    delivered = parse_datetime(detail.get("delivered_at"))
    if delivered is not None or stage == "delivered":
        day = delivered.astimezone(zone).date() if delivered is not None else today
        days = max(0, (day - promised).days)
        return {
            "state": "delivered_late" if days else "delivered_on_time",
            "days_late": days,
            "promised": promised,
        }
    if stage in ("cancelled", "returned"):
        return {"state": "closed", "days_late": 0, "promised": promised}
    days = max(0, (today - promised).days)
    state = "late" if days else ("due_today" if today == promised else "on_track")
    return {"state": state, "days_late": days, "promised": promised}


def lateness_text(late: dict[str, Any], lang: str) -> str:
    """The lateness state as one sentence ("약속일보다 2일 늦음")."""
    key = {
        "late": "late_by",
        "due_today": "late_today",
        "on_track": "on_track",
        "delivered_late": "delivered_late",
        "delivered_on_time": "delivered_on_time",
        "no_promise": "no_promise",
    }.get(late["state"])
    return label("order_page", key, lang).format(days=late["days_late"]) if key else ""


def eta_vs_promise(
    eta: dict[str, Any] | None, promised: date | None, zone: tzinfo, today: date | None = None
) -> str | None:
    """Whether the ETA window ends after the promised date (after) or not (within), or — given `today`
    for an order not yet delivered — has already ended without a newer estimate (passed); None without
    both."""
    if not eta or promised is None:
        return None
    end = parse_datetime(eta.get("eta_max") or eta.get("eta_min"))
    if end is None:
        return None
    if today is not None and end.astimezone(zone).date() < today:
        return "passed"  # a stale window must not read "arriving by the promised date"
    return "after" if end.astimezone(zone).date() > promised else "within"


def carrier_url(carrier: Any, tracking_no: Any) -> str:
    """The carrier's public tracking page for the number ("" for a carrier we do not know)."""
    pattern = CARRIER_TRACKING_URLS.get(str(carrier or ""))
    digits = "".join(ch for ch in str(tracking_no or "") if ch.isalnum())
    return pattern.format(no=digits) if pattern and digits else ""


def scan_text(scan: dict[str, Any], lang: str) -> str:
    """What a carrier scan says: the normalised tag's name, the carrier's own words when they add to it,
    and the reason."""
    status = scan.get("status")
    words = label("tag", status, lang) if status else label("event_type", scan.get("type") or "", lang)
    raw = (scan.get("raw_status") or scan.get("message") or "").strip()
    if raw and raw != words:
        words = f"{words} · {raw}"
    reason = scan.get("reason")
    if reason:
        words = f"{words} ({label('reason', reason, lang)})"
    return words


def parcel_story(parcel: dict[str, Any], lang: str, zone: tzinfo) -> dict[str, Any]:
    """One parcel: carrier name, number, link, status and its scans newest first with location."""
    scans = [
        {
            "at": local_text(s.get("occurred_at"), zone),
            "text": scan_text(s, lang),
            "location": s.get("location") or "",
            "tag": s.get("status") or s.get("type"),
        }
        for s in reversed(parcel.get("tracking") or [])
    ]
    carrier = parcel.get("carrier")
    status = parcel.get("status")
    return {
        "shipment_id": parcel.get("shipment_id"),
        "carrier": carrier or "",
        "carrier_name": label("carrier", carrier, lang) if carrier else "",
        "tracking_no": parcel.get("tracking_no") or "",
        "carrier_url": carrier_url(carrier, parcel.get("tracking_no")),
        "status": status or "",
        "status_label": label("tag", status, lang) if status else "",
        "delivered_at": local_text(parcel.get("delivered_at"), zone),
        "scans": scans,
        # The last time the parcel was seen somewhere (an ETA revision is news, not a scan).
        "last_scan": next((sc for sc in scans if sc["tag"] != "shipment.eta_updated"), None),
    }


def evidence_rows(evidence: Any, lang: str, zone: tzinfo) -> list[dict[str, str]]:
    """An exception's evidence as (name, value) rows people read: instants local, codes named."""
    if not isinstance(evidence, dict):
        return []
    rows = []
    for key, value in evidence.items():
        if value is None or value == "":
            continue
        rows.append(
            {
                "key": key,
                "name": label("evidence", key, lang),
                "value": _evidence_value(key, value, lang, zone),
            }
        )
    return rows


def _evidence_value(key: str, value: Any, lang: str, zone: tzinfo) -> str:
    if key == "stage":
        return label("stage", str(value), lang)
    if key == "status" and is_known("tag", str(value)):
        return label("tag", str(value), lang)
    if key == "carrier":
        return label("carrier", str(value), lang)
    if key == "reason" and is_known("reason", str(value)):
        return label("reason", str(value), lang)
    if key.endswith("_date"):
        return format_date(value, lang)
    if key.endswith("probability") and isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    if isinstance(value, str) and ("T" in value or key.endswith(("_at", "_due", "_by"))):
        at = parse_datetime(value)
        if at is not None and "T" in value:
            return local_text(at, zone)
    if isinstance(value, list):
        return "; ".join(_evidence_value(key, v, lang, zone) for v in value)
    if isinstance(value, dict):
        # Nested evidence (e.g. the silent parcels of tracking_stale): each field named, never a repr.
        return " · ".join(
            f"{label('evidence', str(k), lang)} {_evidence_value(str(k), v, lang, zone)}"
            for k, v in value.items()
            if v is not None and v != ""
        )
    return str(value)


def exception_story(exc: dict[str, Any], lang: str, zone: tzinfo) -> dict[str, Any]:
    """One exception as the order page shows it."""
    return {
        "id": exc.get("id"),
        "type": exc.get("type"),
        "label": label("exception", exc.get("type") or "", lang),
        "status": exc.get("status"),
        "status_label": label("exception_status", exc.get("status") or "", lang),
        "opened_at": local_text(exc.get("opened_at"), zone),
        "resolved_at": local_text(exc.get("resolved_at"), zone),
        "evidence": evidence_rows(exc.get("evidence"), lang, zone),
        "assignee": exc.get("assignee") or "",
    }


def notice_story(notices: list[dict[str, Any]], lang: str, zone: tzinfo) -> dict[str, Any]:
    """Customer notices newest first with their last delivery status, and counts per channel and status."""
    rows = []
    per_channel: dict[str, dict[str, int]] = {}
    for n in notices:
        if n.get("audience") not in (None, "customer"):
            continue
        receipts = n.get("receipts") or []
        status = receipts[-1]["status"] if receipts else n.get("status") or ""
        channel = n.get("channel") or (receipts[-1]["channel"] if receipts else "")
        rows.append(
            {
                "template": label("template", n.get("template") or "", lang),
                "stage": label("stage", n["stage"], lang) if n.get("stage") else "",
                "channel": label("notice_channel", channel, lang) if channel else "—",
                "status": status,
                "status_label": label("notice_status", status, lang) if status else "—",
                "at": local_text(n.get("sent_at") or n.get("created_at"), zone),
                "recipient": n.get("recipient") or "",
                "error": (n.get("last_error") or "") if status in ("failed", "dead", "retry") else "",
                "fallback": bool(n.get("fallback")),
            }
        )
        if channel:
            counts = per_channel.setdefault(label("notice_channel", channel, lang), {})
            counts[status] = counts.get(status, 0) + 1
    summary = [
        {
            "channel": ch,
            "counts": ", ".join(f"{label('notice_status', s, lang)} {c}" for s, c in sorted(counts.items())),
        }
        for ch, counts in sorted(per_channel.items())
    ]
    rows.reverse()
    return {"rows": rows, "per_channel": summary}


def ticket_story(tickets: list[dict[str, Any]], lang: str, zone: tzinfo) -> list[dict[str, Any]]:
    """The order's CS tickets with their status, priority and channel in words."""
    return [
        {
            "id": tk.get("id"),
            "subject": tk.get("subject") or "",
            "status": label("ticket_status", tk.get("status") or "", lang),
            "priority": label("priority", tk.get("priority") or "", lang),
            "channel": tk.get("channel") or "",
            "created_at": local_text(tk.get("created_at"), zone),
            "resolved_at": local_text(tk.get("resolved_at"), zone),
        }
        for tk in tickets
    ]


def claim_story(claims: list[dict[str, Any]], lang: str, zone: tzinfo) -> list[dict[str, Any]]:
    """Claims, returns, exchanges and compensation on the order, oldest first."""
    out = []
    for c in claims:
        kind = c.get("kind")
        detail = label("claim", kind, lang) if kind and c["type"].startswith("claim.") else ""
        if not detail and kind:
            detail = label("compensation", kind, lang) if c["type"].startswith("compensation.") else str(kind)
        reason = c.get("reason") or ""
        out.append(
            {
                "what": label("event_type", c["type"], lang),
                "detail": " · ".join(x for x in (detail, reason) if x),
                "amount": c.get("amount"),
                "at": local_text(c.get("occurred_at"), zone),
            }
        )
    return out


def compensation_story(items: list[dict[str, Any]], lang: str, zone: tzinfo) -> list[dict[str, Any]]:
    """The order's compensation decisions (coupon, refund, points) with amount and state in words."""
    return [
        {
            "kind": label("compensation", c.get("kind") or "", lang),
            "amount": c.get("amount"),
            "status": c.get("status") or "",
            "status_label": label("compensation_status", c.get("status") or "", lang),
            "at": local_text(c.get("issued_at") or c.get("decided_at") or c.get("created_at"), zone),
        }
        for c in items
    ]


def _won(amount: Any, lang: str) -> str:
    try:
        value = int(round(float(amount)))
    except (TypeError, ValueError):
        return ""
    return f"{value:,} won" if lang == "en" else f"{value:,}원"


_INSPECTION = {"pass": ("검수 통과", "passed"), "fail": ("검수 불합격", "failed")}


def event_detail(row: dict[str, Any], lang: str) -> str:
    """What an after-sales or outside-action event adds in words — which action in which system
    (action.completed / action.failed, with the system's message when it failed), a return's reason and
    fee, a refund's amount, an inspection's result; "" when the row carries no `data`."""
    data = row.get("data") or {}
    if not isinstance(data, dict):
        return ""
    kind = row.get("type") or ""
    parts: list[str] = []
    if kind in ("action.completed", "action.failed"):
        if data.get("action"):
            parts.append(label("outside_action", str(data["action"]), lang))
        if data.get("system"):
            parts.append(label("outside_system", str(data["system"]), lang))
        if kind == "action.failed" and data.get("message"):
            parts.append(str(data["message"])[:200])
    elif kind in ("return.requested", "exchange.requested"):
        if data.get("reason_code"):
            parts.append(label("return_reason", str(data["reason_code"]), lang))
        if data.get("fee") is not None and data.get("fee_payer"):
            payer = {"customer": ("고객 부담", "paid by the customer"), "shop": ("판매자 부담", "paid by us")}
            ko, en = payer.get(str(data["fee_payer"]), ("", ""))
            who = en if lang == "en" else ko
            parts.append(f"{_won(data['fee'], lang)} {who}".strip() if data["fee"] else who)
    elif kind in ("return.refunded", "payment.refunded"):
        if data.get("amount") is not None:
            parts.append(_won(data["amount"], lang))
    elif kind == "return.inspected" and data.get("result") in _INSPECTION:
        ko, en = _INSPECTION[str(data["result"])]
        parts.append(en if lang == "en" else ko)
    elif kind in ("return.pickup_booked", "exchange.reshipped") and data.get("carrier"):
        parts.append(label("carrier", str(data["carrier"]), lang))
    if data.get("return_id") and kind != "return.requested" and kind != "exchange.requested":
        parts.append(str(data["return_id"]))
    return " · ".join(p for p in parts if p)


def as_local_date(value: datetime, zone: tzinfo) -> date:
    """The local calendar date of an instant."""
    return value.astimezone(zone).date()


def source_name(source: Any, lang: str) -> str:
    """Who reported an event ("carrier:cj" reads as the carrier's name; the label table knows how)."""
    return label("source", str(source), lang) if source else ""
