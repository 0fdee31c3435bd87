"""Delivery receipts: the `notifications.receipts` job asks the 알림톡 provider for the final receipt of
messages it accepted in the last day (accepted is not yet delivered)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from deliveryhub.adapters.channels.base import SendResult
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.notifications.channels import Channels
from deliveryhub.notifications.jobrows import finish, record_receipt
from deliveryhub.notifications.tables import notification_jobs as jobs_t


def poll_receipts(db: Database, channels: Channels, now: datetime, batch: int) -> int:
    """Final receipts of sent 알림톡 messages; how many jobs got one."""
    kakao = channels.customer.get("kakao")
    query = getattr(kakao, "delivery_status", None)
    if query is None:
        return 0
    with db.read() as conn:
        rows = conn.execute(
            sa.select(jobs_t)
            .where(
                jobs_t.c.status == "sent",
                jobs_t.c.channel == "kakao",
                jobs_t.c.provider_message_id.is_not(None),
                jobs_t.c.sent_at > now - timedelta(hours=24),
            )
            .order_by(jobs_t.c.id)
            .limit(batch)
        ).all()
    done = 0
    for job in rows:
        status = query(job.provider_message_id)
        if status is None:
            continue
        result = SendResult(
            ok=status == "delivered",
            provider=getattr(kakao, "provider", "nhn-alimtalk"),
            status=status,
            message_id=job.provider_message_id,
            error=None if status == "delivered" else "provider reported failure",
        )
        record_receipt(db, job, job.attempts, "kakao", result, now)
        # A provider-side failure after acceptance stays visible as `failed` (counts as not delivered).
        finish(
            db,
            job,
            status=status,
            delivered_at=now if status == "delivered" else None,
            last_error=result.error,
        )
        done += 1
    return done
