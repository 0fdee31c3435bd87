"""Plug the CS feature into the hub: the desk and the chatbot (returned as `ChatFeature`, the typed handle
bootstrap puts on `Hub.chat`, carrying the CustomerFiles and ClaimHolds providers bootstrap points Core
at), the cs_desk consumer, the cs.sla job, the tickets order section, and the inbound SMTP server (when
DELIVERYHUB_INBOUND_SMTP_PORT is set). The HTTP routes are in entrypoints/api/routers/{chat,desk}.py,
the pages in entrypoints/web/chat.py."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import structlog

from deliveryhub.chatbot import faq
from deliveryhub.chatbot.claims import ClaimIntake, OpenClaims
from deliveryhub.chatbot.desk import Desk
from deliveryhub.chatbot.dialogue import ChatService
from deliveryhub.chatbot.mail import SmtpServer, start_inbound_smtp
from deliveryhub.chatbot.queue import order_tickets
from deliveryhub.chatbot.session import Rephraser
from deliveryhub.chatbot.settings import BusinessHours, CsConfig
from deliveryhub.chatbot.sla import SlaRules
from deliveryhub.chatbot.uploads import ChatFiles, UploadStore
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)


@dataclass
class ChatFeature:
    """The CS feature on a wired hub: the desk, the chatbot, their settings, the photo store, the port
    providers and the inbound mail server once it runs."""

    desk: Desk
    chat: ChatService
    config: CsConfig
    uploads: UploadStore
    files: ChatFiles  # the core.customer_files provider
    claims: OpenClaims  # the core.claim_holds provider
    smtp: SmtpServer | None = None


def config_from_env(config_file: Path | str | None = None) -> CsConfig:
    """CS settings: defaults, then the config file's `chatbot:` section (checked, refused with its line),
    then environment variables. The LLM rephrasing backend is off unless a URL is configured."""
    from deliveryhub.chatbot.config import apply, load_section, shop_closed_days

    cfg = apply(CsConfig(), load_section(config_file), shop_closed_days(config_file))
    cfg.llm_url = os.environ.get("DELIVERYHUB_CHAT_LLM_URL") or cfg.llm_url
    cfg.llm_model = os.environ.get("DELIVERYHUB_CHAT_LLM_MODEL", cfg.llm_model)
    cfg.llm_api_key = os.environ.get("DELIVERYHUB_CHAT_LLM_KEY") or cfg.llm_api_key
    if os.environ.get("DELIVERYHUB_CS_AUTO_APPROVAL_AMOUNT"):
        cfg.auto_approval_amount = float(os.environ["DELIVERYHUB_CS_AUTO_APPROVAL_AMOUNT"])
    business_hours_env = os.environ.get("DELIVERYHUB_CS_BUSINESS_HOURS", "").lower() in ("1", "true", "yes")
    if business_hours_env and cfg.business_hours is None:
        cfg.business_hours = BusinessHours()
    return cfg


def rephraser_for(config: CsConfig) -> Rephraser | None:
    """The LLM rephraser when configured (off by default)."""
    if not config.llm_url:
        return None
    from deliveryhub.adapters.llm.rephraser import OpenAiRephraser

    return OpenAiRephraser(config.llm_url, config.llm_model, config.llm_api_key, config.llm_timeout)


def register(core: Core) -> ChatFeature:
    """Wire the chatbot and the CS desk; returns the handle for `Hub.chat`."""
    config = config_from_env(getattr(core.settings, "config_file", None))
    # Per-IP chat limits follow the hub's general API rate limit (the security middleware applies it too).
    config.ip_messages_per_minute = max(
        config.ip_messages_per_minute, int(core.settings.rate_limit_per_minute)
    )
    config.ip_sessions_per_minute = max(
        config.ip_sessions_per_minute, int(core.settings.rate_limit_per_minute) // 5
    )
    desk = Desk(core, config)
    feature = ChatFeature(
        desk=desk,
        chat=ChatService(core, desk, config, rephraser=rephraser_for(config)),
        config=config,
        uploads=UploadStore(core),
        files=ChatFiles(core),  # erasure and retention delete chat photos
        claims=OpenClaims(),  # retention keeps customers the desk still has a ticket open for
    )
    # No customer-verification port: a customer's chat verification never unmasks contact data for staff
    # (an agent could pass it in the public chat), so cs_agents see masked data.
    core.consumers.append(ClaimIntake(desk).consumer())
    core.jobs.append(SlaRules(core, config).job())
    core.order_sections["tickets"] = order_tickets
    try:
        faq.sync_file(core.db, core.clock.now())
    except Exception as exc:  # a database without the CS tables yet (migrate=False) must still start
        log.warning("faq_sync_failed", error=str(exc)[:200])

    def start_smtp() -> None:
        port = os.environ.get("DELIVERYHUB_INBOUND_SMTP_PORT")
        if port and feature.smtp is None:
            host = os.environ.get("DELIVERYHUB_INBOUND_SMTP_HOST", "127.0.0.1")
            feature.smtp = start_inbound_smtp(desk, int(port), host)
            log.info("cs_inbound_smtp_started", host=host, port=port)

    core.on_start.append(start_smtp)
    return feature
