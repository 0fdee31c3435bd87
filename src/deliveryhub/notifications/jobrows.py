"""Writes to a claimed notification job and its provider receipts, in short transactions (a send talks
to a provider between them, never inside an open transaction); a successful send is recorded in one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deliveryhub.adapters.channels.base import SendResult
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.outbox import write_outbox
from deliveryhub.domain.messages import Message
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.notifications.tables import notification_receipts as receipts_t


def new_job(**fields: Any) -> dict[str, Any]:
    """A notification_jobs row: the defaults every new job starts from, then `fields`."""
    row: dict[str, Any] = {
        "customer_id": None,
        "advertising": False,
        "required": False,
        "delay_notice": False,
        "manual": False,
        "status": "pending",
        "attempts": 0,
        "deadline_at": None,
        "last_error": None,
        "fallback": False,
    }
    row.update(fields)
    return row


def release(db: Database, job: Any) -> None:
    """Give a claimed job back unsent (its order is held back by an earlier failure)."""
    with db.write() as conn:
        conn.execute(
            jobs_t.update()
            .where(jobs_t.c.id == job.id, jobs_t.c.status == "sending")
            .values(status="retry" if job.attempts else "pending", lease_until=None)
        )


def finish(db: Database, job: Any, **values: Any) -> None:
    """End the job's lease and store its new state."""
    with db.write() as conn:
        conn.execute(jobs_t.update().where(jobs_t.c.id == job.id).values(lease_until=None, **values))


def finish_sent(db: Database, job: Any, partitions: int, receipt: Receipt, **values: Any) -> None:
    """Store a sent job with the provider's receipt and, for a customer notice about an order, emit
    `notification.sent` — one transaction (monitors end that stage's notice_missing timer on it)."""
    with db.write() as conn:
        conn.execute(jobs_t.update().where(jobs_t.c.id == job.id).values(lease_until=None, **values))
        conn.execute(receipts_t.insert().values(**receipt.row(job)))
        if job.audience == "customer" and job.order_id:
            payload = {
                "order_id": job.order_id,
                "stage": job.stage,
                "rule_id": job.rule_id,
                "channel": values.get("channel"),
                "sent_at": values["sent_at"].isoformat(),
            }
            write_outbox(conn, [Message.new("notification.sent", job.order_id, payload, partitions)])


@dataclass(frozen=True)
class Receipt:
    """One provider answer to one attempt (accepted, delivered, failed with the error)."""

    attempt: int
    channel: str
    result: SendResult
    at: datetime

    def row(self, job: Any) -> dict[str, Any]:
        """The notification_receipts row of this answer for `job`."""
        return {
            "job_id": job.id,
            "attempt": self.attempt,
            "channel": self.channel,
            "provider": self.result.provider,
            "status": self.result.status,
            "provider_message_id": self.result.message_id,
            "error": self.result.error,
            "at": self.at,
        }


def record_receipt(
    db: Database, job: Any, attempt: int, channel: str, result: SendResult, now: datetime
) -> None:
    """Keep one provider answer on its own (a failed try; a success is kept by `finish_sent`)."""
    with db.write() as conn:
        conn.execute(receipts_t.insert().values(**Receipt(attempt, channel, result, now).row(job)))
