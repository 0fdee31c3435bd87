"""Inbound e-mail to the CS desk: every received message becomes a ticket, or joins the ticket whose
[#id] its subject quotes. The SMTP server (aiosmtpd) runs only when DELIVERYHUB_INBOUND_SMTP_PORT is set."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from typing import Any, Protocol

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import Desk, TicketNotFound

log = structlog.get_logger(__name__)

_ORDER_RX = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2,5}-\d{4}-\d{3,10}|[A-Za-z]{2,5}-?\d{6,14}|(?:19|20)\d{6}-\d{4,10})"
    r"(?![A-Za-z0-9])"
)


class SmtpServer(Protocol):
    """A running inbound mail server."""

    def stop(self) -> None: ...


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


def ticket_from_email(desk: Desk, sender: str, subject: str, body: str, message_id: str | None) -> int:
    """A received e-mail becomes a ticket; a reply quoting [#id] in the subject joins that ticket."""
    m = re.search(r"\[#(\d+)\]", subject or "")
    if m:
        try:
            desk.customer_message(int(m.group(1)), body)
            return int(m.group(1))
        except TicketNotFound:
            pass
    order_id = _order_id_in(f"{subject}\n{body}")
    ref = f"mail:{message_id}" if message_id else None
    with desk.core.db.read() as conn:
        if order_id and (
            conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)).first()
            is None
        ):
            order_id = None
        existing = (
            conn.execute(sa.select(ct.tickets.c.id).where(ct.tickets.c.source_ref == ref)).scalar()
            if ref
            else None
        )
    if existing:
        return int(existing)
    return desk.create_ticket(
        channel="email",
        subject=subject or "(제목 없음)",
        text=body,
        order_id=order_id,
        source_ref=ref,
        requester=sender,
        priority="normal",
    )


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
            ticket_from_email,
            self.desk,
            sender,
            subject,
            body.strip()[:20000],
            str(msg.get("Message-ID") or "") or None,
        )
        log.info("cs_mail_ticket", ticket_id=tid)
        return "250 Message accepted for delivery"


def start_inbound_smtp(desk: Desk, port: int, host: str = "127.0.0.1") -> SmtpServer:
    """Start the inbound SMTP server (aiosmtpd Controller) and return it (call .stop() to end)."""
    from aiosmtpd.controller import Controller

    controller = Controller(InboundMailHandler(desk), hostname=host, port=port)
    controller.start()
    return controller  # type: ignore[no-any-return]
