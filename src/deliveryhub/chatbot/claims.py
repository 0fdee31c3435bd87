"""Claims and tickets from other systems become desk tickets (the cs_desk consumer), and the desk says
which orders it still holds a claim or conversation open on (the ClaimHolds port, read by retention)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import Desk
from deliveryhub.chatbot.queries import system_note
from deliveryhub.kernel.labels import label
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.service_layer.messaging import Consumer, Message

TOPICS = ("claim.opened", "ticket.created", "ticket.replied", "ticket.resolved", "survey.answered")
# Claim kinds a person must look at first.
URGENT_KINDS = frozenset({"damage", "missing", "wrong_item"})


class ClaimIntake:
    """The cs_desk consumer: claim.opened joins the order's open ticket or opens one; a ticket.created
    from another system (not the desk's own cs:* events) opens a desk ticket."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Apply a batch inside the consumer's transaction."""
        for m in messages:
            if m.topic == "claim.opened":
                self._claim(conn, m.payload)
            elif m.topic == "ticket.created" and not str(m.payload.get("event_id", "")).startswith("cs:"):
                self._ticket(conn, m.payload)
            elif not str(m.payload.get("event_id", "")).startswith("cs:"):
                self._progress(conn, m.topic, m.payload)

    def _claim(self, conn: Connection, p: dict[str, Any]) -> None:
        src, eid = p.get("source", ""), p.get("event_id", "")
        data = p.get("data") or {}
        kind = str(data.get("kind") or "other")
        order_id = p.get("order_id")
        open_ticket = (
            conn.execute(
                sa.select(ct.tickets.c.id)
                .where(ct.tickets.c.order_id == order_id, ct.tickets.c.status != "solved")
                .order_by(ct.tickets.c.id.desc())
                .limit(1)
            ).scalar()
            if order_id
            else None
        )
        amount = data.get("amount")
        note = (  # an agent reads it: names from the label table, not codes
            f"클레임 접수: {label('claim', kind)}"
            + (f", 금액 {amount:,}원" if isinstance(amount, int | float) and amount else "")
            + f" (출처: {label('source', src)})"
        )
        if open_ticket:
            system_note(conn, open_ticket, self.desk.now(), src, note)
            return
        ref = f"claim:{src}:{eid}"
        if conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).first():
            return
        self.desk.insert_ticket(
            conn,
            channel="claim",
            subject=f"클레임 접수: {label('claim', kind)} ({order_id})",
            text=str(data.get("note") or note),
            order_id=order_id,
            source_ref=ref,
            priority="high" if kind in URGENT_KINDS else "normal",
            reason=f"claim_{kind}",
            author_kind="system",
        )

    def _ticket(self, conn: Connection, p: dict[str, Any]) -> None:
        src, eid = p.get("source", ""), p.get("event_id", "")
        data = p.get("data") or {}
        ref = f"event:{src}:{eid}"
        if conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).first():
            return
        self.desk.insert_ticket(
            conn,
            channel=str(data.get("channel") or "api")[:16],
            subject=str(data.get("subject") or data.get("text") or "문의")[:200],
            text=str(data.get("text") or ""),
            order_id=p.get("order_id"),
            source_ref=ref,
            canonical_id=str(data.get("ticket_id") or f"tk-{uuid.uuid4().hex[:16]}")[:128],
            at=parse_datetime(p.get("occurred_at")),
        )

    def _progress(self, conn: Connection, topic: str, p: dict[str, Any]) -> None:
        """Another system answered or resolved a ticket it reported: its desk ticket follows, at that time
        (a back-filled or imported ticket is not left open and due today)."""
        data = p.get("data") or {}
        tid, at = data.get("ticket_id"), parse_datetime(p.get("occurred_at"))
        if not tid or at is None:
            return
        tk = ct.tickets
        row = conn.execute(
            sa.select(tk.c.id, tk.c.status, tk.c.first_response_at).where(
                tk.c.canonical_id == str(tid)[:128],
                tk.c.source_ref.like(f"event:{p.get('source', '')}:%"),
            )
        ).first()
        if row is None:
            return
        if topic == "survey.answered":
            if isinstance(data.get("csat"), int):  # that system's CSAT survey of the ticket
                token = (
                    "ext-"
                    + hashlib.sha256(f"{p.get('source')}:{p.get('event_id')}".encode()).hexdigest()[:40]
                )
                insert_or_ignore(
                    conn,
                    ct.csat_surveys,
                    [
                        {
                            "token": token,
                            "ticket_id": row.id,
                            "sent_at": at,
                            "answered_at": at,
                            "score": data["csat"],
                        }
                    ],
                    ["token"],
                )
            return
        if row.status == "solved":
            return
        if topic == "ticket.replied":
            values: dict[str, Any] = {"awaiting_reply_since": None, "next_due": None, "updated_at": at}
            if row.first_response_at is None:
                values["first_response_at"] = at
            conn.execute(tk.update().where(tk.c.id == row.id).values(**values))
        else:
            conn.execute(
                tk.update()
                .where(tk.c.id == row.id)
                .values(
                    status="solved", resolved_at=at, updated_at=at, awaiting_reply_since=None, next_due=None
                )
            )

    def after_commit(self, messages: Sequence[Message]) -> None:
        """After commit: record ticket.created for tickets opened from claims."""
        for m in messages:
            if m.topic != "claim.opened":
                continue
            ref = f"claim:{m.payload.get('source', '')}:{m.payload.get('event_id', '')}"
            with self.desk.core.db.read() as conn:
                tid = conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).scalar()
            if tid:
                self.desk.announce(int(tid), "crm")

    def consumer(self) -> Consumer:
        """The cs_desk consumer."""
        return Consumer("cs_desk", self.handle, topics=TOPICS, after_commit=self.after_commit)


class OpenClaims:
    """ClaimHolds provider: orders with a desk ticket (claim, complaint, conversation) not yet solved."""

    def orders_with_open_claims(self, conn: Connection, order_ids: Sequence[str]) -> set[str]:
        """The orders among `order_ids` the desk still has an unsolved ticket on."""
        found: set[str] = set()
        ids = list(dict.fromkeys(order_ids))
        for start in range(0, len(ids), 500):
            found.update(
                conn.execute(
                    sa.select(ct.tickets.c.order_id)
                    .where(
                        ct.tickets.c.order_id.in_(ids[start : start + 500]), ct.tickets.c.status != "solved"
                    )
                    .distinct()
                ).scalars()
            )
        return found
