"""The CS desk's tickets: opened from chat hand-offs, e-mail, the API and claim events; the conversation
on a ticket with its SLA clocks (paused while waiting for the customer), assignment, resolution and the
CSAT survey. Every change a KPI needs is also recorded as a canonical ticket.*/survey.* event.

The queue and the one-screen view are in queue.py, the SLA rules in sla.py, claim intake in claims.py
and inbound e-mail in mail.py."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.queries import session_lang, system_note
from deliveryhub.chatbot.settings import PRIORITIES, STATUSES, BusinessHours, CsConfig, SlaPolicy
from deliveryhub.chatbot.sla import add_business_minutes, business_minutes_between
from deliveryhub.pii import dlp
from deliveryhub.pii.cipher import open_, seal
from deliveryhub.service_layer.hub import Core

# BusinessHours, CsConfig and SlaPolicy are also read from here by config.py (they live in settings.py).
__all__ = ["PRIORITIES", "STATUSES", "BusinessHours", "CsConfig", "Desk", "SlaPolicy", "TicketNotFound"]

log = structlog.get_logger(__name__)


class TicketNotFound(LookupError):
    """No ticket with that id."""


class Desk:
    """Ticket operations of the CS desk; every change is also recorded as a canonical ticket.* event."""

    def __init__(self, core: Core, config: CsConfig) -> None:
        self.core = core
        self.config = config
        self.mail_key = core.keyring.master.derive("deliveryhub cs requester v1")

    # ------------------------------------------------------------ helpers
    def now(self) -> datetime:
        """The hub's time."""
        return self.core.clock.now()

    def _policy(self, priority: str) -> SlaPolicy:
        return self.config.policy(priority)

    def voc(self, text: str) -> dict[str, str]:
        """VOC category and sentiment of a text (other/neutral when the classifier is unavailable)."""
        try:
            from deliveryhub.chatbot.voc import classify_voc

            out = classify_voc(text)
            return {
                "category": str(out.get("category") or "other"),
                "sentiment": str(out.get("sentiment") or "neutral"),
            }
        except ImportError:
            return {"category": "other", "sentiment": "neutral"}

    def emit(self, kind: str, ticket: Any, data: dict[str, Any], source: str, key: str) -> None:
        """Record a canonical ticket.*/survey event for KPIs (only tickets tied to an order: the event
        contract requires an order_id)."""
        if not ticket.order_id:
            return
        self.core.ingest.ingest(
            [
                {
                    "event_id": f"cs:{ticket.canonical_id}:{key}",
                    "source": source,
                    "type": kind,
                    "occurred_at": self.now().isoformat(),
                    "order_id": ticket.order_id,
                    "data": {"ticket_id": ticket.canonical_id, **data},
                }
            ]
        )

    def get(self, ticket_id: int, conn: Connection | None = None) -> Any:
        """The ticket row; raises TicketNotFound."""
        if conn is None:
            with self.core.db.read() as c:
                return self.get(ticket_id, c)
        row = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == ticket_id)).first()
        if row is None:
            raise TicketNotFound(ticket_id)
        return row

    # ------------------------------------------------------------ creation
    def insert_ticket(
        self,
        conn: Connection,
        *,
        channel: str,
        subject: str,
        text: str,
        order_id: str | None = None,
        customer_id: str | None = None,
        session_id: str | None = None,
        priority: str = "normal",
        reason: str | None = None,
        summary: str | None = None,
        source_ref: str | None = None,
        verified: bool = False,
        requester: str | None = None,
        canonical_id: str | None = None,
        author_kind: str = "customer",
        transcript: Sequence[tuple[datetime, str, str]] = (),
        at: datetime | None = None,
    ) -> int:
        """Write a ticket and its first messages inside `conn` (no events; see `announce`); `at`: when it was
        opened, for a ticket another system reports (its SLA clocks start then), else now."""
        now = min(at, self.now()) if at is not None else self.now()
        if priority not in PRIORITIES:
            priority = "normal"
        if customer_id is None and order_id:
            customer_id = conn.execute(
                sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == order_id)
            ).scalar()
        pol = self._policy(priority)
        bh = self.config.business_hours
        voc = self.voc(text or subject)
        values: dict[str, Any] = {
            "created_at": now,
            "updated_at": now,
            "channel": channel,
            "subject": (dlp.mask_text(subject) or "")[:500],
            "status": "open",
            "priority": priority,
            "priority_rank": PRIORITIES[priority],
            "session_id": session_id,
            "order_id": order_id,
            "customer_id": customer_id,
            "customer_verified": verified,
            "reason": reason,
            "summary": (dlp.mask_text(summary) or None) if summary else None,
            "voc_category": voc["category"],
            "voc_sentiment": voc["sentiment"],
            "source_ref": source_ref,
            "canonical_id": canonical_id or f"tk-{uuid.uuid4().hex[:16]}",
            "last_customer_at": now,
            "awaiting_reply_since": now,
            "first_due": add_business_minutes(now, pol.first_response, bh),
            "resolve_due": add_business_minutes(now, pol.resolution, bh),
            "sla_missed": [],
        }
        if requester:
            values["requester_enc"] = seal(self.mail_key, requester.encode(), b"requester")
            values["requester_masked"] = dlp.mask_text(requester)
        key = conn.execute(ct.tickets.insert().values(**values)).inserted_primary_key
        assert key is not None  # an autoincrement insert always returns its key
        tid = int(key[0])
        rows = [
            {
                "ticket_id": tid,
                "at": at,
                "author_kind": kind,
                "author": None,
                "text": (dlp.mask_text(body) or "")[:20000],
            }
            for at, kind, body in transcript
        ]
        if text:
            rows.append(
                {
                    "ticket_id": tid,
                    "at": now,
                    "author_kind": author_kind,
                    "author": None,
                    "text": (dlp.mask_text(text) or "")[:20000],
                }
            )
        if rows:
            conn.execute(ct.ticket_messages.insert(), rows)
        return tid

    def announce(self, ticket_id: int, source: str = "crm") -> None:
        """Record ticket.created for a ticket written earlier (idempotent)."""
        row = self.get(ticket_id)
        text = ""
        with self.core.db.read() as conn:
            first = conn.execute(
                sa.select(ct.ticket_messages.c.text)
                .where(ct.ticket_messages.c.ticket_id == ticket_id)
                .order_by(ct.ticket_messages.c.id.desc())
                .limit(1)
            ).scalar()
            text = str(first or "")
        self.emit(
            "ticket.created",
            row,
            {
                "channel": row.channel,
                "subject": row.subject,
                "text": text[:20000],
                "category": row.voc_category,
            },
            source,
            "created",
        )

    def create_ticket(self, *, source: str = "crm", **kwargs: Any) -> int:
        """Create a ticket (own transaction) and record ticket.created."""
        with self.core.db.write() as conn:
            tid = self.insert_ticket(conn, **kwargs)
        self.announce(tid, source)
        return tid

    # ------------------------------------------------------------ conversation on a ticket
    def customer_message(self, ticket_id: int, text: str) -> None:
        """A customer wrote on the ticket: the clock resumes (if paused) and a reply is due."""
        now = self.now()
        bh = self.config.business_hours
        with self.core.db.write() as conn:
            row = self.get(ticket_id, conn)
            values: dict[str, Any] = {"updated_at": now, "last_customer_at": now}
            if row.status == "pending" and row.paused_at is not None:
                # The wait for the customer does not count against the resolution target.
                paused = business_minutes_between(row.paused_at, now, bh)
                if row.resolve_due is not None:
                    values["resolve_due"] = add_business_minutes(row.resolve_due, paused, bh)
                values["paused_at"] = None
            if row.status != "open":
                values["status"] = "open"
                if row.status == "solved":
                    values["resolved_at"] = None
                    values["resolve_due"] = add_business_minutes(
                        now, self._policy(row.priority).resolution, bh
                    )
            if row.awaiting_reply_since is None:
                values["awaiting_reply_since"] = now
                if row.first_response_at is not None:
                    values["next_due"] = add_business_minutes(
                        now, self._policy(row.priority).next_response, bh
                    )
            conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(**values))
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=ticket_id,
                    at=now,
                    author_kind="customer",
                    text=(dlp.mask_text(text) or "")[:20000],
                )
            )

    def reply(
        self,
        ticket_id: int,
        author: str,
        text: str,
        *,
        by: str = "agent",
        wait_for_customer: bool = False,
        note: bool = False,
    ) -> dict[str, Any]:
        """An agent (or the bot) answers; a chat ticket's answer appears in the customer's widget."""
        if not text.strip():
            raise ValueError("text: required")
        now = self.now()
        masked = (dlp.mask_text(text) or "")[:20000]
        with self.core.db.write() as conn:
            row = self.get(ticket_id, conn)
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=ticket_id,
                    at=now,
                    author_kind="note" if note else by,
                    author=author,
                    text=masked,
                )
            )
            if note:
                conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(updated_at=now))
                return {"ticket_id": ticket_id, "note": True}
            values: dict[str, Any] = {
                "updated_at": now,
                "last_agent_at": now,
                "awaiting_reply_since": None,
                "next_due": None,
            }
            if row.first_response_at is None:
                values["first_response_at"] = now
            if by == "agent" and not row.assignee:
                values["assignee"] = author
            if wait_for_customer:
                values["status"], values["paused_at"] = "pending", now
            elif row.status == "solved":
                values["status"] = "open"
            conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(**values))
            if row.session_id:
                conn.execute(
                    ct.chat_messages.insert().values(
                        session_id=row.session_id,
                        at=now,
                        role="agent" if by == "agent" else "bot",
                        text=masked,
                    )
                )
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(ct.ticket_messages)
                .where(
                    ct.ticket_messages.c.ticket_id == ticket_id,
                    ct.ticket_messages.c.author_kind.in_(("agent", "bot")),
                )
            ).scalar()
        self.emit(
            "ticket.replied",
            row,
            {"by": by, "text": masked},
            "chatbot" if by == "bot" else "crm",
            f"reply{count}",
        )
        return {"ticket_id": ticket_id, "first_response": row.first_response_at is None}

    def resolve(self, ticket_id: int, author: str) -> dict[str, Any]:
        """Close the ticket, stop its clocks, send the CSAT survey (in the chat, or as a link)."""
        now = self.now()
        token = secrets.token_urlsafe(24)
        with self.core.db.write() as conn:
            row = self.get(ticket_id, conn)
            if row.status == "solved":
                return {"ticket_id": ticket_id, "status": "solved", "csat_token": None}
            conn.execute(
                ct.tickets.update()
                .where(ct.tickets.c.id == ticket_id)
                .values(
                    status="solved",
                    resolved_at=now,
                    updated_at=now,
                    awaiting_reply_since=None,
                    next_due=None,
                    paused_at=None,
                )
            )
            system_note(conn, ticket_id, now, author, "resolved")
            conn.execute(ct.csat_surveys.insert().values(token=token, ticket_id=ticket_id, sent_at=now))
            if row.session_id:
                text = (
                    "Your inquiry is resolved. How satisfied were you with our help? Please rate us 1-5."
                    if session_lang(conn, row.session_id) == "en"
                    else "문의가 해결되었어요. 상담은 만족스러우셨나요? "
                    "1점부터 5점까지 평가해 주시면 큰 도움이 돼요."
                )
                conn.execute(
                    ct.chat_messages.insert().values(
                        session_id=row.session_id, at=now, role="system", text=f"{text} [csat:{token}]"
                    )
                )
                conn.execute(
                    ct.chat_sessions.update()
                    .where(ct.chat_sessions.c.session_id == row.session_id)
                    .values(state="closed", updated_at=now, pending={"need": "csat", "token": token})
                )
        self.emit("ticket.resolved", row, {}, "crm", "resolved")
        return {"ticket_id": ticket_id, "status": "solved", "csat_token": token}

    def assign(self, ticket_id: int, assignee: str | None, priority: str | None = None) -> None:
        """Assign (or unassign) a ticket and optionally change its priority."""
        if priority is not None and priority not in PRIORITIES:
            raise ValueError(f"priority: one of {', '.join(PRIORITIES)}")
        now = self.now()
        with self.core.db.write() as conn:
            self.get(ticket_id, conn)
            values: dict[str, Any] = {"assignee": assignee or None, "updated_at": now}
            if priority:
                values.update(priority=priority, priority_rank=PRIORITIES[priority])
            conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(**values))
            system_note(
                conn, ticket_id, now, assignee, f"assigned to {assignee}" if assignee else "unassigned"
            )

    def handback(self, ticket_id: int, author: str) -> None:
        """Give the conversation back to the bot (the only way the bot speaks again after a hand-off)."""
        now = self.now()
        with self.core.db.write() as conn:
            row = self.get(ticket_id, conn)
            if not row.session_id:
                raise ValueError("ticket: not a chat conversation")
            text = (
                "The assistant will help you again from here. Just type your question."
                if session_lang(conn, row.session_id) == "en"
                else "이제부터는 다시 챗봇이 도와드릴게요. 궁금한 점을 편하게 말씀해 주세요."
            )
            conn.execute(
                ct.chat_sessions.update()
                .where(ct.chat_sessions.c.session_id == row.session_id)
                .values(state="bot", updated_at=now, pending=None, low_conf_streak=0, clarified=False)
            )
            conn.execute(
                ct.chat_messages.insert().values(session_id=row.session_id, at=now, role="bot", text=text)
            )
            system_note(conn, ticket_id, now, author, "handed back to the bot")

    def answer_csat(self, token: str, score: int, comment: str | None = None) -> dict[str, Any]:
        """Store a CSAT answer (1-5) and record survey.answered."""
        if not 1 <= score <= 5:
            raise ValueError("score: 1-5")
        now = self.now()
        with self.core.db.write() as conn:
            survey = conn.execute(sa.select(ct.csat_surveys).where(ct.csat_surveys.c.token == token)).first()
            if survey is None:
                raise TicketNotFound(token)
            if survey.answered_at is not None:
                return {"ticket_id": survey.ticket_id, "score": survey.score, "already": True}
            conn.execute(
                ct.csat_surveys.update()
                .where(ct.csat_surveys.c.token == token)
                .values(
                    answered_at=now,
                    score=score,
                    comment=(dlp.mask_text(comment) or None) if comment else None,
                )
            )
            row = self.get(survey.ticket_id, conn)
        data: dict[str, Any] = {"csat": score}
        if comment:
            data["comment"] = comment[:2000]
        self.emit("survey.answered", row, data, "crm", "csat")
        return {"ticket_id": survey.ticket_id, "score": score, "already": False}

    def requester(self, row: Any) -> str | None:
        """The e-mail address of an e-mail requester (for privileged views and replies)."""
        if row.requester_enc is None:
            return None
        return open_(self.mail_key, row.requester_enc, b"requester").decode()
