"""HTTP API of the chatbot (public, rate-limited) and of the CS desk (tickets:read / tickets:act)."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot import metrics as cs_metrics
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot import uploads
from deliveryhub.chatbot.desk import PRIORITIES, STATUSES, Desk, TicketNotFound
from deliveryhub.chatbot.dialogue import ChatService, InvalidLinkToken, SessionNotFound, VerifyThrottled
from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.rbac import PII_VIEW
from deliveryhub.views.orders import customer_view, order_detail

ReadDep = Annotated[Principal, Depends(require("tickets:read"))]
ActDep = Annotated[Principal, Depends(require("tickets:act"))]


class RateLimiter:
    """Sliding one-minute windows per key (per process; each API worker limits on its own)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, per_minute: int) -> bool:
        """Count a hit for `key`; False when it is over `per_minute`."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= per_minute:
                return False
            q.append(now)
            if len(self._hits) > 50_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] > 60]:
                    del self._hits[k]
            return True


MAX_LINK_TOKEN = 400
INVALID_TOKEN = "token: this link is not valid (it may be incomplete or changed); open the chat without it"


class NewSession(BaseModel):
    """Body of POST /v1/chat/sessions (optional).

    `token`: the signed token of a notification's tracking link (`/chat?t=...`); a valid one opens the
    conversation verified for that order. Its length is checked in the route so that an over-long token
    gets the same `invalid_token` answer as any other bad one."""

    lang: str = Field(default="ko", pattern="^(ko|en)$")
    token: str | None = None


class ChatIn(BaseModel):
    """One customer message."""

    text: str = Field(min_length=1, max_length=2000)


class CsatIn(BaseModel):
    """A CSAT answer."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class TicketIn(BaseModel):
    """A ticket created through the API."""

    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(default="", max_length=20000)
    order_id: str | None = Field(default=None, max_length=128)
    priority: str = Field(default="normal", pattern="^(urgent|high|normal|low)$")
    channel: str = Field(default="api", max_length=16)


class ReplyIn(BaseModel):
    """An agent's reply (or internal note)."""

    text: str = Field(min_length=1, max_length=20000)
    wait_for_customer: bool = False
    note: bool = False


class AssignIn(BaseModel):
    """Assignment change."""

    assignee: str | None = Field(default=None, max_length=128)
    priority: str | None = Field(default=None, pattern="^(urgent|high|normal|low)$")


class FaqIn(BaseModel):
    """A FAQ entry edited in the UI."""

    topic: str = Field(default="other", max_length=32)
    question_ko: str = Field(min_length=1, max_length=500)
    answer_ko: str = Field(min_length=1, max_length=4000)
    question_en: str = Field(min_length=1, max_length=500)
    answer_en: str = Field(min_length=1, max_length=4000)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    active: bool = True


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _staff_request(request: Request) -> bool:
    """Whether the request carries staff credentials (a console session cookie or any bearer token): the
    customer chat never sends them, and staff must not pass a customer's identity check."""
    from deliveryhub.security.web import SESSION_COOKIE

    return bool(request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization"))


STAFF_REFUSED = (
    "직원 계정으로 로그인된 상태에서는 고객 본인 확인 링크를 열 수 없어요. / "
    "A staff login cannot open a customer's verified chat; sign out first."
)


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime | date) else v


def ticket_brief(r: Any) -> dict[str, Any]:
    """A ticket as a queue row (no personal data)."""
    return {
        "id": r.id,
        "canonical_id": r.canonical_id,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
        "channel": r.channel,
        "subject": r.subject,
        "status": r.status,
        "priority": r.priority,
        "assignee": r.assignee,
        "order_id": r.order_id,
        "session_id": r.session_id,
        "reason": r.reason,
        "voc_category": r.voc_category,
        "voc_sentiment": r.voc_sentiment,
        "first_response_at": _iso(r.first_response_at),
        "resolved_at": _iso(r.resolved_at),
        "first_due": _iso(r.first_due),
        "next_due": _iso(r.next_due),
        "resolve_due": _iso(r.resolve_due),
        "awaiting_reply_since": _iso(r.awaiting_reply_since),
        "sla_missed": list(r.sla_missed or []),
        "customer_verified": bool(r.customer_verified),
        "requester": r.requester_masked,
    }


def ticket_view(
    hub: Any, desk: Desk, chat: ChatService, ticket_id: int, principal: Principal
) -> dict[str, Any]:
    """The one screen: ticket, conversation, customer, orders with timelines, notices, claims, history."""
    with hub.db.read() as conn:
        row = desk.get(ticket_id, conn)
        out = ticket_brief(row)
        out["summary"] = row.summary
        out["messages"] = [
            {"id": m.id, "at": _iso(m.at), "author_kind": m.author_kind, "author": m.author, "text": m.text}
            for m in conn.execute(
                sa.select(ct.ticket_messages)
                .where(ct.ticket_messages.c.ticket_id == ticket_id)
                .order_by(ct.ticket_messages.c.id)
            )
        ]
        if row.session_id:
            out["chat"] = [
                {"id": m.id, "at": _iso(m.at), "role": m.role, "text": m.text, "intent": m.intent}
                for m in conn.execute(
                    sa.select(ct.chat_messages)
                    .where(ct.chat_messages.c.session_id == row.session_id)
                    .order_by(ct.chat_messages.c.id)
                )
            ]
        customer_id = row.customer_id
        if customer_id is None and row.order_id:
            customer_id = conn.execute(
                sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == row.order_id)
            ).scalar()
        level = PII_VIEW.get(principal.role, "none")
        if level == "masked_until_verified":
            # A chat verification proves nothing about the agent (an agent could pass it in the public
            # chat), so it never unmasks contact data for staff.
            level = "masked"
        out["customer"] = customer_view(conn, hub.keyring, customer_id, level) if customer_id else None
        if level == "full" and row.requester_enc is not None:
            out["requester"] = desk.requester(row)
        order_ids: list[str] = []
        if customer_id:
            order_ids = list(
                conn.execute(
                    sa.select(t.orders.c.order_id)
                    .where(t.orders.c.customer_id == customer_id)
                    .order_by(t.orders.c.created_at.desc())
                    .limit(10)
                ).scalars()
            )
        if row.order_id and row.order_id not in order_ids:
            order_ids.insert(0, row.order_id)
        orders = []
        for oid in order_ids:
            d = order_detail(conn, oid)
            if d is None:
                continue
            d.pop("customer_id", None)
            d.pop("events", None)
            for name, section in hub.order_sections.items():
                if name == "tickets":
                    continue
                try:
                    d[name] = section(conn, oid, principal)
                except Exception as exc:  # another feature's section must not break the desk
                    d[name] = {"error": str(exc)[:200]}
            orders.append(d)
        out["orders"] = orders
        out["claims"] = (
            [
                {
                    "order_id": r.order_id,
                    "occurred_at": _iso(r.occurred_at),
                    "source": r.source,
                    "kind": (r.data or {}).get("kind"),
                    "amount": (r.data or {}).get("amount"),
                }
                for r in conn.execute(
                    sa.select(t.inbox.c.order_id, t.inbox.c.occurred_at, t.inbox.c.source, t.inbox.c.data)
                    .where(t.inbox.c.order_id.in_(order_ids), t.inbox.c.type == "claim.opened")
                    .order_by(t.inbox.c.occurred_at)
                )
            ]
            if order_ids
            else []
        )
        past_q = sa.select(ct.tickets).where(ct.tickets.c.id != ticket_id)
        conds = []
        if customer_id:
            conds.append(ct.tickets.c.customer_id == customer_id)
        if order_ids:
            conds.append(ct.tickets.c.order_id.in_(order_ids))
        past = (
            conn.execute(past_q.where(sa.or_(*conds)).order_by(ct.tickets.c.id.desc()).limit(20)).all()
            if conds
            else []
        )
        history = []
        for p in past:
            msgs = conn.execute(
                sa.select(ct.ticket_messages)
                .where(ct.ticket_messages.c.ticket_id == p.id)
                .order_by(ct.ticket_messages.c.id)
                .limit(50)
            ).all()
            history.append(
                {
                    **ticket_brief(p),
                    "messages": [
                        {"at": _iso(m.at), "author_kind": m.author_kind, "text": m.text} for m in msgs
                    ],
                }
            )
        out["past_conversations"] = history
    if "pii_read" in hub.services and out.get("customer") and level in ("full", "masked"):
        hub.services["pii_read"](
            principal,
            out["customer"].get("customer_id"),
            list(out["customer"]),
            f"GET /v1/tickets/{ticket_id}",
        )
    return out


def _parse_day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "invalid_field", f"{field}: expected YYYY-MM-DD", field) from None


def build_router(hub: Any, desk: Desk, chat: ChatService) -> APIRouter:
    """The chat and ticket routes bound to this hub's services."""
    router = APIRouter(tags=["cs"])
    limiter = RateLimiter()
    cfg = desk.config

    def limit(key: str, per_minute: int) -> None:
        if not limiter.allow(key, per_minute):
            raise ApiError(
                429, "rate_limited", "too many messages; please wait a moment", headers={"Retry-After": "60"}
            )

    router.include_router(uploads.build_router(hub, limit))

    # ------------------------------------------------------------ public chat
    @router.post("/v1/chat/sessions", summary="Open a chat conversation (public)")
    async def open_session(request: Request, body: NewSession | None = None) -> dict[str, Any]:
        ip = _client_ip(request)
        limit(f"ip-session:{ip}", cfg.ip_sessions_per_minute)
        token = body.token if body else None
        if token is not None and not 0 < len(token) <= MAX_LINK_TOKEN:
            raise ApiError(422, "invalid_token", INVALID_TOKEN, "token")
        if token is not None and _staff_request(request):
            raise ApiError(403, "staff_not_customer", STAFF_REFUSED, "token")
        try:
            return await run_in_threadpool(chat.new_session, ip, body.lang if body else "ko", token)
        except InvalidLinkToken:
            raise ApiError(422, "invalid_token", INVALID_TOKEN, "token") from None

    @router.post(
        "/v1/chat/sessions/{session_id}/messages", summary="Send a customer message; get the bot's reply"
    )
    async def post_message(session_id: str, body: ChatIn, request: Request) -> dict[str, Any]:
        ip = _client_ip(request)
        limit(f"ip:{ip}", cfg.ip_messages_per_minute)
        limit(f"session:{session_id}", cfg.session_messages_per_minute)
        try:
            turn = await run_in_threadpool(chat.post, session_id, body.text, ip, _staff_request(request))
        except SessionNotFound:
            raise ApiError(404, "not_found", "no such chat session", "session_id") from None
        except VerifyThrottled as exc:
            wait = max(60, int((exc.until - hub.clock.now()).total_seconds())) if exc.until else 900
            raise ApiError(
                429,
                "verify_throttled",
                "본인 확인 시도가 너무 많아 잠시 멈췄어요. 잠시 후 다시 시도해 주세요. / Too many identity "
                "checks from this address; please try again later.",
                headers={"Retry-After": str(wait)},
            ) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_field", str(exc), "text") from None
        return turn.as_dict()

    @router.get(
        "/v1/chat/sessions/{session_id}/messages", summary="Messages of a conversation (widget polling)"
    )
    async def get_messages(
        session_id: str, request: Request, after: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        limit(f"poll:{_client_ip(request)}", 600)
        try:
            msgs = await run_in_threadpool(chat.messages, session_id, after)
        except SessionNotFound:
            raise ApiError(404, "not_found", "no such chat session", "session_id") from None
        return {"messages": msgs}

    @router.post("/v1/chat/csat/{token}", summary="Answer the satisfaction survey")
    async def csat(token: str, body: CsatIn) -> dict[str, Any]:
        try:
            return await run_in_threadpool(desk.answer_csat, token, body.score, body.comment)
        except TicketNotFound:
            raise ApiError(404, "not_found", "no such survey", "token") from None

    # ------------------------------------------------------------ desk

    @router.get("/v1/tickets", summary="The CS queue: open tickets by priority and SLA due time")
    async def list_tickets(
        _hub: HubDep,
        _p: ReadDep,
        status: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        order_id: str | None = None,
        limit_: Annotated[int, Query(alias="limit", ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        if status is not None and status not in (*STATUSES, "all"):
            raise ApiError(400, "invalid_field", f"status: one of {', '.join(STATUSES)}, all", "status")
        if priority is not None and priority not in PRIORITIES:
            raise ApiError(400, "invalid_field", f"priority: one of {', '.join(PRIORITIES)}", "priority")

        def run() -> dict[str, Any]:
            q = sa.select(ct.tickets)
            if status != "all":
                q = (
                    q.where(ct.tickets.c.status == status)
                    if status
                    else q.where(ct.tickets.c.status != "solved")
                )
            if assignee:
                q = q.where(ct.tickets.c.assignee == assignee)
            if priority:
                q = q.where(ct.tickets.c.priority == priority)
            if order_id:
                q = q.where(ct.tickets.c.order_id == order_id)
            due = sa.func.coalesce(ct.tickets.c.first_due, ct.tickets.c.next_due, ct.tickets.c.resolve_due)
            q = q.order_by(ct.tickets.c.priority_rank, due, ct.tickets.c.id).limit(limit_)
            with hub.db.read() as conn:
                return {"tickets": [ticket_brief(r) for r in conn.execute(q)]}

        return await run_in_threadpool(run)

    @router.post("/v1/tickets", status_code=201, summary="Open a ticket (API channel)")
    async def create_ticket(body: TicketIn, p: ActDep) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            if body.order_id:
                with hub.db.read() as conn:
                    if (
                        conn.execute(
                            sa.select(t.orders.c.order_id).where(t.orders.c.order_id == body.order_id)
                        ).first()
                        is None
                    ):
                        raise ApiError(404, "not_found", f"order_id: no order {body.order_id}", "order_id")
            tid = desk.create_ticket(
                channel=body.channel,
                subject=body.subject,
                text=body.text,
                order_id=body.order_id,
                priority=body.priority,
            )
            return {"id": tid}

        return await run_in_threadpool(run)

    @router.get(
        "/v1/tickets/{ticket_id}",
        summary="One ticket with the customer's orders, timelines, notices, claims and past conversations",
    )
    async def get_ticket(ticket_id: int, p: ReadDep) -> dict[str, Any]:
        try:
            return await run_in_threadpool(ticket_view, hub, desk, chat, ticket_id, p)
        except TicketNotFound:
            raise ApiError(404, "not_found", f"no ticket {ticket_id}", "ticket_id") from None

    @router.get("/v1/tickets/{ticket_id}/suggested-reply", summary="A draft answer from the bot")
    async def suggested(ticket_id: int, _p: ReadDep) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            return {"text": chat.suggest_reply(desk.get(ticket_id))}

        try:
            return await run_in_threadpool(run)
        except TicketNotFound:
            raise ApiError(404, "not_found", f"no ticket {ticket_id}", "ticket_id") from None

    async def _act(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        except TicketNotFound:
            raise ApiError(404, "not_found", "no such ticket", "ticket_id") from None
        except ValueError as exc:
            msg = str(exc)
            raise ApiError(422, "invalid_field", msg, msg.split(":", 1)[0]) from None

    @router.post("/v1/tickets/{ticket_id}/replies", summary="Reply to the customer (or add an internal note)")
    async def reply(ticket_id: int, body: ReplyIn, p: ActDep) -> dict[str, Any]:
        return await _act(
            desk.reply,
            ticket_id,
            p.name,
            body.text,
            by="agent",  # type: ignore[no-any-return]
            wait_for_customer=body.wait_for_customer,
            note=body.note,
        )

    @router.post("/v1/tickets/{ticket_id}/resolve", summary="Resolve; sends the CSAT survey")
    async def resolve(ticket_id: int, p: ActDep) -> dict[str, Any]:
        return await _act(desk.resolve, ticket_id, p.name)  # type: ignore[no-any-return]

    @router.post("/v1/tickets/{ticket_id}/assign", summary="Assign or change priority")
    async def assign(ticket_id: int, body: AssignIn, _p: ActDep) -> dict[str, Any]:
        await _act(desk.assign, ticket_id, body.assignee, body.priority)
        return {"id": ticket_id, "assignee": body.assignee}

    @router.post("/v1/tickets/{ticket_id}/handback", summary="Give a chat back to the bot")
    async def handback(ticket_id: int, p: ActDep) -> dict[str, Any]:
        await _act(desk.handback, ticket_id, p.name)
        return {"id": ticket_id, "state": "bot"}

    # ------------------------------------------------------------ FAQ and metrics
    @router.get("/v1/faq", summary="FAQ entries")
    async def get_faq(_p: ReadDep) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            with hub.db.read() as conn:
                return {"entries": [e.as_dict() for e in faqmod.entries(conn, include_inactive=True)]}

        return await run_in_threadpool(run)

    @router.put("/v1/faq/{key}", summary="Create or edit a FAQ entry")
    async def put_faq(key: str, body: FaqIn, p: ActDep) -> dict[str, Any]:
        try:
            entry = await run_in_threadpool(
                faqmod.upsert_entry, hub.db, {"key": key, **body.model_dump()}, p.name, hub.clock.now()
            )
        except ValueError as exc:
            msg = str(exc)
            raise ApiError(422, "invalid_field", msg, msg.split(":", 1)[0]) from None
        chat.invalidate_faq()
        return entry.as_dict()

    @router.get("/v1/faq/candidates", summary="Unanswered questions of a week, ranked (FAQ candidates)")
    async def faq_candidates(_p: ReadDep, week: str | None = None) -> dict[str, Any]:
        day = _parse_day(week, "week") or hub.clock.now().astimezone(ZoneInfo(hub.settings.tz)).date()
        start_day = day - timedelta(days=day.weekday())
        start = datetime.combine(start_day, dtime.min, ZoneInfo(hub.settings.tz))

        def run() -> dict[str, Any]:
            with hub.db.read() as conn:
                return {"week": start_day.isoformat(), "candidates": faqmod.weekly_candidates(conn, start)}

        return await run_in_threadpool(run)

    @router.get(
        "/v1/cs/metrics", summary="CS metrics of a period: first response, resolution, automation, ..."
    )
    async def metrics(
        _p: ReadDep, from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None
    ) -> dict[str, Any]:
        tz = ZoneInfo(hub.settings.tz)
        today = hub.clock.now().astimezone(tz).date()
        d_from = _parse_day(from_, "from") or today - timedelta(days=6)
        d_to = _parse_day(to, "to") or today
        if d_to < d_from:
            raise ApiError(400, "invalid_field", "to: must not be before from", "to")
        start = datetime.combine(d_from, dtime.min, tz)
        end = datetime.combine(d_to + timedelta(days=1), dtime.min, tz)

        def run() -> dict[str, Any]:
            with hub.db.read() as conn:
                return {
                    "from": d_from.isoformat(),
                    "to": d_to.isoformat(),
                    **cs_metrics.summary(conn, start, end),
                }

        return await run_in_threadpool(run)

    return router
