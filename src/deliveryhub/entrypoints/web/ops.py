"""The ops work screens under /ops: the exception inbox, compensation approvals, returns in progress,
quarantined input and notice dead letters. Korean by default, English with ?lang=en, every word from
kernel/labels.py; the pages read through the features' read functions and act through the JSON APIs
(static/ops_work.js), so a role that may not act sees no button and gets the API's 403 anyway."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.deps import get_hub
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import lang_of
from deliveryhub.entrypoints.web.pages import OPS_TABS, render
from deliveryhub.kernel.labels import is_known, label, labels
from deliveryhub.pii.dlp_fields import mask_unknown
from deliveryhub.security.rbac import PII_VIEW, permits
from deliveryhub.views.story import evidence_rows, local_text

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(include_in_schema=False)

EXCEPTION_STATUSES = ("active", "open", "acknowledged", "resolved")
HIDDEN_EVIDENCE = ("notes",)  # shown as the notes list, not as evidence rows


def build_router(hub: Hub) -> APIRouter | None:
    """The ops pages (None without staff log-in; each page says so when its feature is not wired)."""
    return router if getattr(hub, "security", None) is not None else None


def tabs(principal: Any, lang: str) -> list[dict[str, str]]:
    """The ops tabs this principal may open, with their names."""
    suffix = "?lang=en" if lang == "en" else ""
    return [
        {"path": path, "href": path + suffix, "name": label("ops_page", key, lang)}
        for path, key, permission in OPS_TABS
        if principal is not None and permits(principal, permission)
    ]


def who(actor: str | None, lang: str) -> str:
    """An actor or assignee as people read it: `ops:kim@x` → 운영 담당 kim@x."""
    if not actor:
        return label("ops_page", "unassigned", lang)
    role, sep, name = actor.partition(":")
    if sep and is_known("role", role):
        return label("ops_page", "role_user", lang).format(role=label("role", role, lang), name=name)
    if sep and role == "system":
        return label("source", "hub", lang)
    return actor


def money(amount: Any, lang: str) -> str:
    """An amount in won: 3,000원 / KRW 3,000."""
    if amount is None:
        return "—"
    return label("ops_page", "won", lang).format(n=f"{float(amount):,.0f}")


def _zone(hub: Hub) -> ZoneInfo:
    return ZoneInfo(hub.settings.tz)


def _page(request: Request, template: str, auth: PageAuth, **ctx: Any) -> Response:
    lang = lang_of(request)
    words = labels("ops_page", lang)
    return render(
        request,
        template,
        auth,
        P=words,
        ops_tabs=tabs(auth.principal, lang),
        ops_texts=json.dumps(words, ensure_ascii=False),
        q="?lang=en" if lang == "en" else "",
        **ctx,
    )


def order_href(order_id: str | None, lang: str) -> str:
    """The order page's link."""
    return f"/orders/{quote(order_id or '', safe='')}" + ("?lang=en" if lang == "en" else "")


# ------------------------------------------------------------------------------------ exceptions
def exception_row(e: dict[str, Any], lang: str, zone: ZoneInfo) -> dict[str, Any]:
    """One exception in words: type, order, evidence rows, notes, next action, who has it."""
    evidence = dict(e.get("evidence") or {})
    notes = evidence.pop("notes", None) or []
    for key in HIDDEN_EVIDENCE:
        evidence.pop(key, None)
    resolved_by = evidence.pop("resolved_by_event", None)
    resolution = e.get("resolution")
    if e.get("status") == "resolved":
        if resolution == "manual" or not resolution:
            resolution_text = label("ops_page", "resolved_manual", lang)
        else:
            event = label("event_type", str(resolution), lang)
            resolution_text = label("ops_page", "resolved_auto", lang).format(event=event)
    else:
        resolution_text = ""
    evidence, technical = readable_evidence(e["type"], evidence, lang)
    rows = evidence_rows(evidence, lang, zone)
    if resolved_by:
        rows += evidence_rows({"resolved_by_event": resolved_by}, lang, zone)
    return {
        "id": e["id"],
        "type": e["type"],
        "label": label("exception", e["type"], lang),
        "status": e["status"],
        "status_label": label("exception_status", e["status"], lang),
        "order_id": e.get("order_id"),
        "order_href": order_href(e.get("order_id"), lang) if e.get("order_id") else "",
        "carrier": label("carrier", e["carrier"], lang) if e.get("carrier") else "—",
        "assignee": e.get("assignee") or "",
        "assignee_label": who(e.get("assignee"), lang),
        "opened_at": local_text(e.get("opened_at"), zone) or "—",
        "due_at": local_text(e.get("due_at"), zone) or "",
        "evidence": rows,
        "notes": [
            {
                "by": who(n.get("by"), lang),
                "at": local_text(n.get("at"), zone) or "",
                "action": label("ops_page", str(n.get("action")), lang),
                "note": n.get("note") or "",
            }
            for n in notes
            if isinstance(n, dict)
        ],
        "next_action": label("ops_next_action", e["type"], lang),
        "resolution": resolution_text,
        "technical": technical,
    }


def return_word(status: str | None, lang: str) -> str:
    """A return's status or step in words (the after-sales table's, else this page's own)."""
    if not status:
        return "—"
    if is_known("return_status", status):
        return label("return_status", status, lang)
    key = f"return_{status}"
    return label("ops_page", key if is_known("ops_page", key) else "return_other", lang)


def readable_evidence(exc_type: str, evidence: dict[str, Any], lang: str) -> tuple[dict[str, Any], str]:
    """The evidence with the codes other features keep named (outside actions and systems, a return's
    kind, status and reason); the idempotency key goes to the technical detail."""
    ev = dict(evidence)
    key = str(ev.pop("key", "") or "")
    for field, kind in (
        ("action", "outside_action"),
        ("outside_system", "outside_system"),
        ("reason_code", "return_reason"),
    ):
        if isinstance(ev.get(field), str):
            ev[field] = label(kind, ev[field], lang)
    if exc_type == "return_stalled":
        for field in ("status", "waiting_for"):
            if isinstance(ev.get(field), str):
                ev[field] = return_word(ev[field], lang)
    if ev.get("kind") in ("return", "exchange"):
        ev["kind"] = label("ops_page", str(ev["kind"]), lang)
    return ev, key


def _choice(value: str | None, allowed: tuple[str, ...] | list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/ops/exceptions")
async def exceptions_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("exceptions:read"))]
) -> Response:
    """The exception inbox: filter, then acknowledge, assign or resolve one or many."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    if hub.monitors is None:
        return _page(request, "ops/exceptions.html", auth, available=False, rows=[], can_act=False)
    from deliveryhub.monitors import read
    from deliveryhub.monitors.config import EXCEPTION_TYPES

    qp = request.query_params
    status = _choice(qp.get("status"), EXCEPTION_STATUSES) or "active"
    carriers = sorted(labels("carrier", lang))
    flt = read.ExceptionFilter(
        status=status,
        type=_choice(qp.get("type"), EXCEPTION_TYPES),
        carrier=_choice(qp.get("carrier"), carriers),
        assignee=(qp.get("assignee") or "").strip()[:128] or None,
    )
    listed = await run_in_threadpool(read.list_exceptions, hub.db, flt, lang, 200, 0)
    zone = _zone(hub)
    me = f"{auth.principal.role}:{auth.principal.name}" if auth.principal else ""
    return _page(
        request,
        "ops/exceptions.html",
        auth,
        available=True,
        rows=[exception_row(e, lang, zone) for e in listed["items"]],
        total=listed["total"],
        flt=flt,
        types=[(k, label("exception", k, lang), listed["counts"].get(k, 0)) for k in EXCEPTION_TYPES],
        statuses=[
            (s, label("ops_page", "active", lang) if s == "active" else label("exception_status", s, lang))
            for s in EXCEPTION_STATUSES
        ],
        carriers=[(k, label("carrier", k, lang)) for k in carriers],
        me=me,
        can_act=permits(auth.principal, "exceptions:act"),
    )


# --------------------------------------------------------------------------------- compensations
def rule_text(c: dict[str, Any], lang: str) -> str:
    """Why the rules grant a compensation, in words (the rule's own name is the shop's code)."""
    ev = c.get("evidence") or {}
    if ev.get("trigger") == "delivery_delay" or "days_late" in ev:
        words = label("ops_page", "trigger_delay", lang)
        return words.format(days=ev.get("days_late", "?"), min=ev.get("min_days_late", "?"))
    if ev.get("trigger") == "claim" or "claim_kind" in ev:
        kind = label("claim", str(ev.get("claim_kind") or "other"), lang)
        return label("ops_page", "trigger_claim", lang).format(
            kind=kind, amount=money(ev.get("claim_amount"), lang)
        )
    return label("compensation", c.get("kind") or "", lang)


def compensation_row(c: dict[str, Any], lang: str, zone: ZoneInfo) -> dict[str, Any]:
    """One compensation in words."""
    ev = c.get("evidence") or {}
    why = []
    if ev.get("approval_reason") == "pushed_facts":
        why.append(label("ops_page", "approval_pushed", lang))
    elif c.get("status") == "pending_approval":
        why.append(label("ops_page", "approval_amount", lang))
    if ev.get("capped_from") is not None:
        why.append(f"{label('evidence', 'capped_from', lang)} {money(ev['capped_from'], lang)}")
    return {
        "id": c["id"],
        "order_id": c["order_id"],
        "order_href": order_href(c["order_id"], lang),
        "kind": label("compensation", c.get("kind") or "", lang),
        "amount": money(c.get("amount"), lang),
        "rule": rule_text(c, lang),
        "why": " · ".join(why),
        "status": c.get("status"),
        "status_label": label("compensation_status", c.get("status") or "", lang),
        "created_at": local_text(c.get("created_at"), zone) or "—",
        "decided_by": who(c.get("decided_by"), lang)
        if c.get("decided_by")
        else label("ops_page", "decided_auto", lang),
        "decided_at": local_text(c.get("decided_at"), zone) or "",
    }


@router.get("/ops/compensations")
async def compensations_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("exceptions:read"))]
) -> Response:
    """Compensations waiting for approval (approve / reject), and the latest decisions."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    if hub.monitors is None:
        return _page(request, "ops/compensations.html", auth, available=False, pending=[], recent=[])
    from deliveryhub.monitors.read import list_compensations

    def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        pending = list_compensations(hub.db, "pending_approval", None, 200)["items"]
        recent = [
            c
            for c in list_compensations(hub.db, None, None, 50)["items"]
            if c.get("status") != "pending_approval"
        ]
        return pending, recent[:20]

    pending, recent = await run_in_threadpool(run)
    zone = _zone(hub)
    return _page(
        request,
        "ops/compensations.html",
        auth,
        available=True,
        pending=[compensation_row(c, lang, zone) for c in pending],
        recent=[compensation_row(c, lang, zone) for c in recent],
        can_act=permits(auth.principal, "exceptions:act"),
    )


# ---------------------------------------------------------------------------------------- returns
@router.get("/ops/returns")
async def returns_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("orders:read"))]
) -> Response:
    """Returns and exchanges in progress with their stage and step SLA (read from GET /v1/returns)."""
    if auth.response is not None:
        return auth.response
    lang = lang_of(request)
    words = {
        "reason": {
            k[len("reason_") :]: v for k, v in labels("ops_page", lang).items() if k.startswith("reason_")
        },
        "status": {
            k[len("return_") :]: v for k, v in labels("ops_page", lang).items() if k.startswith("return_")
        },
    }
    # Helper A's table of return statuses and reasons, where it names them, wins over the page's own.
    for kind, ours in (("return_status", "status"), ("return_reason", "reason")):
        words[ours].update(labels(kind, lang))
    return _page(
        request,
        "ops/returns.html",
        auth,
        return_words=json.dumps(words, ensure_ascii=False),
        tz=get_hub(request).settings.tz,
    )


# ------------------------------------------------------------------------------------- quarantine
def _sees_pii(principal: Any) -> bool:
    return PII_VIEW.get(getattr(principal, "role", ""), "none") == "full"


def field_text(field: str | None, lang: str) -> str:
    """The rejected field in words: the envelope's own fields by name, one inside `data` by its evidence
    name where the table has it (the path itself stays in the technical detail)."""
    if not field:
        return "—"
    head, _, rest = field.partition(".")
    if is_known("ops_page", f"field_{head}") and not rest:
        return label("ops_page", f"field_{head}", lang)
    if head == "data":
        leaf = rest.split(".")[-1].split("[")[0]
        inner = label("evidence", leaf, lang) if is_known("evidence", leaf) else ""
        return label("ops_page", "field_data", lang) + (f" · {inner}" if inner else "")
    return label("ops_page", "field_other", lang)


def quarantine_rows(hub: Hub, status: str, full: bool, lang: str) -> list[dict[str, Any]]:
    """Quarantined items with their payload (masked unless the role sees personal data)."""
    q = t.quarantine
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(q).where(q.c.status == status).order_by(q.c.id.desc()).limit(200)).all()
    zone = _zone(hub)
    out = []
    for r in rows:
        try:
            payload = hub.ingest.rejects.payload(r.payload_enc)
        except Exception:  # a payload sealed under an older key: list it, show nothing
            payload = None
        shown = payload if full else mask_unknown("", payload)
        out.append(
            {
                "id": r.id,
                "received_at": local_text(r.received_at, zone) or "—",
                "source": label("source", r.source, lang),
                "event_id": r.event_id or "—",
                "problem": label("ingest_error", r.reason_code, lang),
                "field": field_text(r.field, lang),
                "raw_field": r.field or "",
                "message": r.reason,
                "payload": json.dumps(shown, ensure_ascii=False, indent=2, default=str),
                "status": r.status,
            }
        )
    return out


@router.get("/ops/quarantine")
async def quarantine_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("quarantine:manage"))]
) -> Response:
    """Rejected input: why, the payload as the role may see it, fix the JSON and replay."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    status = "replayed" if request.query_params.get("status") == "replayed" else "open"
    full = _sees_pii(auth.principal)
    rows = await run_in_threadpool(quarantine_rows, hub, status, full, lang)
    if full and rows:  # personal data shown unmasked: who saw which items, as for any other PII read
        from deliveryhub.entrypoints.api.security import client_ip

        ids = {"ids": [r["id"] for r in rows]}
        await run_in_threadpool(
            hub.audit.record,
            auth.principal,
            "quarantine.viewed",
            f"quarantine:{status}",
            ids,
            client_ip(request),
        )
    return _page(request, "ops/quarantine.html", auth, rows=rows, status=status, full=full, can_act=True)


# ----------------------------------------------------------------------------------- dead letters
def dead_letter_row(d: dict[str, Any], lang: str, zone: ZoneInfo) -> dict[str, Any]:
    """One dead-lettered notice in words."""
    error = d.get("last_error") or ""
    known = is_known("notice_error", error)
    return {
        "id": d["id"],
        "order_id": d.get("order_id"),
        "order_href": order_href(d.get("order_id"), lang) if d.get("order_id") else "",
        "template": label("template", d.get("template") or "", lang),
        "channel": label("notice_channel", d["channel"], lang) if d.get("channel") else "—",
        "recipient": d.get("recipient") or "—",
        "attempts": d.get("attempts") or 0,
        "error": label("notice_error", error, lang) if known else label("ops_page", "send_failed", lang),
        "technical": "" if known else error,
        "dead_at": local_text(d.get("dead_at"), zone) or "—",
    }


@router.get("/ops/dead-letters")
async def dead_letters_page(
    request: Request, auth: Annotated[PageAuth, Depends(page_require("notifications:read"))]
) -> Response:
    """Notices that exhausted their retries: why, to whom (masked), send again."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    lang = lang_of(request)
    if hub.notifications is None:
        return _page(request, "ops/dead_letters.html", auth, available=False, rows=[], can_act=False)
    from deliveryhub.notifications import admin

    letters = await run_in_threadpool(admin.dead_letters, hub, 200)
    zone = _zone(hub)
    return _page(
        request,
        "ops/dead_letters.html",
        auth,
        available=True,
        rows=[dead_letter_row(d, lang, zone) for d in letters],
        can_act=permits(auth.principal, "notifications:admin"),
    )
