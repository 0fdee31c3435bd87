"""A CS lead's VOC relabels (issue 18 item 5): correct a ticket's VOC category in the desk, and feed the
corrections to the next training round of the VOC classifier.

`relabel_ticket` stores the correction in `voc_relabels` (with the DLP-masked customer text it was read
from) and puts the new category on the ticket -- and on its chat conversation -- so the desk, the CS
metrics and the KPI report count it. `export_relabels` writes the newest relabel per ticket as training
rows (``{"text", "category"}`` JSON lines); ``voc.load_models`` trains on that file next to the shipped
corpus (``chatbot/data/voc_relabels.jsonl`` by default, or ``$DELIVERYHUB_VOC_RELABELS``).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import TicketNotFound
from deliveryhub.chatbot.voc import CATEGORIES, RELABELS_ENV, RELABELS_FILE
from deliveryhub.kernel.timefmt import iso

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

TEXT_LIMIT = 4000


def check_category(category: object) -> str:
    """The category if it is one of CATEGORIES; ValueError naming the field otherwise."""
    if not isinstance(category, str) or category not in CATEGORIES:
        raise ValueError(f"category: one of {', '.join(CATEGORIES)}")
    return category


def ticket_text(conn: Connection, ticket: Any) -> str:
    """What the customer wrote on a ticket (DLP-masked, oldest first); the subject when nothing."""
    tm = ct.ticket_messages
    parts = conn.execute(
        sa.select(tm.c.text)
        .where(tm.c.ticket_id == ticket.id, tm.c.author_kind == "customer")
        .order_by(tm.c.id)
    ).scalars()
    text = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    return (text or str(ticket.subject or ""))[:TEXT_LIMIT]


def relabel_ticket(
    conn: Connection, ticket_id: int, category: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Set a ticket's VOC category (and its chat's) and record it; raises TicketNotFound or ValueError."""
    category = check_category(category)
    ticket = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == ticket_id)).first()
    if ticket is None:
        raise TicketNotFound(ticket_id)
    previous = ticket.voc_category
    conn.execute(
        ct.voc_relabels.insert().values(
            ticket_id=ticket_id,
            at=now,
            actor=actor[:128],
            from_category=previous,
            to_category=category,
            text=ticket_text(conn, ticket),
        )
    )
    conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(voc_category=category))
    if ticket.session_id:
        conn.execute(
            ct.chat_sessions.update()
            .where(ct.chat_sessions.c.session_id == ticket.session_id)
            .values(voc_category=category)
        )
    return {"id": ticket_id, "voc_category": category, "previous": previous, "relabelled_at": iso(now)}


def history(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's relabels, newest first."""
    vr = ct.voc_relabels
    rows = conn.execute(
        sa.select(vr.c.at, vr.c.actor, vr.c.from_category, vr.c.to_category)
        .where(vr.c.ticket_id == ticket_id)
        .order_by(vr.c.id.desc())
    ).all()
    return [{"at": iso(r.at), "by": r.actor, "from": r.from_category, "to": r.to_category} for r in rows]


def training_rows(conn: Connection) -> list[dict[str, str]]:
    """The newest relabel of every ticket as a training row ``{"text", "category"}`` (oldest ticket first)."""
    vr = ct.voc_relabels
    newest = sa.select(sa.func.max(vr.c.id)).group_by(vr.c.ticket_id).scalar_subquery()
    rows = conn.execute(
        sa.select(vr.c.text, vr.c.to_category).where(vr.c.id.in_(newest)).order_by(vr.c.ticket_id)
    ).all()
    return [
        {"text": r.text, "category": r.to_category} for r in rows if r.text and r.to_category in CATEGORIES
    ]


def default_export_path() -> Path:
    """Where the next training round looks: ``$DELIVERYHUB_VOC_RELABELS`` or the shipped data file."""
    env = os.environ.get(RELABELS_ENV)
    return Path(env) if env else RELABELS_FILE


def export_relabels(db: Any, out: Path | None = None) -> str:
    """Write the relabels as JSON lines to `out` (default: `default_export_path()`); a summary line."""
    path = out or default_export_path()
    with db.read() as conn:
        rows = training_rows(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return f"{len(rows)} VOC relabels -> {path}"


def emit_recategorized(core: Core, ticket: Any, category: str, now: datetime) -> None:
    """The canonical `ticket.recategorized` event of a relabel (the KPIs count the newest category)."""
    core.ingest.ingest(
        [
            {
                "event_id": f"cs:{ticket.canonical_id}:voc:{int(now.timestamp() * 1000)}",
                "source": "crm",
                "type": "ticket.recategorized",
                "occurred_at": now.isoformat(),
                "order_id": ticket.order_id,
                "data": {"ticket_id": ticket.canonical_id, "category": category},
            }
        ]
    )
