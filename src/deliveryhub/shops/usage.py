"""Per-shop usage for billing and fair use: events accepted, notices sent and chats opened this month."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot.tables import chat_sessions
from deliveryhub.notifications.tables import notification_jobs

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core


def usage_of(hub: Core, now: datetime) -> dict[str, int | str]:
    """This month's counts in the shop's own time zone: events, notices sent, chat sessions."""
    local = now.astimezone(ZoneInfo(hub.settings.tz))
    since = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with hub.db.read() as conn:
        events = conn.execute(sa.select(sa.func.count()).where(t.inbox.c.received_at >= since)).scalar_one()
        notices = conn.execute(
            # handed to a channel this month, whatever happened next (sent, delivered, or a failed receipt)
            sa.select(sa.func.count()).where(notification_jobs.c.sent_at >= since)
        ).scalar_one()
        chats = conn.execute(
            sa.select(sa.func.count()).where(chat_sessions.c.created_at >= since)
        ).scalar_one()
    return {"since": since.isoformat(), "events": int(events), "notices": int(notices), "chats": int(chats)}
