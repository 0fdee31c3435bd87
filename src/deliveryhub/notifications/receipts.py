"""Delivery receipts: the final word of the provider on a message it accepted (accepted is not yet
delivered), polled by the `notifications.receipts` job or pushed by the provider's report webhook
(SOLAPI). Both go through `apply_receipt`, so a receipt has the same effect however it arrived:

- delivered: the job becomes `delivered`;
- failed 알림톡: the job is queued again for its SMS fallback (when the job allows SMS, an SMS channel is
  configured and the provider does not re-send as SMS itself); the sender sends it like any other job
  (opt-out, quiet hours, retries), marked `fallback`;
- failed otherwise: the job stays visible as `failed` (counts as not delivered).

The change is a conditional UPDATE on the job still waiting for this very message, in one transaction
with its receipt row: a replayed report, or a poll and a push of the same receipt, has one effect."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.channels.base import SendResult
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.notifications.channels import Channels
from deliveryhub.notifications.jobrows import Receipt
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.notifications.tables import notification_receipts as receipts_t

PROVIDER_FAILURE = "provider reported failure"


def _sms_fallback(channels: Channels, job: Any) -> list[str] | None:
    """The channels a failed 알림톡 is sent again on (SMS first), or None when there is no fallback."""
    if job.channel != "kakao" or job.audience != "customer":
        return None
    if getattr(channels.customer.get("kakao"), "sms_fallback", False):
        return None  # the provider re-sends as SMS itself: a second SMS would reach the customer twice
    rest = [c for c in (job.channels or []) if c != "kakao"]
    if "sms" not in rest or "sms" not in channels.customer:
        return None
    return ["sms", *[c for c in rest if c != "sms"]]


def apply_receipt(
    db: Database,
    channels: Channels,
    job: Any,
    status: str,
    now: datetime,
    *,
    provider: str | None = None,
    error: str | None = None,
) -> bool:
    """Apply one final receipt ("delivered" or "failed") to a sent job; False when it already had it."""
    ok = status == "delivered"
    result = SendResult(
        ok=ok,
        provider=provider or job.provider or "unknown",
        status=status,
        message_id=job.provider_message_id,
        error=None if ok else (error or PROVIDER_FAILURE)[:500],
    )
    # Still waiting for this message: sent (or failed, when a later report says it got through after all).
    waiting = sa.and_(
        jobs_t.c.id == job.id,
        jobs_t.c.provider_message_id == job.provider_message_id,
        jobs_t.c.status.in_(("sent", "failed") if ok else ("sent",)),
    )
    values: dict[str, Any] = {"lease_until": None}
    fallback = None if ok else _sms_fallback(channels, job)
    if ok:
        values.update(status="delivered", delivered_at=now, last_error=None)
    elif fallback is not None:
        values.update(
            status="retry",
            channels=fallback,
            fallback=True,
            next_attempt_at=now,
            scheduled_at=min(job.scheduled_at or now, now),
            last_error=f"kakao: {result.error}; SMS fallback queued"[:500],
        )
    else:
        values.update(status="failed", last_error=result.error)
    with db.write() as conn:
        changed = conn.execute(jobs_t.update().where(waiting).values(**values)).rowcount
        if changed != 1:
            return False
        conn.execute(receipts_t.insert().values(**Receipt(job.attempts, job.channel, result, now).row(job)))
    return True


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
        provider = getattr(kakao, "provider", "nhn-alimtalk")
        done += apply_receipt(db, channels, job, status, now, provider=provider)
    return done


def waiting_jobs(db: Database, provider_prefix: str, message_ids: list[str]) -> list[Any]:
    """Jobs of one provider still waiting for a receipt of one of these provider message ids."""
    if not message_ids:
        return []
    with db.read() as conn:
        return list(
            conn.execute(
                sa.select(jobs_t)
                .where(
                    jobs_t.c.status.in_(("sent", "failed")),
                    jobs_t.c.provider.like(f"{provider_prefix}%"),
                    jobs_t.c.provider_message_id.in_(message_ids),
                )
                .order_by(jobs_t.c.id)
            ).all()
        )
