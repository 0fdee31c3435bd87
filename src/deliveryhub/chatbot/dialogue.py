"""The chatbot: understand, ask for what is missing, verify the customer, answer from the read models,
act through the service layer, and hand off to a person when CS.md says so.

Hand-off is a state: once a session is handed off the bot stays silent there until an agent hands back.
The optional LLM backend only rephrases finished answers (masked); it never decides anything.

`ChatService` is the entry point; the steps of a turn live in lexicon.py (what the bot recognises),
policy.py (what it does next), verify.py (identity), actions.py (serving a request), answers.py and
phrases.py (what it says) and session.py (the session and writing the turn)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot import identity, phrases, policy
from deliveryhub.chatbot import queries as q
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.actions import order_status_text
from deliveryhub.chatbot.desk import Desk
from deliveryhub.chatbot.lexicon import lang_of
from deliveryhub.chatbot.session import (
    Bot,
    InvalidLinkToken,
    Rephraser,
    SessionNotFound,
    Turn,
    TurnCtx,
    VerifyThrottled,
    finish,
    load,
)
from deliveryhub.chatbot.settings import CsConfig
from deliveryhub.domain.returns import ReturnPolicy, load_return_policy, policy_facts
from deliveryhub.pii import dlp
from deliveryhub.service_layer.hub import Core

__all__ = ["ChatService", "Classifier", "InvalidLinkToken", "SessionNotFound", "Turn", "VerifyThrottled"]

log = structlog.get_logger(__name__)

Classifier = Callable[[str], dict[str, Any]]
MAX_LINK_TOKEN = 400
_CSAT_MARK = re.compile(r"\s*\[csat:[^\]]+\]")


def _return_policy(core: Core) -> ReturnPolicy:
    """The shop's return policy (config section `returns:`), defaults when the file has none."""
    try:
        return load_return_policy(getattr(core.settings, "config_file", None))
    except (OSError, ValueError) as exc:
        log.warning("return_policy_unreadable", error=str(exc)[:200])
        return ReturnPolicy()


def default_classifier() -> Classifier:
    """The project's NLU classifier (imported lazily: it loads models on first use)."""
    from deliveryhub.chatbot.nlu.api import classify

    return classify


class ChatService:
    """The chatbot over the hub's read models and commands; the classifier and rephraser are injected."""

    def __init__(
        self,
        core: Core,
        desk: Desk,
        config: CsConfig,
        classify: Classifier | None = None,
        rephraser: Rephraser | None = None,
    ) -> None:
        self.core = core
        self.desk = desk
        self.config = config
        self._classify = classify
        faq = faqmod.FaqCache(core.db, facts=policy_facts(_return_policy(core)))
        self.bot = Bot(core, desk, config, faq, identity.VerifyGuard(core), rephraser)

    @property
    def classify(self) -> Classifier:
        """The classifier (the real NLU unless one was injected)."""
        if self._classify is None:
            self._classify = default_classifier()
        return self._classify

    def faq_entries(self) -> list[faqmod.FaqEntry]:
        """FAQ entries, cached for 30 s (edits in the UI show up quickly)."""
        return self.bot.faq.entries()

    def invalidate_faq(self) -> None:
        """Forget the cached FAQ (after an edit)."""
        self.bot.faq.invalidate()

    # ------------------------------------------------------------ sessions
    def new_session(
        self, ip: str | None = None, lang: str = "ko", link_token: str | None = None
    ) -> dict[str, Any]:
        """Open a conversation; returns its id and the greeting.

        With `link_token` (the signed token of a notification's tracking link) the conversation opens
        verified for that order and its customer, as if the order number and phone digits had been given;
        a token that proves nothing raises InvalidLinkToken and opens nothing."""
        sid = secrets.token_urlsafe(24)
        now = self.bot.now()
        lang = "en" if lang == "en" else "ko"
        linked = self._order_from_link(link_token) if link_token is not None else None
        greeting = phrases.greeting(lang, linked[0] if linked else None)
        with self.core.db.write(urgent=True) as conn:
            conn.execute(
                q.INSERT_SESSION,
                {
                    "session_id": sid,
                    "created_at": now,
                    "updated_at": now,
                    "lang": lang,
                    "state": "bot",
                    "order_id": linked[0] if linked else None,
                    "customer_id": linked[1] if linked else None,
                    "verified": linked is not None,
                    "verified_at": now if linked else None,
                    "verified_by": "link" if linked else None,
                    "verify_failures": 0,
                    "low_conf_streak": 0,
                    "clarified": False,
                    "bot_answers": 0,
                    "client_ip": (ip or "")[:64],
                    "emitted": [],
                },
            )
            conn.execute(q.INSERT_MESSAGE, {"session_id": sid, "at": now, "role": "bot", "text": greeting})
        out: dict[str, Any] = {"session_id": sid, "greeting": greeting, "verified": linked is not None}
        if linked is not None:
            out["order_id"] = linked[0]
        return out

    def _order_from_link(self, token: str) -> tuple[str, str | None]:
        """(order_id, customer_id) of an existing order behind a valid link token, else InvalidLinkToken.

        The token is checked by the notifications feature (core.links); without it links are not
        available here. Every failure says the same thing: nothing is revealed."""
        order_id = None
        if isinstance(token, str) and 0 < len(token) <= MAX_LINK_TOKEN:
            try:
                order_id = self.core.links.order_for_token(token)
            except (ValueError, TypeError):  # a malformed token is a bad link, never a server error
                order_id = None
        if order_id:
            row = self.bot.owner(str(order_id))
            if row is not None:
                return str(row.order_id), row.customer_id
        raise InvalidLinkToken("token: this link is not valid (it may be incomplete or changed)")

    def messages(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Messages of a session after id `after` (the widget polls this for agent replies)."""
        with self.core.db.read() as conn:
            if conn.execute(q.SESSION_EXISTS, {"sid": session_id}).first() is None:
                raise SessionNotFound(session_id)
            rows = conn.execute(
                sa.select(ct.chat_messages)
                .where(ct.chat_messages.c.session_id == session_id, ct.chat_messages.c.id > after)
                .order_by(ct.chat_messages.c.id)
            ).all()
        out = []
        for r in rows:
            csat = "[csat:" in r.text
            text = _CSAT_MARK.sub("", r.text) if csat else r.text
            out.append({"id": r.id, "role": r.role, "text": text, "at": r.at.isoformat(), "csat": csat})
        return out

    # ------------------------------------------------------------ one turn
    def post(self, session_id: str, text: str, ip: str | None = None, staff: bool = False) -> Turn:
        """Handle one customer message and return the bot's answer (None while handed off).

        `ip` is the client address (identity checks are limited per address); `staff` says the request
        carried staff credentials, which may never pass the customer's identity check."""
        text = (text or "").strip()[:2000]
        if not text:
            raise ValueError("text: required")
        with self.bot.tx.turn():
            return self._post(session_id, text, ip, staff)

    def _post(self, session_id: str, text: str, ip: str | None, staff: bool) -> Turn:
        s = load(self.bot, session_id)
        s["lang"] = lang_of(text, s["lang"])
        ctx = TurnCtx(s, text, ip, staff)
        if s["state"] == "handed_off":
            return self._silent(ctx)
        if s["state"] == "closed":
            pending = s.get("pending") or {}
            score = text.strip().rstrip("점").strip()
            if pending.get("need") == "csat" and score.isdigit() and 1 <= int(score) <= 5:
                self.desk.answer_csat(pending["token"], int(score))
                s["pending"] = None
                ctx.reply = phrases.csat_thanks(ctx.lang)
                ctx.intent = "other"
                return finish(self.bot, ctx)
            s["state"], s["pending"] = "bot", None  # a new question after resolution: the bot serves again
        nlu = self.classify(text)
        ctx.intent = str(nlu.get("intent") or "other")
        ctx.confidence = float(nlu.get("confidence") or 0.0)
        policy.decide(self.bot, ctx, nlu, dict(nlu.get("entities") or {}))
        return finish(self.bot, ctx)

    def _silent(self, ctx: TurnCtx) -> Turn:
        """Handed off: the message goes to the agent's ticket, the bot says nothing."""
        s = ctx.s
        now = self.bot.now()
        with self.core.db.write(urgent=True) as conn:
            conn.execute(
                ct.chat_messages.insert().values(
                    session_id=s["session_id"],
                    at=now,
                    role="customer",
                    text=(dlp.mask_text(ctx.text) or "")[:4000],
                )
            )
            conn.execute(
                ct.chat_sessions.update()
                .where(ct.chat_sessions.c.session_id == s["session_id"])
                .values(updated_at=now, lang=s["lang"])
            )
        if s.get("ticket_id"):
            self.desk.customer_message(int(s["ticket_id"]), ctx.text)
        return Turn(None, None, True, s.get("ticket_id"))

    # ------------------------------------------------------------ answers for the desk
    def status_text(self, d: dict[str, Any], lang: str, delay: bool = False) -> str:
        """The live status of an order in an agent's words: stage, carrier, waybill, last scan, ETA, cause."""
        return order_status_text(self.bot, d, lang, delay)

    def suggest_reply(self, ticket: Any) -> str:
        """A draft answer for the agent: greeting, the live order status, and a next step."""
        lang = "ko"
        if ticket.session_id:
            with self.core.db.read() as conn:
                lang = q.session_lang(conn, ticket.session_id)
        d = self.bot.detail(ticket.order_id) if ticket.order_id else None
        if lang == "en":
            body = "Hello, this is the customer care team. I'm sorry for the inconvenience. "
            if d:
                body += self.status_text(d, "en", delay=True) + " "
            return body + "I'll keep an eye on it and update you here as soon as anything changes."
        body = "안녕하세요, 고객센터 상담원입니다. 불편을 드려 정말 죄송합니다. "
        if d:
            body += self.status_text(d, "ko", delay=ticket.voc_category == "delivery_delay") + " "
        else:
            body += "확인을 위해 주문번호를 알려 주시면 바로 살펴보겠습니다. "
        return body + "진행 상황이 바뀌면 바로 이 대화창으로 안내해 드리겠습니다."
