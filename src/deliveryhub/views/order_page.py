"""The operator's order page as one read: the order with its sections (exceptions, notices, tickets),
told against the promised date, in the reader's language, with nothing personal."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from deliveryhub.kernel.labels import label, labels
from deliveryhub.kernel.timefmt import format_date
from deliveryhub.views.story import (
    claim_story,
    compensation_story,
    eta_vs_promise,
    event_detail,
    exception_story,
    lateness,
    lateness_text,
    local_text,
    notice_story,
    parcel_story,
    source_name,
    ticket_story,
)


def order_page_context(
    detail: dict[str, Any], lang: str, zone: tzinfo, today: date, eta_text: str
) -> dict[str, Any]:
    """Everything the order page shows, from `order_detail` plus its sections (`exceptions`,
    `notifications`, `tickets` when those features are wired)."""
    late = lateness(detail, today, zone)
    exceptions = [exception_story(e, lang, zone) for e in detail.get("exceptions") or []]
    eta = detail.get("eta")
    versus = (
        eta_vs_promise(eta, late["promised"], zone, today) if detail.get("stage") != "delivered" else None
    )
    stage = detail.get("stage") or ""
    return {
        "L": labels("order_page", lang),
        "stage": stage,
        "stage_label": label("stage", stage, lang) if stage else "—",
        "late": late,
        "late_text": lateness_text(late, lang),
        "promised": format_date(late["promised"], lang),
        "eta_text": eta_text if eta else "",
        "eta_versus": versus,
        "eta_versus_text": label("order_page", f"eta_{versus}_promise", lang) if versus else "",
        "channel": label("channel", detail["channel"], lang) if detail.get("channel") else "—",
        "created_at": local_text(detail.get("created_at"), zone) or "—",
        "delivered_at": local_text(detail.get("delivered_at"), zone) or "—",
        "region": detail.get("region") or "—",
        "timeline": [_entry(s, "stage", s["stage"], lang, zone) for s in detail.get("timeline") or []],
        "events": [_entry(e, "event_type", e["type"], lang, zone) for e in detail.get("events") or []],
        "parcels": [parcel_story(p, lang, zone) for p in detail.get("parcels") or []],
        "open_exceptions": [e for e in exceptions if e["status"] != "resolved"],
        "resolved_exceptions": [e for e in exceptions if e["status"] == "resolved"],
        "notices": notice_story(detail.get("notifications") or [], lang, zone),
        "has_notices": "notifications" in detail,
        "tickets": ticket_story(detail.get("tickets") or [], lang, zone),
        "has_tickets": "tickets" in detail,
        "claims": claim_story(detail.get("claims") or [], lang, zone),
        "compensations": compensation_story(detail.get("compensations") or [], lang, zone),
    }


def _entry(row: dict[str, Any], kind: str, key: str, lang: str, zone: tzinfo) -> dict[str, Any]:
    """A stage or event row with its name, what it adds in words (after-sales and outside actions), local
    time and source (automatic: not by hand)."""
    manual = bool(row.get("manual")) if "manual" in row else not row.get("automatic")
    return {
        "key": key,
        "label": label(kind, key, lang),
        "detail": event_detail(row, lang) if kind == "event_type" else "",
        "at": local_text(row["occurred_at"], zone),
        "source": source_name(row.get("source"), lang),
        "manual": manual,
    }
