"""HTTP API of the CS desk (tickets:read / tickets:act): the queue, one ticket with everything about its
customer, replies and notes, assignment, resolution, hand-back to the bot, a suggested reply; a CS lead's
VOC relabel; the FAQ editor and its weekly candidates; CS metrics of a period; what an agent may do on a
ticket's order and the ticket's photos (the desk's order panel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot import metrics as cs_metrics
from deliveryhub.chatbot import queue
from deliveryhub.chatbot import relabel as voc_relabel
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import PRIORITIES, STATUSES, TicketNotFound
from deliveryhub.chatbot.wiring import ChatFeature
from deliveryhub.entrypoints.api.deps import require, route_permission
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.rbac import PERMISSIONS, PII_VIEW, permits

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

T = TypeVar("T")
ReadDep = Annotated[Principal, Depends(require("tickets:read"))]
ActDep = Annotated[Principal, Depends(require("tickets:act"))]
# A VOC relabel is a CS lead's call (it changes the VOC report and the next model): `voc:relabel` once the
# permission matrix names it, until then the same roles through `exceptions:act` (not cs_agent).
RELABEL_PERMISSION = "voc:relabel" if "voc:relabel" in PERMISSIONS else "exceptions:act"
RelabelDep = Annotated[Principal, Depends(require(RELABEL_PERMISSION))]


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


class VocIn(BaseModel):
    """A CS lead's VOC category for a ticket (one of chatbot.voc.CATEGORIES)."""

    category: str = Field(max_length=32)


class FaqIn(BaseModel):
    """A FAQ entry edited in the UI."""

    topic: str = Field(default="other", max_length=32)
    question_ko: str = Field(min_length=1, max_length=500)
    answer_ko: str = Field(min_length=1, max_length=4000)
    question_en: str = Field(min_length=1, max_length=500)
    answer_en: str = Field(min_length=1, max_length=4000)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    active: bool = True


def _parse_day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "invalid_field", f"{field}: expected YYYY-MM-DD", field) from None


async def _act(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a desk action: an unknown ticket is 404, bad input 422 naming its field."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except TicketNotFound:
        raise ApiError(404, "not_found", "no such ticket", "ticket_id") from None
    except ValueError as exc:
        msg = str(exc)
        raise ApiError(422, "invalid_field", msg, msg.split(":", 1)[0]) from None


def build_router(hub: Hub) -> APIRouter | None:
    """The desk, FAQ and CS metrics routes of this hub (None without the CS feature)."""
    if hub.chat is None:
        return None
    router = APIRouter(tags=["cs"])
    _tickets(router, hub, hub.chat)
    _faq_and_metrics(router, hub, hub.chat)
    _ticket_actions(router, hub)
    return router


# The routes the desk's order panel calls and the permission each needs (the panel shows a control only
# when the agent's role may use it); the inspection route is the returns feature's, read from the app.
ORDER_ACTIONS = ("cancel", "change_address", "resend_notice", "return", "exchange")
INSPECTION_PATH = "/v1/returns/{return_id}/inspection"
APPROVE_PATH = "/v1/compensations/{comp_id}/approve"


def _route_permission(request: Request, path: str, fallback: str) -> str:
    """The permission the app's POST `path` route requires (`fallback` when it is not mounted)."""
    for route in request.app.routes:
        if getattr(route, "path", None) == path and "POST" in getattr(route, "methods", ()):
            for dep in route.dependant.dependencies:
                found = route_permission(dep.call)
                if found:
                    return found
    return fallback


def _ticket_files(hub: Hub, ticket_id: int) -> tuple[str | None, list[dict[str, Any]]] | None:
    """(order id, photos) of a ticket: the chat uploads of its conversation and of its order."""
    with hub.db.read() as conn:
        tk = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == ticket_id)).first()
        if tk is None:
            return None
        conds = []
        if tk.session_id:
            conds.append(ct.chat_attachments.c.session_id == tk.session_id)
        if tk.order_id:
            conds.append(ct.chat_attachments.c.order_id == tk.order_id)
        rows = (
            conn.execute(
                sa.select(ct.chat_attachments)
                .where(sa.or_(*conds))
                .order_by(ct.chat_attachments.c.created_at)
            ).all()
            if conds
            else []
        )
    photos = [
        {
            "id": r.id,
            "url": f"/v1/attachments/{r.id}",
            "content_type": r.content_type,
            "size": r.size,
            "created_at": r.created_at.isoformat() if r.created_at else None,
        }
        for r in rows
    ]
    return tk.order_id, photos


def _ticket_actions(router: APIRouter, hub: Hub) -> None:
    @router.get(
        "/v1/tickets/{ticket_id}/actions",
        summary="What an agent may do on a ticket's order (by role) and the ticket's photos",
    )
    async def ticket_actions(ticket_id: int, request: Request, p: ReadDep) -> dict[str, Any]:
        found = await run_in_threadpool(_ticket_files, hub, ticket_id)
        if found is None:
            raise ApiError(404, "not_found", f"no ticket {ticket_id}", "ticket_id")
        order_id, photos = found
        act = permits(p, "orders:act")
        approve = _route_permission(request, APPROVE_PATH, "exceptions:act")
        return {
            "ticket_id": ticket_id,
            "order_id": order_id,
            "can": {
                "act": act,
                "inspect": permits(p, _route_permission(request, INSPECTION_PATH, "orders:act")),
                "approve_compensation": permits(p, approve),
                "read_compensations": permits(p, "exceptions:read"),
                "view_photos": permits(p, "tickets:read"),
            },
            "actions": list(ORDER_ACTIONS) if act and order_id else [],
            "photos": photos,
        }


def _tickets(router: APIRouter, hub: Hub, cs: ChatFeature) -> None:
    desk, chat = cs.desk, cs.chat

    @router.get(
        "/v1/tickets",
        summary="The CS queue: live chats waiting for a person first, then by SLA due time; filters, "
        "search (ticket, order, tracking no., phone, e-mail), paging and counts per view",
    )
    async def list_tickets(
        _p: ReadDep,
        status: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        order_id: str | None = None,
        channel: str | None = None,
        breached: bool = False,
        q: Annotated[str | None, Query(max_length=64)] = None,
        limit_: Annotated[int, Query(alias="limit", ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        if status is not None and status not in (*STATUSES, "all"):
            raise ApiError(400, "invalid_field", f"status: one of {', '.join(STATUSES)}, all", "status")
        if priority is not None and priority not in PRIORITIES:
            raise ApiError(400, "invalid_field", f"priority: one of {', '.join(PRIORITIES)}", "priority")
        return await run_in_threadpool(
            queue.queue_page,
            hub,
            status=status,
            assignee=assignee,
            priority=priority,
            order_id=order_id,
            channel=channel,
            breached=breached,
            q=q,
            limit=limit_,
            offset=offset,
        )

    @router.post("/v1/tickets", status_code=201, summary="Open a ticket (API channel)")
    async def create_ticket(body: TicketIn, _p: ActDep) -> dict[str, Any]:
        if body.order_id and not await run_in_threadpool(queue.order_exists, hub, body.order_id):
            raise ApiError(404, "not_found", f"order_id: no order {body.order_id}", "order_id")
        tid = await run_in_threadpool(
            lambda: desk.create_ticket(
                channel=body.channel,
                subject=body.subject,
                text=body.text,
                order_id=body.order_id,
                priority=body.priority,
            )
        )
        return {"id": tid}

    @router.get(
        "/v1/tickets/{ticket_id}",
        summary="One ticket with the customer's orders, timelines, notices, claims and past conversations",
    )
    async def get_ticket(ticket_id: int, p: ReadDep) -> dict[str, Any]:
        level = PII_VIEW.get(p.role, "none")
        try:
            out = await run_in_threadpool(queue.ticket_view, hub, desk, ticket_id, p, level)
        except TicketNotFound:
            raise ApiError(404, "not_found", f"no ticket {ticket_id}", "ticket_id") from None
        out["can_relabel"] = permits(p, RELABEL_PERMISSION)  # the desk page shows the VOC control by it
        return out

    @router.get("/v1/tickets/{ticket_id}/suggested-reply", summary="A draft answer from the bot")
    async def suggested(ticket_id: int, _p: ReadDep) -> dict[str, Any]:
        try:
            text = await run_in_threadpool(lambda: chat.suggest_reply(desk.get(ticket_id)))
        except TicketNotFound:
            raise ApiError(404, "not_found", f"no ticket {ticket_id}", "ticket_id") from None
        return {"text": text}

    @router.post("/v1/tickets/{ticket_id}/replies", summary="Reply to the customer (or add an internal note)")
    async def reply(ticket_id: int, body: ReplyIn, p: ActDep) -> dict[str, Any]:
        return await _act(
            desk.reply,
            ticket_id,
            p.name,
            body.text,
            by="agent",
            wait_for_customer=body.wait_for_customer,
            note=body.note,
        )

    @router.post("/v1/tickets/{ticket_id}/resolve", summary="Resolve; sends the CSAT survey")
    async def resolve(ticket_id: int, p: ActDep) -> dict[str, Any]:
        return await _act(desk.resolve, ticket_id, p.name)

    @router.post("/v1/tickets/{ticket_id}/assign", summary="Assign or change priority")
    async def assign(ticket_id: int, body: AssignIn, _p: ActDep) -> dict[str, Any]:
        await _act(desk.assign, ticket_id, body.assignee, body.priority)
        return {"id": ticket_id, "assignee": body.assignee}

    @router.patch(
        "/v1/tickets/{ticket_id}/voc",
        summary="Relabel a ticket's VOC category (CS lead; audited; feeds the next VOC training round)",
    )
    async def relabel(ticket_id: int, body: VocIn, request: Request, p: RelabelDep) -> dict[str, Any]:
        ip = client_ip(request)

        def run() -> dict[str, Any]:
            now = hub.clock.now()
            with hub.db.write() as conn:
                out = voc_relabel.relabel_ticket(conn, ticket_id, body.category, p.name, now)
            # The KPIs are computed from canonical events: the new category is one, so /v1/kpis and the
            # monthly report count what the lead decided, as the desk does.
            voc_relabel.emit_recategorized(hub, desk.get(ticket_id), out["voc_category"], now)
            details = {"from": out["previous"], "to": out["voc_category"]}
            hub.audit.record(p, "ticket.voc_relabelled", f"ticket:{ticket_id}", details, ip)
            return out

        return await _act(run)

    @router.post("/v1/tickets/{ticket_id}/handback", summary="Give a chat back to the bot")
    async def handback(ticket_id: int, p: ActDep) -> dict[str, Any]:
        await _act(desk.handback, ticket_id, p.name)
        return {"id": ticket_id, "state": "bot"}


def _faq_and_metrics(router: APIRouter, hub: Hub, cs: ChatFeature) -> None:
    chat = cs.chat

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
        tz = ZoneInfo(hub.settings.tz)
        day = _parse_day(week, "week") or hub.clock.now().astimezone(tz).date()
        start_day = day - timedelta(days=day.weekday())
        start = datetime.combine(start_day, dtime.min, tz)

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
        d_from = _parse_day(from_, "from") or today.replace(day=1)  # the dashboard's default: month to date
        d_to = _parse_day(to, "to") or today
        if d_to < d_from:
            raise ApiError(400, "invalid_field", "to: must not be before from", "to")
        start = datetime.combine(d_from, dtime.min, tz)
        end = datetime.combine(d_to + timedelta(days=1), dtime.min, tz)

        def run() -> dict[str, Any]:
            # The rates the dashboard shows for the same days come from the one KPI definition.
            kpis = (
                hub.kpi.engine.compute(
                    d_from, d_to, "month", None, hub.settings.tz, list(cs_metrics.KPI_RATES.values())
                )["kpis"]
                if hub.kpi is not None
                else None
            )
            with hub.db.read() as conn:
                return {
                    "from": d_from.isoformat(),
                    "to": d_to.isoformat(),
                    **cs_metrics.summary(conn, start, end, kpis),
                }

        return await run_in_threadpool(run)
