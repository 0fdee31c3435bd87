"""The CS desk: tickets from chat hand-offs, e-mail, the API and claim events; queue, assignment, SLA
clocks with time-based rules, CSAT after resolution, and the one-screen customer view."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.pii import dlp
from deliveryhub.pii.cipher import open_, seal
from deliveryhub.service_layer.messaging import Consumer, Message
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

PRIORITIES = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
STATUSES = ("open", "pending", "solved")


@dataclass
class SlaPolicy:
    """Targets in (business) minutes for one priority."""

    first_response: float
    next_response: float
    resolution: float


@dataclass
class BusinessHours:
    """Working hours in a zone; SLA clocks only run inside them."""

    tz: str = "Asia/Seoul"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: time = time(9, 0)
    end: time = time(18, 0)


@dataclass
class CsConfig:
    """Tunables of the chatbot and the desk (tests and deployments change them on hub.services)."""

    sla: dict[str, SlaPolicy] = field(
        default_factory=lambda: {
            "urgent": SlaPolicy(5, 30, 4 * 60),
            "high": SlaPolicy(10, 60, 8 * 60),
            "normal": SlaPolicy(10, 120, 24 * 60),
            "low": SlaPolicy(60, 8 * 60, 72 * 60),
        }
    )
    business_hours: BusinessHours | None = None  # None = the clock runs around the clock
    # What a breach does: "alert" (ops alert, once), "reassign" (back to the queue, priority up), "both".
    on_breach: dict[str, str] = field(
        default_factory=lambda: {"first_response": "alert", "next_response": "alert", "resolution": "alert"}
    )
    confidence_threshold: float = 0.45
    auto_approval_amount: float = 50_000.0
    vip_min_spend: float = 1_000_000.0
    repeat_contact_days: int = 7
    max_verify_failures: int = 3
    llm_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout: float = 3.0
    session_messages_per_minute: int = 30
    ip_messages_per_minute: int = 120
    ip_sessions_per_minute: int = 30


# ---------------------------------------------------------------- business-hours arithmetic
def add_business_minutes(start: datetime, minutes: float, bh: BusinessHours | None) -> datetime:
    """`start` plus `minutes` of working time."""
    if bh is None:
        return start + timedelta(minutes=minutes)
    tz = ZoneInfo(bh.tz)
    cur = start.astimezone(tz)
    left = timedelta(minutes=minutes)
    for _ in range(800):  # bounded: at most ~2 years of calendar days
        day_start = cur.replace(hour=bh.start.hour, minute=bh.start.minute, second=0, microsecond=0)
        day_end = cur.replace(hour=bh.end.hour, minute=bh.end.minute, second=0, microsecond=0)
        if cur.weekday() in bh.days and cur < day_end:
            cur = max(cur, day_start)
            room = day_end - cur
            if left <= room:
                return (cur + left).astimezone(start.tzinfo)
            left -= room
        cur = (cur + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (cur + left).astimezone(start.tzinfo)


def business_minutes_between(a: datetime, b: datetime, bh: BusinessHours | None) -> float:
    """Working minutes from `a` to `b` (0 when b <= a)."""
    if b <= a:
        return 0.0
    if bh is None:
        return (b - a).total_seconds() / 60
    tz = ZoneInfo(bh.tz)
    cur, end = a.astimezone(tz), b.astimezone(tz)
    total = timedelta()
    while cur < end:
        day_start = cur.replace(hour=bh.start.hour, minute=bh.start.minute, second=0, microsecond=0)
        day_end = cur.replace(hour=bh.end.hour, minute=bh.end.minute, second=0, microsecond=0)
        if cur.weekday() in bh.days:
            lo, hi = max(cur, day_start), min(end, day_end)
            if hi > lo:
                total += hi - lo
        cur = (cur + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return total.total_seconds() / 60


def _insert_ignore(conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert one row unless its key exists; True when this call inserted it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(**row).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**row).on_conflict_do_nothing()
    return bool(conn.execute(stmt).rowcount)


class TicketNotFound(LookupError):
    """No ticket with that id."""


class Desk:
    """Ticket operations of the CS desk; every change is also recorded as a canonical ticket.* event."""

    def __init__(self, hub: Any, config: CsConfig) -> None:
        self.hub = hub
        self.config = config
        self.mail_key = hub.keyring.master.derive("deliveryhub cs requester v1")

    # ------------------------------------------------------------ helpers
    def now(self) -> datetime:
        """The hub's time."""
        return self.hub.clock.now()  # type: ignore[no-any-return]

    def _policy(self, priority: str) -> SlaPolicy:
        return self.config.sla.get(priority) or self.config.sla["normal"]

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
        self.hub.ingest.ingest(
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
            with self.hub.db.read() as c:
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
    ) -> int:
        """Write a ticket and its first messages inside `conn` (no events; see `announce`)."""
        now = self.now()
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
        with self.hub.db.read() as conn:
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
        with self.hub.db.write() as conn:
            tid = self.insert_ticket(conn, **kwargs)
        self.announce(tid, source)
        return tid

    # ------------------------------------------------------------ conversation on a ticket
    def customer_message(self, ticket_id: int, text: str) -> None:
        """A customer wrote on the ticket: the clock resumes (if paused) and a reply is due."""
        now = self.now()
        bh = self.config.business_hours
        with self.hub.db.write() as conn:
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
        with self.hub.db.write() as conn:
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
        with self.hub.db.write() as conn:
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
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=ticket_id, at=now, author_kind="system", author=author, text="resolved"
                )
            )
            conn.execute(ct.csat_surveys.insert().values(token=token, ticket_id=ticket_id, sent_at=now))
            if row.session_id:
                lang = (
                    conn.execute(
                        sa.select(ct.chat_sessions.c.lang).where(
                            ct.chat_sessions.c.session_id == row.session_id
                        )
                    ).scalar()
                    or "ko"
                )
                text = (
                    "Your inquiry is resolved. How satisfied were you with our help? Please rate us 1-5."
                    if lang == "en"
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
        with self.hub.db.write() as conn:
            self.get(ticket_id, conn)
            values: dict[str, Any] = {"assignee": assignee or None, "updated_at": now}
            if priority:
                values.update(priority=priority, priority_rank=PRIORITIES[priority])
            conn.execute(ct.tickets.update().where(ct.tickets.c.id == ticket_id).values(**values))
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=ticket_id,
                    at=now,
                    author_kind="system",
                    author=assignee,
                    text=f"assigned to {assignee}" if assignee else "unassigned",
                )
            )

    def handback(self, ticket_id: int, author: str) -> None:
        """Give the conversation back to the bot (the only way the bot speaks again after a hand-off)."""
        now = self.now()
        with self.hub.db.write() as conn:
            row = self.get(ticket_id, conn)
            if not row.session_id:
                raise ValueError("ticket: not a chat conversation")
            lang = (
                conn.execute(
                    sa.select(ct.chat_sessions.c.lang).where(ct.chat_sessions.c.session_id == row.session_id)
                ).scalar()
                or "ko"
            )
            text = (
                "The assistant will help you again from here. Just type your question."
                if lang == "en"
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
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=ticket_id,
                    at=now,
                    author_kind="system",
                    author=author,
                    text="handed back to the bot",
                )
            )

    def answer_csat(self, token: str, score: int, comment: str | None = None) -> dict[str, Any]:
        """Store a CSAT answer (1-5) and record survey.answered."""
        if not 1 <= score <= 5:
            raise ValueError("score: 1-5")
        now = self.now()
        with self.hub.db.write() as conn:
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

    # ------------------------------------------------------------ SLA
    def run_sla(self, now: datetime) -> list[dict[str, Any]]:
        """Time-based rules: every breached SLA target is acted on once (alert and/or reassign)."""
        tk = ct.tickets
        with self.hub.db.read() as conn:
            rows = conn.execute(
                sa.select(tk).where(
                    tk.c.status == "open",
                    sa.or_(
                        sa.and_(tk.c.first_response_at.is_(None), tk.c.first_due < now),
                        sa.and_(tk.c.awaiting_reply_since.is_not(None), tk.c.next_due < now),
                        tk.c.resolve_due < now,
                    ),
                )
            ).all()
        breaches: list[tuple[Any, str, str]] = []
        for r in rows:
            if r.first_response_at is None and r.first_due and r.first_due < now:
                breaches.append((r, "first_response", "first_response"))
            elif r.awaiting_reply_since is not None and r.next_due and r.next_due < now:
                breaches.append((r, "next_response", f"next_response:{r.awaiting_reply_since.isoformat()}"))
            if r.resolve_due and r.resolve_due < now:
                breaches.append((r, "resolution", "resolution"))
        fired: list[dict[str, Any]] = []
        for r, metric, key in breaches:
            action = self.config.on_breach.get(metric, "alert")
            with self.hub.db.write() as conn:
                if not _insert_ignore(
                    conn,
                    ct.ticket_sla_alerts,
                    {"ticket_id": r.id, "metric": key[:64], "at": now, "action": action},
                ):
                    continue  # already acted on (maybe by another worker)
                missed = list(r.sla_missed or []) + [metric]
                values: dict[str, Any] = {"sla_missed": missed, "updated_at": now}
                if action in ("reassign", "both"):
                    rank = max(0, r.priority_rank - 1)
                    values.update(
                        assignee=None,
                        priority_rank=rank,
                        priority=next(p for p, v in PRIORITIES.items() if v == rank),
                    )
                conn.execute(ct.tickets.update().where(ct.tickets.c.id == r.id).values(**values))
                conn.execute(
                    ct.ticket_messages.insert().values(
                        ticket_id=r.id,
                        at=now,
                        author_kind="system",
                        author="sla",
                        text=f"SLA {metric} missed; action: {action}",
                    )
                )
            if action in ("alert", "both") and "notify_ops" in self.hub.services:
                due = {
                    "first_response": r.first_due,
                    "next_response": r.next_due,
                    "resolution": r.resolve_due,
                }[metric]
                label = {"first_response": "1차 응답", "next_response": "추가 응답", "resolution": "해결"}[
                    metric
                ]
                self.hub.services["notify_ops"](
                    "cs_sla",
                    f"cs_sla:{r.id}:{key}",
                    f"[CS SLA] 티켓 #{r.id} {label} 기한 초과 / ticket #{r.id} {metric} overdue",
                    f"티켓 #{r.id} ({r.priority}) '{r.subject}' 의 {label} "
                    f"기한({due.isoformat() if due else '-'})이 "
                    f"지났어요. 담당자: {r.assignee or '미배정'}.",
                    {
                        "ticket_id": r.id,
                        "metric": metric,
                        "priority": r.priority,
                        "due": due.isoformat() if due else None,
                        "assignee": r.assignee,
                    },
                )
            fired.append({"ticket_id": r.id, "metric": metric, "action": action})
        if fired:
            log.info("cs_sla_breaches", count=len(fired))
        return fired

    # ------------------------------------------------------------ inbound e-mail
    def ticket_from_email(self, sender: str, subject: str, body: str, message_id: str | None) -> int:
        """A received e-mail becomes a ticket; a reply quoting [#id] in the subject joins that ticket."""
        m = re.search(r"\[#(\d+)\]", subject or "")
        if m:
            try:
                self.customer_message(int(m.group(1)), body)
                return int(m.group(1))
            except TicketNotFound:
                pass
        order_id = _order_id_in(f"{subject}\n{body}")
        with self.hub.db.read() as conn:
            if (
                order_id
                and conn.execute(
                    sa.select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)
                ).first()
                is None
            ):
                order_id = None
        ref = f"mail:{message_id}" if message_id else None
        if ref:
            with self.hub.db.read() as conn:
                existing = conn.execute(
                    sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)
                ).scalar()
            if existing:
                return int(existing)
        return self.create_ticket(
            channel="email",
            subject=subject or "(제목 없음)",
            text=body,
            order_id=order_id,
            source_ref=ref,
            requester=sender,
            priority="normal",
        )

    # ------------------------------------------------------------ consumer
    def handle_events(self, conn: Connection, messages: Sequence[Message]) -> None:
        """cs_desk consumer: claims and tickets from other systems become desk tickets (inside `conn`)."""
        for m in messages:
            p = m.payload
            src, eid = p.get("source", ""), p.get("event_id", "")
            data = p.get("data") or {}
            if m.topic == "claim.opened":
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
                note = (
                    f"claim opened: {kind}"
                    + (f", amount {data['amount']}" if data.get("amount") else "")
                    + f" (source {src})"
                )
                if open_ticket:
                    conn.execute(
                        ct.ticket_messages.insert().values(
                            ticket_id=open_ticket, at=self.now(), author_kind="system", author=src, text=note
                        )
                    )
                    continue
                ref = f"claim:{src}:{eid}"
                if conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).first():
                    continue
                label = CLAIM_LABELS.get(kind, kind)
                self.insert_ticket(
                    conn,
                    channel="claim",
                    subject=f"클레임 접수: {label} ({order_id})",
                    text=str(data.get("note") or note),
                    order_id=order_id,
                    source_ref=ref,
                    priority="high" if kind in ("damage", "missing", "wrong_item") else "normal",
                    reason=f"claim_{kind}",
                    author_kind="system",
                )
            elif m.topic == "ticket.created" and not str(eid).startswith("cs:"):
                ref = f"event:{src}:{eid}"
                if conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).first():
                    continue
                self.insert_ticket(
                    conn,
                    channel=str(data.get("channel") or "api")[:16],
                    subject=str(data.get("subject") or data.get("text") or "문의")[:200],
                    text=str(data.get("text") or ""),
                    order_id=p.get("order_id"),
                    source_ref=ref,
                    canonical_id=str(data.get("ticket_id") or f"tk-{uuid.uuid4().hex[:16]}")[:128],
                )

    def after_events(self, messages: Sequence[Message]) -> None:
        """After commit: record ticket.created for tickets the consumer opened from claims."""
        for m in messages:
            if m.topic != "claim.opened":
                continue
            ref = f"claim:{m.payload.get('source', '')}:{m.payload.get('event_id', '')}"
            with self.hub.db.read() as conn:
                tid = conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).scalar()
            if tid:
                self.announce(int(tid), "crm")

    def consumer(self) -> Consumer:
        """The cs_desk consumer."""
        return Consumer(
            "cs_desk",
            self.handle_events,
            topics=("claim.opened", "ticket.created"),
            after_commit=self.after_events,
        )

    def sla_job(self) -> Job:
        """The cs.sla job (every 30 s)."""
        return Job("cs.sla", 30.0, self.run_sla)

    def requester(self, row: Any) -> str | None:
        """The e-mail address of an e-mail requester (for privileged views and replies)."""
        if row.requester_enc is None:
            return None
        return open_(self.mail_key, row.requester_enc, b"requester").decode()


CLAIM_LABELS = {
    "delay": "배송 지연",
    "damage": "파손",
    "wrong_item": "오배송",
    "missing": "분실·미수령",
    "other": "기타",
}

_ORDER_RX = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2,5}-\d{4}-\d{3,10}|[A-Za-z]{2,5}-?\d{6,14}|(?:19|20)\d{6}-\d{4,10})"
    r"(?![A-Za-z0-9])"
)


def _order_id_in(text: str) -> str | None:
    try:
        from deliveryhub.chatbot.nlu.entities import extract_entities

        found = extract_entities(text).get("order_id")
        if found:
            return str(found)
    except ImportError:
        pass
    m = _ORDER_RX.search(text)
    return m.group(1).upper() if m else None


class InboundMailHandler:
    """aiosmtpd handler: every received message becomes a desk ticket (or joins one by [#id])."""

    def __init__(self, desk: Desk, max_bytes: int = 2_000_000) -> None:
        self.desk = desk
        self.max_bytes = max_bytes

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        """Parse the message and open a ticket."""
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        if len(raw) > self.max_bytes:
            return "552 Message too large"
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        sender = str(msg.get("From") or envelope.mail_from or "")
        subject = str(msg.get("Subject") or "")
        body = ""
        part = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        if part is not None:
            body = part.get_content()
            if part.get_content_type() == "text/html":
                body = re.sub(r"<[^>]+>", " ", body)
        tid = await asyncio.to_thread(
            self.desk.ticket_from_email,
            sender,
            subject,
            body.strip()[:20000],
            str(msg.get("Message-ID") or "") or None,
        )
        log.info("cs_mail_ticket", ticket_id=tid)
        return "250 Message accepted for delivery"


def start_inbound_smtp(desk: Desk, port: int, host: str = "127.0.0.1") -> Any:
    """Start the inbound SMTP server (aiosmtpd Controller) and return it (call .stop() to end)."""
    from aiosmtpd.controller import Controller

    controller = Controller(InboundMailHandler(desk), hostname=host, port=port)
    controller.start()
    return controller
