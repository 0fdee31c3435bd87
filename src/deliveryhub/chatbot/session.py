"""A conversation and one turn of it: the session row, the turn's shared database connection, the turn's
working state, and writing the turn (messages, hand-off ticket, session row) in one transaction.

`Bot` bundles what every step of a turn uses (the core, the desk, the settings, the FAQ, the identity
guard, the optional rephraser), so policy.py, verify.py and actions.py are plain functions over it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot import phrases
from deliveryhub.chatbot import queries as q
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.answers import agent_hours, agents_away, handoff_summary
from deliveryhub.chatbot.desk import Desk
from deliveryhub.chatbot.identity import VerifyGuard
from deliveryhub.chatbot.lexicon import COMPLAINT_INTENTS, REASON_PRIORITY
from deliveryhub.chatbot.settings import PRIORITIES, CsConfig
from deliveryhub.kernel.labels import label
from deliveryhub.pii import dlp
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

# Session fields a turn writes back.
SESSION_FIELDS = (
    "lang",
    "state",
    "order_id",
    "verified",
    "verified_at",
    "verified_by",
    "verify_failures",
    "pending",
    "low_conf_streak",
    "clarified",
    "bot_answers",
)


class SessionNotFound(LookupError):
    """No chat session with that id."""


class InvalidLinkToken(ValueError):
    """A link token that does not prove anything (tampered, malformed, unknown order, links not wired)."""


class VerifyThrottled(RuntimeError):
    """This client address made too many wrong identity checks; it must wait until `until`."""

    def __init__(self, until: datetime | None) -> None:
        super().__init__("too many identity checks from this address")
        self.until = until


class Rephraser(Protocol):
    """Rewords a finished (masked) answer; may raise, and may change nothing but the wording."""

    def rephrase(self, text: str, lang: str) -> str: ...


def safe_rephrase(rephraser: Rephraser, text: str, lang: str) -> str:
    """A rewording of `text`, or `text` itself when the backend fails, drops a number (order, tracking,
    amount, time) or the answer carries personal data (the backend only ever sees masked text)."""
    masked = dlp.mask_text(text) or ""
    if masked != text:
        return text  # the answer carried personal data: never replace it with a masked variant
    try:
        out = rephraser.rephrase(masked, lang).strip()
    except Exception as exc:  # the bot must answer even when the LLM is down
        log.warning("chat_rephrase_failed", error=str(exc)[:200])
        return text
    if not out or any(num not in out for num in re.findall(r"\d[\d,:-]*\d|\d", masked)):
        return text
    return out


@dataclass
class Turn:
    """What one customer message produced."""

    reply: str | None
    intent: str | None
    escalated: bool
    ticket_id: int | None = None
    confidence: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """API shape."""
        out: dict[str, Any] = {"reply": self.reply, "intent": self.intent, "escalated": self.escalated}
        if self.ticket_id is not None:
            out["ticket_id"] = self.ticket_id
        return out


class TurnCtx:
    """Mutable state of one turn: the session row `s` (a dict) and what the turn decided."""

    def __init__(self, s: dict[str, Any], text: str, ip: str | None = None, staff: bool = False) -> None:
        self.s = s
        self.text = text
        self.ip = ip
        self.staff = staff  # the request carried staff credentials
        self.store_text: str | None = None  # what is stored instead of the text (phone digits, addresses)
        self.reply: str | None = None
        self.intent: str | None = None
        self.confidence: float | None = None
        self.escalated = False
        self.handoff_reasons: list[str] = []
        self.answered = False
        self.acted = False
        self.verified_now = False
        self.unanswered = False
        self.faq_key: str | None = None

    @property
    def lang(self) -> str:
        """The conversation's language."""
        return str(self.s["lang"])

    def hand_off(self, reasons: list[str]) -> None:
        """Hand the conversation to a person: the bot stays silent until an agent hands it back."""
        self.handoff_reasons = reasons
        self.escalated = True
        self.s["state"] = "handed_off"
        self.s["pending"] = None
        self.reply = None  # said when the turn is written (finish): it depends on the desk's hours


class _TurnState(threading.local):
    active: bool = False
    cm: AbstractContextManager[Connection] | None = None
    conn: Connection | None = None


class TurnTx:
    """The database connection one chat turn shares (per worker thread).

    A turn's lookups share one connection instead of a checkout, BEGIN and COMMIT each. On PostgreSQL its
    reads and its final write are one transaction; READ COMMITTED lets those reads see what the service
    layer committed earlier in the same turn. On SQLite the shared connection reads without a transaction
    (each statement sees the latest commit: a snapshot would hide the turn's own actions) and the final
    write takes its own write transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._state = _TurnState()
        self._shared = db.dialect == "postgresql"

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Scope of one turn: the shared connection ends with it (rolled back on an error)."""
        self._state.active = True
        try:
            yield
        except BaseException as exc:
            self._end(exc)
            raise
        finally:
            self._end(None)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a lookup: the turn's shared one when inside a turn."""
        st = self._state
        if not st.active:
            with self.db.read() as conn:
                yield conn
            return
        if st.conn is None:
            st.cm = self.db.write(urgent=True) if self._shared else self.db.read_latest()
            st.conn = st.cm.__enter__()
        yield st.conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """The turn's final write: in the shared transaction (committed on exit) when there is one."""
        if not self._shared:
            self._end(None)  # SQLite: let go of the shared read connection first
        if not self._state.active:
            with self.db.write(urgent=True) as conn:
                yield conn
            return
        with self.reading() as conn:
            yield conn
        self._end(None)

    def _end(self, exc: BaseException | None) -> None:
        st = self._state
        cm, st.cm, st.conn, st.active = st.cm, None, None, False
        if cm is not None:
            if exc is None:
                cm.__exit__(None, None, None)
            else:
                cm.__exit__(type(exc), exc, exc.__traceback__)


@dataclass
class Bot:
    """What every step of a turn uses."""

    core: Core
    desk: Desk
    config: CsConfig
    faq: faqmod.FaqCache
    guard: VerifyGuard
    rephraser: Rephraser | None = None
    tx: TurnTx = field(init=False)

    def __post_init__(self) -> None:
        self.tx = TurnTx(self.core.db)

    def now(self) -> datetime:
        """The hub's time."""
        return self.core.clock.now()

    def owner(self, order_id: str) -> Any:
        """(order_id, customer_id) row of a stored order, or None."""
        with self.tx.reading() as conn:
            return conn.execute(q.ORDER_OWNER, {"oid": order_id}).first()

    def detail(self, order_id: str) -> dict[str, Any] | None:
        """What a chat answer needs about an order."""
        with self.tx.reading() as conn:
            return q.order_status(conn, order_id)

    def events(self, order_id: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
        """The order's events of these types, oldest first."""
        with self.tx.reading() as conn:
            rows = conn.execute(
                sa.select(t.inbox.c.type, t.inbox.c.occurred_at, t.inbox.c.data)
                .where(t.inbox.c.order_id == order_id, t.inbox.c.type.in_(types))
                .order_by(t.inbox.c.occurred_at)
            ).all()
        return [{"type": r.type, "occurred_at": r.occurred_at.isoformat(), "data": r.data} for r in rows]


def load(bot: Bot, session_id: str) -> dict[str, Any]:
    """The session row as a dict; raises SessionNotFound."""
    with bot.tx.reading() as conn:
        row = conn.execute(q.LOAD_SESSION, {"sid": session_id}).first()
    if row is None:
        raise SessionNotFound(session_id)
    s = dict(row._mapping)
    s["emitted"] = list(s.get("emitted") or [])
    return s


def summary(bot: Bot, s: dict[str, Any], reasons: list[str], last_text: str, intent: str | None) -> str:
    """The hand-off summary for the agent, with the order's current stage."""
    stage = None
    if s.get("order_id"):
        with bot.tx.reading() as conn:
            stage = conn.execute(
                sa.select(t.orders.c.stage).where(t.orders.c.order_id == s["order_id"])
            ).scalar()
    return handoff_summary(s, stage, reasons, dlp.mask_text(last_text) or "", intent)


def _handoff_ticket(bot: Bot, conn: Connection, ctx: TurnCtx, now: datetime) -> int:
    """The desk ticket of a hand-off, with the whole conversation as its transcript."""
    s = ctx.s
    kinds = {"customer": "customer", "bot": "bot", "agent": "agent"}
    transcript = [
        (r.at, kinds.get(r.role, "system"), r.text)
        for r in conn.execute(
            sa.select(ct.chat_messages)
            .where(ct.chat_messages.c.session_id == s["session_id"])
            .order_by(ct.chat_messages.c.id)
        )
    ]
    prio = min(
        (REASON_PRIORITY.get(r, "normal") for r in ctx.handoff_reasons),
        key=lambda p: PRIORITIES[p],
        default="normal",
    )
    order_ok = (
        bool(s.get("order_id"))
        and conn.execute(
            sa.select(t.orders.c.order_id).where(t.orders.c.order_id == s.get("order_id"))
        ).first()
        is not None
    )
    subject = "챗봇 상담원 연결: " + ", ".join(label("escalation", r) for r in ctx.handoff_reasons)
    return bot.desk.insert_ticket(
        conn,
        channel="chat",
        subject=subject[:200],
        text="",
        order_id=s["order_id"] if order_ok else None,
        customer_id=s.get("customer_id") if s.get("verified") else None,
        session_id=s["session_id"],
        priority=prio,
        reason=",".join(ctx.handoff_reasons)[:64],
        summary=summary(bot, s, ctx.handoff_reasons, ctx.text, ctx.intent),
        verified=bool(s.get("verified")),
        canonical_id=f"chat-{s['session_id'][:20]}",
        transcript=transcript,
        source_ref=f"chat:{s['session_id']}:{now.isoformat()}",
    )


def handoff_reply(bot: Bot, ctx: TurnCtx) -> str:
    """The hand-off message, with the next business opening when agents are not working now (the desk's
    calendar: its hours, weekends, Korean public holidays)."""
    cal = bot.config.agent_calendar()
    first = ctx.handoff_reasons[0] if ctx.handoff_reasons else "human_request"
    return phrases.handoff(first, ctx.lang, agent_hours(cal), agents_away(cal, bot.now()))


def finish(bot: Bot, ctx: TurnCtx) -> Turn:
    """Write the turn (both messages, an unanswered question, the hand-off ticket, the session row)."""
    s = ctx.s
    now = bot.now()
    if ctx.escalated:
        ctx.reply = handoff_reply(bot, ctx)
    if ctx.reply and bot.rephraser is not None and not ctx.escalated:
        ctx.reply = safe_rephrase(bot.rephraser, ctx.reply, ctx.lang)
    voc = bot.desk.voc(ctx.text) if ctx.intent in COMPLAINT_INTENTS or ctx.escalated else None
    if ctx.answered or ctx.faq_key:
        s["bot_answers"] = int(s.get("bot_answers") or 0) + 1
    ticket_id: int | None = s.get("ticket_id")
    new_ticket = False
    # A conversation the bot served is recorded before the turn commits; the session row then says so.
    emitted = False
    if not ctx.escalated and (ctx.answered or ctx.acted) and s.get("verified") and s.get("order_id"):
        emitted = emit_conversation(bot, s)
    with bot.tx.writing() as conn:
        said = {
            "session_id": s["session_id"],
            "at": now,
            "role": "customer",
            "text": (dlp.mask_text(ctx.store_text or ctx.text) or "")[:4000],
            "intent": ctx.intent,
            "confidence": ctx.confidence,
        }
        conn.execute(q.INSERT_MESSAGE, said)
        if ctx.reply:
            reply = (dlp.mask_text(ctx.reply) or "")[:4000]
            conn.execute(
                q.INSERT_MESSAGE, {**said, "role": "bot", "text": reply, "intent": None, "confidence": None}
            )
        if ctx.unanswered:
            faqmod.record_unanswered(conn, s["session_id"], ctx.text, ctx.lang, ctx.intent, now)
        if ctx.escalated:
            ticket_id = _handoff_ticket(bot, conn, ctx, now)
            if voc is not None and _relabelled(conn, ticket_id):
                voc = None  # a CS lead set this ticket's VOC category: later messages do not undo it
            if voc is not None:
                conn.execute(
                    ct.tickets.update()
                    .where(ct.tickets.c.id == ticket_id)
                    .values(voc_category=voc["category"], voc_sentiment=voc["sentiment"])
                )
            new_ticket = True
        values = {k: s.get(k) for k in SESSION_FIELDS}
        values["customer_id"] = s.get("customer_id") if s.get("verified") else None
        values.update(updated_at=now, last_intent=ctx.intent, ticket_id=ticket_id)
        if ctx.escalated:
            values["handed_off_at"] = now
        if emitted:
            values["emitted"] = ["created", "replied", "resolved"]
        if voc is not None and ticket_id is not None and _relabelled(conn, ticket_id):
            voc = None
        if voc is not None and (voc["category"] != "other" or not s.get("voc_category")):
            values.update(voc_category=voc["category"], voc_sentiment=voc["sentiment"])
        conn.execute(q.UPDATE_SESSION, {**values, "b_sid": s["session_id"]})
    if new_ticket and ticket_id is not None:
        bot.desk.announce(ticket_id, "chatbot")
    return Turn(ctx.reply, ctx.intent, ctx.escalated or s["state"] == "handed_off", ticket_id, ctx.confidence)


def _relabelled(conn: Any, ticket_id: int | None) -> bool:
    """Whether a CS lead relabelled the ticket's VOC category (their label stands)."""
    if ticket_id is None:
        return False
    vr = ct.voc_relabels
    return conn.execute(sa.select(vr.c.id).where(vr.c.ticket_id == ticket_id).limit(1)).first() is not None


def emit_conversation(bot: Bot, s: dict[str, Any]) -> bool:
    """A conversation the bot served: ticket.created + ticket.replied{by: bot} + resolved, once each.

    Returns True when events were ingested now (the caller marks the session row in its transaction)."""
    done = set(s.get("emitted") or [])
    if {"created", "replied", "resolved"} <= done:
        return False
    canonical = f"chat-{s['session_id'][:20]}"
    base = {"source": "chatbot", "occurred_at": bot.now().isoformat(), "order_id": s["order_id"]}
    events = []
    if "created" not in done:
        events.append(
            {
                **base,
                "event_id": f"cs:{canonical}:created",
                "type": "ticket.created",
                "data": {
                    "ticket_id": canonical,
                    "channel": "chat",
                    "subject": "챗봇 상담",
                    "category": s.get("voc_category"),
                },
            }
        )
    if "replied" not in done:
        events.append(
            {
                **base,
                "event_id": f"cs:{canonical}:bot-reply",
                "type": "ticket.replied",
                "data": {"ticket_id": canonical, "by": "bot"},
            }
        )
    if "resolved" not in done:
        events.append(
            {
                **base,
                "event_id": f"cs:{canonical}:bot-resolved",
                "type": "ticket.resolved",
                "data": {"ticket_id": canonical},
            }
        )
    bot.core.ingest.ingest(events)
    return True
