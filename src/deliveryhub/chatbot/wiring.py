"""Plug the CS feature into the hub: chat and desk routes, pages, the cs_desk consumer, the cs.sla job,
the tickets order section, and the inbound SMTP server (when DELIVERYHUB_INBOUND_SMTP_PORT is set)."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import CsConfig, Desk, start_inbound_smtp

log = structlog.get_logger(__name__)


def config_from_env(config_file: Any = None) -> CsConfig:
    """CS settings: defaults, then the config file's `chatbot:` section (checked, refused with its line),
    then environment variables. The LLM rephrasing backend is off unless a URL is configured."""
    from deliveryhub.chatbot.config import apply, load_section

    cfg = apply(CsConfig(), load_section(config_file))
    cfg.llm_url = os.environ.get("DELIVERYHUB_CHAT_LLM_URL") or cfg.llm_url
    cfg.llm_model = os.environ.get("DELIVERYHUB_CHAT_LLM_MODEL", cfg.llm_model)
    cfg.llm_api_key = os.environ.get("DELIVERYHUB_CHAT_LLM_KEY") or cfg.llm_api_key
    if os.environ.get("DELIVERYHUB_CS_AUTO_APPROVAL_AMOUNT"):
        cfg.auto_approval_amount = float(os.environ["DELIVERYHUB_CS_AUTO_APPROVAL_AMOUNT"])
    business_hours_env = os.environ.get("DELIVERYHUB_CS_BUSINESS_HOURS", "").lower() in ("1", "true", "yes")
    if business_hours_env and cfg.business_hours is None:
        from deliveryhub.chatbot.desk import BusinessHours

        cfg.business_hours = BusinessHours()
    return cfg


def tickets_section(conn: Any, order_id: str, _principal: Any) -> list[dict[str, Any]]:
    """hub.order_sections['tickets']: the order's tickets (no personal data)."""
    rows = conn.execute(
        sa.select(
            ct.tickets.c.id,
            ct.tickets.c.created_at,
            ct.tickets.c.channel,
            ct.tickets.c.subject,
            ct.tickets.c.status,
            ct.tickets.c.priority,
            ct.tickets.c.voc_category,
            ct.tickets.c.resolved_at,
        )
        .where(ct.tickets.c.order_id == order_id)
        .order_by(ct.tickets.c.id)
    ).all()
    return [
        {
            "id": r.id,
            "created_at": r.created_at.isoformat(),
            "channel": r.channel,
            "subject": r.subject,
            "status": r.status,
            "priority": r.priority,
            "voc_category": r.voc_category,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        }
        for r in rows
    ]


def register(hub: Any) -> None:
    """Wire the chatbot and the CS desk."""
    from deliveryhub.chatbot import api, faq, identity, uploads, web
    from deliveryhub.chatbot.dialogue import ChatService

    config = config_from_env(getattr(hub.settings, "config_file", None))
    # Per-IP chat limits follow the hub's general API rate limit (the security middleware applies it too).
    config.ip_messages_per_minute = max(
        config.ip_messages_per_minute, int(hub.settings.rate_limit_per_minute)
    )
    config.ip_sessions_per_minute = max(
        config.ip_sessions_per_minute, int(hub.settings.rate_limit_per_minute) // 5
    )
    desk = Desk(hub, config)
    chat = ChatService(hub, desk, config)
    hub.services["cs_config"] = config
    hub.services["cs_desk"] = desk
    # No `customer_verified` service: a customer's chat verification never unmasks contact data for staff
    # (an agent could pass it in the public chat), so cs_agents see masked data (orders router fallback).
    hub.services["chat"] = chat
    # Chat photos are deleted with the customer (erasure) and by retention (security/{erasure,retention}.py).
    hub.services["purge_chat_uploads"] = lambda conn, cid: uploads.purge_customer(conn, hub, cid)
    hub.services["purge_expired_chat_uploads"] = lambda now: (
        uploads.purge_expired(hub, now),
        identity.prune(hub, now),  # stale verification counters go with the same daily run
    )
    hub.consumers.append(desk.consumer())
    hub.jobs.append(desk.sla_job())
    hub.routers.append(api.build_router(hub, desk, chat))
    hub.routers.append(web.build_router())
    hub.order_sections["tickets"] = tickets_section
    try:
        faq.sync_file(hub.db, hub.clock.now())
    except Exception as exc:  # a database without the CS tables yet (migrate=False) must still start
        log.warning("faq_sync_failed", error=str(exc)[:200])

    def start_smtp() -> None:
        port = os.environ.get("DELIVERYHUB_INBOUND_SMTP_PORT")
        if port and "cs_smtp" not in hub.services:
            host = os.environ.get("DELIVERYHUB_INBOUND_SMTP_HOST", "127.0.0.1")
            hub.services["cs_smtp"] = start_inbound_smtp(desk, int(port), host)
            log.info("cs_inbound_smtp_started", host=host, port=port)

    hub.on_start.append(start_smtp)
