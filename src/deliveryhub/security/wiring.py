"""Plugs security into the hub: the audit trail (core.audit), rate limits, sessions, erasure and jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.logs import configure_logging
from deliveryhub.pii import dlp
from deliveryhub.security import erasure, users
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import AuditLog, audit_key, store_review
from deliveryhub.security.ratelimit import RateLimits
from deliveryhub.security.retention import audit_retention_days, pii_retention_days, retention_job
from deliveryhub.security.rotation import install_refresher, resume_job
from deliveryhub.security.tables import audit_reviews
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert
from deliveryhub.service_layer.scheduler import Job


@dataclass
class SecurityFeature:
    """What the rest of the hub uses of security (bootstrap puts it on `Hub.security`)."""

    core: Core
    audit: AuditLog  # also core.audit, the AuditTrail port
    limits: RateLimits

    def session_principal(self, token: str) -> Principal | None:
        """The staff member of a live session token (bearer or cookie), or None."""
        return users.session_principal(self.core, token)

    def find_customer(self, *, phone: str | None = None, email: str | None = None) -> str | None:
        """A customer id by phone or e-mail through the blind index (nothing decrypted)."""
        return erasure.find_customer(self.core, phone=phone, email=email)

    def erase_customer(
        self, customer_id: str, actor: object, reason: str, ip: str | None = None
    ) -> dict[str, Any]:
        """Crypto-shred one customer (audited); raises erasure.NotFound for an unknown id."""
        return erasure.erase_customer(self.core, customer_id, actor, reason, ip)

    def mask_text(self, text: str) -> str:
        """`text` with personal data (phones, e-mails, addresses, names by role words) masked."""
        return dlp.mask_text(text) or ""


def register(core: Core) -> SecurityFeature:
    """Check the retention settings, build the audit trail and limits, add the security jobs."""
    audit_retention_days(core)  # fail closed on retention settings below the legal minimum
    pii_retention_days(core)
    feature = SecurityFeature(
        core=core,
        audit=AuditLog(core.db, audit_key(core), core.clock.now),
        limits=RateLimits.from_settings(core.settings),
    )
    install_refresher(core)
    core.jobs.append(Job("security_retention", 3600, retention_job(core)))
    core.jobs.append(Job("key_rotation_resume", 300, resume_job(core)))
    core.jobs.append(Job("audit_monthly_review", 3600, monthly_review_job(core)))
    configure_log_masking()
    return feature


def monthly_review_job(core: Core) -> Callable[[datetime], None]:
    """On the first run of each month: review last month's access log; alert ops when users are flagged."""

    def run(now: datetime) -> None:
        local = now.astimezone(ZoneInfo(core.settings.tz))
        month = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        with core.db.read() as conn:
            done = conn.execute(
                sa.select(audit_reviews.c.month).where(audit_reviews.c.month == month)
            ).first()
        if done is not None:
            return
        report = store_review(core, month)
        if report["flagged"]:
            core.ops_alerts.notify_ops(
                OpsAlert(
                    "audit_review",
                    f"audit_review:{month}",
                    f"[deliveryhub] 개인정보 접속기록 점검 {month}: 이상 {len(report['flagged'])}명",
                    "Unusual personal-data access volumes were flagged; see GET /v1/audit/review?month="
                    + month,
                    {"month": month, "flagged": report["flagged"]},
                )
            )

    return run


def configure_log_masking() -> None:
    """Structured and stdlib logs carry no personal data and no secrets, and tracebacks no locals."""
    configure_logging([dlp.structlog_processor])
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, dlp.PiiLogFilter) for f in handler.filters):
            handler.addFilter(dlp.PiiLogFilter())
