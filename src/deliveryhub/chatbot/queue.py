"""What the desk shows: the queue (waiting live chats first, then by SLA due time; filters, search,
pages and counts per view), the one screen of a ticket (conversation, customer, orders with timelines, claims,
past conversations) and an order's tickets."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import Desk
from deliveryhub.chatbot.relabel import history as voc_history
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.hub import Core
from deliveryhub.views.orders import audit_customer_shown, customer_view, order_detail
from deliveryhub.views.search import clean_query, search_orders


def ticket_brief(r: Any) -> dict[str, Any]:
    """A ticket as a queue row (no personal data)."""
    return {
        "id": r.id,
        "canonical_id": r.canonical_id,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
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
        "first_response_at": iso(r.first_response_at),
        "resolved_at": iso(r.resolved_at),
        "first_due": iso(r.first_due),
        "next_due": iso(r.next_due),
        "resolve_due": iso(r.resolve_due),
        "awaiting_reply_since": iso(r.awaiting_reply_since),
        "sla_missed": list(r.sla_missed or []),
        "customer_verified": bool(r.customer_verified),
        "requester": r.requester_masked,
    }


def due_at() -> Any:
    """The SLA clock a ticket is on now: first response until answered, then next reply or resolution."""
    tk = ct.tickets.c
    return sa.case(
        (tk.first_response_at.is_(None), tk.first_due), else_=sa.func.coalesce(tk.next_due, tk.resolve_due)
    )


def waiting_chat() -> Any:
    """A live chat handed to a person (not given back to the bot) and waiting for their answer."""
    tk, cs = ct.tickets.c, ct.chat_sessions.c
    live = sa.exists().where(cs.session_id == tk.session_id, cs.state == "handed_off")
    return sa.and_(tk.channel == "chat", tk.status != "solved", tk.awaiting_reply_since.is_not(None), live)


def breached(now: Any) -> Any:
    """Tickets past an SLA due time: an open clock already run out, or a breach recorded."""
    tk = ct.tickets.c
    missed = sa.cast(tk.sla_missed, sa.Text)
    return sa.or_(
        sa.and_(tk.status != "solved", sa.or_(due_at() < now, tk.resolve_due < now)),
        sa.and_(tk.sla_missed.is_not(None), missed.not_in(["[]", "null"])),
    )


def _search(conn: Connection, core: Core, q: str) -> Any:
    """Tickets matching `q`: ticket number, order number, tracking number or marketplace number (through
    the ops order search), or the customer's phone or e-mail through the blind index (nothing decrypted)."""
    tk = ct.tickets.c
    text = clean_query(q)
    conds: list[Any] = []
    digits = text.lstrip("#")
    if digits.isdigit() and len(digits) <= 12:
        conds.append(tk.id == int(digits))
    order_ids = [o["order_id"] for o in search_orders(conn, core.keyring, text, limit=200)]
    if order_ids:
        conds.append(tk.order_id.in_(order_ids))
    compact = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    people = t.customers.c
    if "@" in text:
        who = people.email_bidx == core.keyring.blind.email(text)
        conds.append(tk.customer_id.in_(sa.select(people.customer_id).where(who)))
    elif len(compact) >= 9:
        who = people.phone_bidx == core.keyring.blind.phone(compact)
        conds.append(tk.customer_id.in_(sa.select(people.customer_id).where(who)))
    return sa.or_(*conds) if conds else sa.false()


def _filters(conn: Connection, core: Core, f: dict[str, Any], now: Any) -> list[Any]:
    tk = ct.tickets.c
    conds: list[Any] = []
    for name in ("assignee", "priority", "order_id", "channel"):
        if f.get(name):
            conds.append(getattr(tk, name) == f[name])
    if f.get("breached"):
        conds.append(breached(now))
    if f.get("q"):
        conds.append(_search(conn, core, f["q"]))
    return conds


def _status(status: str | None) -> list[Any]:
    tk = ct.tickets.c
    if status == "all":
        return []
    return [tk.status == status] if status else [tk.status != "solved"]


def queue_page(
    core: Core,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
    **filters: Any,
) -> dict[str, Any]:
    """One page of the queue with its total and the counts per view. Unsolved tickets (or those of
    `status`, "all" for every one): live chats waiting for a person first, then by SLA due time.
    Filters: assignee, priority, order_id, channel, breached (bool), q (ticket/order/tracking no., phone,
    e-mail)."""
    tk = ct.tickets
    now = core.clock.now()
    with core.db.read() as conn:
        conds = _filters(conn, core, filters, now)
        where = [*conds, *_status(status)]
        first = sa.case((waiting_chat(), 0), else_=1)
        q = (
            sa.select(tk)
            .where(*where)
            .order_by(first, due_at().is_(None), due_at(), tk.c.priority_rank, tk.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = [ticket_brief(r) for r in conn.execute(q)]
        total = conn.execute(sa.select(sa.func.count()).select_from(tk).where(*where)).scalar_one()
        n = sa.func.count
        open_ = tk.c.status != "solved"
        c = conn.execute(
            sa.select(
                n().filter(open_).label("open"),
                n().filter(tk.c.status == "pending").label("pending"),
                n().filter(tk.c.status == "solved").label("solved"),
                n().filter(waiting_chat()).label("waiting_chat"),
                n().filter(sa.and_(open_, breached(now))).label("breached"),
                n().filter(sa.and_(open_, tk.c.assignee.is_(None))).label("unassigned"),
            ).where(*conds)
        ).one()
    return {"tickets": rows, "total": total, "offset": offset, "limit": limit, "counts": dict(c._mapping)}


def list_tickets(core: Core, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    """The queue as a list (see `queue_page`)."""
    return list(queue_page(core, limit=limit, **filters)["tickets"])


def order_exists(core: Core, order_id: str) -> bool:
    """Whether the hub knows the order."""
    with core.db.read() as conn:
        found = conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)).first()
    return found is not None


def order_tickets(conn: Connection, order_id: str, _principal: Any) -> list[dict[str, Any]]:
    """The `tickets` order section: the order's tickets (no personal data)."""
    rows = conn.execute(
        sa.select(
            *columns(
                ct.tickets,
                "id",
                "created_at",
                "channel",
                "subject",
                "status",
                "priority",
                "voc_category",
                "resolved_at",
            )
        )
        .where(ct.tickets.c.order_id == order_id)
        .order_by(ct.tickets.c.id)
    ).all()
    return [
        {
            "id": r.id,
            "created_at": iso(r.created_at),
            "channel": r.channel,
            "subject": r.subject,
            "status": r.status,
            "priority": r.priority,
            "voc_category": r.voc_category,
            "resolved_at": iso(r.resolved_at),
        }
        for r in rows
    ]


def _messages(conn: Connection, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messages": [
            {"id": m.id, "at": iso(m.at), "author_kind": m.author_kind, "author": m.author, "text": m.text}
            for m in conn.execute(
                sa.select(ct.ticket_messages)
                .where(ct.ticket_messages.c.ticket_id == row.id)
                .order_by(ct.ticket_messages.c.id)
            )
        ]
    }
    if row.session_id:
        out["chat"] = [
            {"id": m.id, "at": iso(m.at), "role": m.role, "text": m.text, "intent": m.intent}
            for m in conn.execute(
                sa.select(ct.chat_messages)
                .where(ct.chat_messages.c.session_id == row.session_id)
                .order_by(ct.chat_messages.c.id)
            )
        ]
    return out


def _orders(core: Core, conn: Connection, order_ids: list[str], principal: Any) -> list[dict[str, Any]]:
    orders = []
    for oid in order_ids:
        d = order_detail(conn, oid)
        if d is None:
            continue
        d.pop("customer_id", None)
        d.pop("events", None)
        for name, section in core.order_sections.items():
            if name == "tickets":
                continue
            try:
                d[name] = section(conn, oid, principal)
            except Exception as exc:  # another feature's section must not break the desk
                d[name] = {"error": str(exc)[:200]}
        orders.append(d)
    return orders


def _claims(conn: Connection, order_ids: list[str]) -> list[dict[str, Any]]:
    if not order_ids:
        return []
    return [
        {
            "order_id": r.order_id,
            "occurred_at": iso(r.occurred_at),
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


def _history(conn: Connection, ticket_id: int, customer_id: str | None, order_ids: list[str]) -> list[Any]:
    conds = []
    if customer_id:
        conds.append(ct.tickets.c.customer_id == customer_id)
    if order_ids:
        conds.append(ct.tickets.c.order_id.in_(order_ids))
    if not conds:
        return []
    past = conn.execute(
        sa.select(ct.tickets)
        .where(ct.tickets.c.id != ticket_id, sa.or_(*conds))
        .order_by(ct.tickets.c.id.desc())
        .limit(20)
    ).all()
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
                "messages": [{"at": iso(m.at), "author_kind": m.author_kind, "text": m.text} for m in msgs],
            }
        )
    return history


def ticket_view(core: Core, desk: Desk, ticket_id: int, principal: Any, level: str) -> dict[str, Any]:
    """The one screen: ticket, conversation, customer (at personal-data visibility `level`), orders with
    timelines, notices, claims and past conversations. Raises TicketNotFound."""
    if level == "masked_until_verified":
        # A chat verification proves nothing about the agent (an agent could pass it in the public chat),
        # so it never unmasks contact data for staff.
        level = "masked"
    with core.db.read() as conn:
        row = desk.get(ticket_id, conn)
        out = ticket_brief(row)
        out["summary"] = row.summary
        out["voc_relabels"] = voc_history(conn, ticket_id)
        out.update(_messages(conn, row))
        customer_id = row.customer_id
        if customer_id is None and row.order_id:
            customer_id = conn.execute(
                sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == row.order_id)
            ).scalar()
        out["customer"] = customer_view(conn, core.keyring, customer_id, level) if customer_id else None
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
        out["orders"] = _orders(core, conn, order_ids, principal)
        out["claims"] = _claims(conn, order_ids)
        out["past_conversations"] = _history(conn, ticket_id, customer_id, order_ids)
    audit_customer_shown(core.audit, principal, out.get("customer"), level, f"GET /v1/tickets/{ticket_id}")
    return out
