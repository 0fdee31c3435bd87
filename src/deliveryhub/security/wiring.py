"""Plugs security into the hub: audit services, session/cookie authentication, guards, jobs, routes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.logs import configure_logging
from deliveryhub.pii import dlp
from deliveryhub.security import routes, web
from deliveryhub.security.audit import AuditLog, audit_key, store_review
from deliveryhub.security.erasure import erase_customer, find_customer
from deliveryhub.security.ratelimit import enforce
from deliveryhub.security.retention import audit_retention_days, pii_retention_days, retention_job
from deliveryhub.security.rotation import install_refresher, resume_job
from deliveryhub.security.tables import audit_reviews
from deliveryhub.service_layer.scheduler import Job


def register(hub: Any) -> None:
    """Register services, middleware, routes and jobs of the security feature."""
    audit_retention_days(hub)  # fail closed on retention settings below the legal minimum
    pii_retention_days(hub)
    log = AuditLog(hub.db, audit_key(hub), hub.clock.now)
    guards = web.Guards(hub.settings)

    def audit(
        actor: Any,
        action: str,
        target: str | None,
        details: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        log.record(actor, action, target, details, ip)

    def pii_read(principal: Any, customer_id: str | None, fields: Any, why: str) -> None:
        log.record(
            principal,
            "pii.read",
            f"customer:{customer_id}",
            {"fields": sorted(str(f) for f in fields), "why": why, "role": getattr(principal, "role", None)},
        )

    def rate_limit(kind: str, key: str) -> None:
        bucket = {"login": guards.login_ip, "chat": guards.chat_ip, "chat_key": guards.chat_key}[kind]
        enforce(bucket, key, kind)

    hub.services.update(
        {
            "audit_log": log,
            "audit": audit,
            "pii_read": pii_read,
            "security_guards": guards,
            "rate_limit": rate_limit,
            "session_auth": web.make_session_auth(hub),
            "cookie_auth": web.make_cookie_auth(hub),
            "csrf_ok": web.csrf_ok,
            "erase_customer": lambda customer_id, actor, reason, ip=None: erase_customer(
                hub, customer_id, actor, reason, ip
            ),
            "find_customer": lambda phone=None, email=None: find_customer(hub, phone=phone, email=email),
            "mask_text": dlp.mask_text,
        }
    )
    hub.services.setdefault("asgi_middleware", []).append((web.SecurityMiddleware, {"hub": hub}))
    install_refresher(hub)
    hub.routers.append(web.build_router(hub))
    hub.routers.append(routes.build_router(hub))
    hub.jobs.append(Job("security_retention", 3600, retention_job(hub)))
    hub.jobs.append(Job("key_rotation_resume", 300, resume_job(hub)))
    hub.jobs.append(Job("audit_monthly_review", 3600, monthly_review_job(hub)))
    configure_log_masking()


def monthly_review_job(hub: Any) -> Any:
    """On the first run of each month: review last month's access log; alert ops when users are flagged."""

    def run(now: datetime) -> None:
        local = now.astimezone(ZoneInfo(hub.settings.tz))
        month = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        with hub.db.read() as conn:
            done = conn.execute(
                sa.select(audit_reviews.c.month).where(audit_reviews.c.month == month)
            ).first()
        if done is not None:
            return
        report = store_review(hub, month)
        notify = hub.services.get("notify_ops")
        if report["flagged"] and notify is not None:
            notify(
                "audit_review",
                f"audit_review:{month}",
                f"[deliveryhub] 개인정보 접속기록 점검 {month}: 이상 {len(report['flagged'])}명",
                "Unusual personal-data access volumes were flagged; see GET /v1/audit/review?month=" + month,
                {"month": month, "flagged": report["flagged"]},
            )

    return run


def configure_log_masking() -> None:
    """Structured and stdlib logs carry no personal data and no secrets, and tracebacks no locals."""
    configure_logging([dlp.structlog_processor])
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, dlp.PiiLogFilter) for f in handler.filters):
            handler.addFilter(dlp.PiiLogFilter())
