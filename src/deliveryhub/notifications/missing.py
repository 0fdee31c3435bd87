"""Required notices that missed their deadline: the `notifications.notice_missing` job records each one
once (table notice_missing, read by the KPIs) and opens a `notice_missing` exception through
`core.exceptions` (monitors keep one active exception per order and type, so their own notice timer,
which asks `core.notice_facts`, never opens a second one for the same miss)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.notifications.tables import notice_missing as missing_t
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.service_layer.ports import ExceptionOpener, ExceptionRequest

log = structlog.get_logger(__name__)


def _flag(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Record the misses not recorded yet and resolve those whose notice finally went out."""
    flagged: list[dict[str, Any]] = []
    with db.write() as conn:
        late = sa.or_(
            jobs_t.c.status.notin_(("sent", "delivered", "suppressed")),
            jobs_t.c.sent_at > jobs_t.c.deadline_at,
        )
        rows = conn.execute(
            sa.select(jobs_t.c.id, jobs_t.c.order_id, jobs_t.c.stage, jobs_t.c.deadline_at, jobs_t.c.status)
            .where(
                jobs_t.c.required.is_(True),
                jobs_t.c.deadline_at < now,
                late,
                jobs_t.c.id.notin_(sa.select(missing_t.c.job_id)),
            )
            .order_by(jobs_t.c.id)
            .limit(1000)
        ).all()
        for r in rows:
            flagged.append(
                {
                    "job_id": r.id,
                    "order_id": r.order_id,
                    "stage": r.stage,
                    "deadline_at": r.deadline_at,
                    "detected_at": now,
                    "status": "open",
                }
            )
        insert_or_ignore(conn, missing_t, flagged, ["job_id"])
        # A late notice that finally went out resolves its finding (the miss still counts in KPIs).
        conn.execute(
            missing_t.update()
            .where(
                missing_t.c.status == "open",
                missing_t.c.job_id.in_(
                    sa.select(jobs_t.c.id).where(jobs_t.c.status.in_(("sent", "delivered")))
                ),
            )
            .values(status="resolved", resolved_at=now)
        )
    return flagged


def check_missing(db: Database, exceptions: ExceptionOpener, now: datetime) -> int:
    """Flag required notices not sent before their deadline; how many new misses."""
    flagged = _flag(db, now)
    for f in flagged:
        try:
            deadline = f["deadline_at"].isoformat()
            evidence = {"stage": f["stage"], "deadline_at": deadline, "job_id": f["job_id"]}
            key = f"notice_missing:{f['job_id']}"
            exceptions.open_exception(ExceptionRequest("notice_missing", f["order_id"], key, evidence))
        except Exception:  # the finding is kept in notice_missing either way
            log.exception("notice_missing_exception_failed", job_id=f["job_id"])
    return len(flagged)
