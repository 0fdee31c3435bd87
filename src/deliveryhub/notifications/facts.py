"""The notifications feature's public query module: what other features (the KPI engine, monitors, the
order view, benchmarks) may know of notices, without reading the notification tables themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.kernel.timefmt import iso
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.notifications.tables import notification_receipts as receipts_t

SENT = ("sent", "delivered")
# A required notice the customer opted out of entirely was not owed: it counts as told.
TOLD = (*SENT, "suppressed")


def _start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, UTC)


def _end(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value + timedelta(days=1), time.min, UTC)  # dates are inclusive


def notice_facts(
    conn: Connection, date_from: date | datetime, date_to: date | datetime, as_of: datetime | None = None
) -> dict[str, Any]:
    """Facts behind notification_automation_rate, notification_missing_rate and delay_unnotified_rate.

    Population: customer stage changes that required a notice (rules with `required: true`) that the hub
    learned of in [date_from, date_to] (dates inclusive; datetimes as a half-open range), excluding
    those the customer opted out of entirely (status suppressed).
    - automatic: a notice was sent by the rules (not an ops replay), at any time.
    - missing: no notice sent by the deadline (default 10 min after the change, later when quiet hours
      deferred it). With `as_of`, changes whose deadline is still ahead and unsent are `open` and
      excluded from the missing rate.
    - delay_notices: order_id → first time a delay notice (delay predicted, delay, ETA revised) was
      sent, up to date_to; a late order with none before its promised date is "delay unnotified".
    """
    lo, hi = _start(date_from), _end(date_to)
    rows = conn.execute(
        sa.select(
            *columns(
                jobs_t,
                "id",
                "order_id",
                "rule_id",
                "stage",
                "status",
                "manual",
                "created_at",
                "deadline_at",
                "sent_at",
                "channel",
            )
        )
        .where(jobs_t.c.required.is_(True), jobs_t.c.created_at >= lo, jobs_t.c.created_at < hi)
        .order_by(jobs_t.c.id)
    ).all()
    facts: list[dict[str, Any]] = []
    counts = {"required": 0, "opted_out": 0, "automatic": 0, "missing": 0, "open": 0}
    for r in rows:
        if r.status == "suppressed":
            counts["opted_out"] += 1
            continue
        sent = r.status in SENT and r.sent_at is not None
        on_time = sent and r.deadline_at is not None and r.sent_at <= r.deadline_at
        is_open = not sent and as_of is not None and r.deadline_at is not None and r.deadline_at > as_of
        counts["required"] += 1
        counts["automatic"] += int(sent and not r.manual)
        counts["open"] += int(is_open)
        counts["missing"] += int(not on_time and not is_open)
        facts.append(
            {
                "job_id": r.id,
                "order_id": r.order_id,
                "rule_id": r.rule_id,
                "stage": r.stage,
                "learned_at": r.created_at,
                "deadline_at": r.deadline_at,
                "sent_at": r.sent_at,
                "channel": r.channel,
                "automatic": sent and not r.manual,
                "on_time": on_time,
                "open": is_open,
            }
        )
    judged = counts["required"] - counts["open"]
    delay_rows = conn.execute(
        sa.select(jobs_t.c.order_id, sa.func.min(jobs_t.c.sent_at))
        .where(
            jobs_t.c.delay_notice.is_(True),
            jobs_t.c.status.in_(SENT),
            jobs_t.c.sent_at < hi,
            jobs_t.c.audience == "customer",
        )
        .group_by(jobs_t.c.order_id)
    ).all()
    return {
        **counts,
        "notification_automation_rate": counts["automatic"] / counts["required"]
        if counts["required"]
        else None,
        "notification_missing_rate": counts["missing"] / judged if judged else None,
        "delay_notices": {oid: at for oid, at in delay_rows if oid},
        "rows": facts,
    }


REPORTED_NOTICE_TYPES = ("notification.sent", "x-notification.sent")


def reported_notices(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """Customer notices another system reported sending for one order (e.g. the shop's notifier before the
    hub, written as history), in the shape of `job_dict`: no id or rule, `reported_by` the source."""
    rows = conn.execute(
        sa.select(t.inbox.c.source, t.inbox.c.occurred_at, t.inbox.c.data)
        .where(t.inbox.c.order_id == order_id, t.inbox.c.type.in_(REPORTED_NOTICE_TYPES))
        .order_by(t.inbox.c.occurred_at, t.inbox.c.id)
    ).all()
    out = []
    for source, at, data in rows:
        d = data if isinstance(data, dict) else {}
        status = str(d.get("status") or "sent")
        out.append(
            {
                "id": None,
                "order_id": order_id,
                "rule": None,
                "stage": d.get("stage"),
                "template": d.get("template"),
                "audience": "customer",
                "status": status,
                "channel": d.get("channel"),
                "provider": None,
                "recipient": None,
                "created_at": iso(at),
                "sent_at": iso(at) if status in SENT else None,
                "manual": d.get("automatic") is False,
                "reported_by": source,
            }
        )
    return out


def order_notices(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """The notices of one order with their receipts (the order timeline's notification section), the
    notices other systems reported (history) first."""
    reported = reported_notices(conn, order_id)
    rows = conn.execute(sa.select(jobs_t).where(jobs_t.c.order_id == order_id).order_by(jobs_t.c.id)).all()
    receipts: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for rc in conn.execute(
            sa.select(receipts_t)
            .where(receipts_t.c.job_id.in_([r.id for r in rows]))
            .order_by(receipts_t.c.id)
        ):
            receipts.setdefault(rc.job_id, []).append(
                {
                    "attempt": rc.attempt,
                    "channel": rc.channel,
                    "provider": rc.provider,
                    "status": rc.status,
                    "error": rc.error,
                    "at": rc.at.isoformat(),
                }
            )
    return reported + [job_dict(r, receipts.get(r.id, [])) for r in rows]


def job_dict(r: Any, receipts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """API shape of a job (no personal data: the recipient is masked)."""
    out = {
        "id": r.id,
        "order_id": r.order_id,
        "rule": r.rule_id,
        "stage": r.stage,
        "template": r.template,
        "audience": r.audience,
        "status": r.status,
        "channel": r.channel,
        "provider": r.provider,
        "recipient": r.recipient_masked,
        "fallback": bool(r.fallback),
        "advertising": bool(r.advertising),
        "required": bool(r.required),
        "attempts": r.attempts,
        "created_at": iso(r.created_at),
        "scheduled_at": iso(r.scheduled_at),
        "next_attempt_at": iso(r.next_attempt_at),
        "deadline_at": iso(r.deadline_at),
        "sent_at": iso(r.sent_at),
        "last_error": r.last_error,
        "dead_at": iso(r.dead_at),
        "manual": bool(r.manual),
    }
    if receipts is not None:
        out["receipts"] = receipts
    return out


# ---------------------------------------------------------------------------------------- notice facts
def notice_sent(conn: Connection, order_id: str, stage: str) -> bool:
    """Whether the customer was told of `order_id` reaching `stage` (the `core.notice_facts` answer).

    True when a required customer notice for that stage went out (or was suppressed because the customer
    opted out of every channel), and when none was ever queued (no required rule covers the stage, or
    the change was history too old to notify); False while the queued notice is unsent, failed or dead."""
    statuses = conn.execute(
        sa.select(jobs_t.c.status).where(
            jobs_t.c.order_id == order_id,
            jobs_t.c.stage == stage,
            jobs_t.c.audience == "customer",
            jobs_t.c.required.is_(True),
        )
    ).scalars()
    found = False
    for status in statuses:
        if status in TOLD:
            return True
        found = True
    return not found


class SentNotices:
    """The hub's `core.notice_facts` port (monitors' notice_missing timer asks it)."""

    def notice_sent(self, conn: Connection, order_id: str, stage: str) -> bool:
        """See `notice_sent`."""
        return notice_sent(conn, order_id, stage)


# ------------------------------------------------------------------------------ for the KPI snapshot
def notices_recorded(conn: Connection) -> bool:
    """Whether this database has the notification tables (a hub may run without the feature)."""
    return bool(sa.inspect(conn).has_table(jobs_t.name))


def sent_notices_marker(conn: Connection) -> tuple[Any, ...]:
    """(last job id, number of sent jobs): changes whenever a notice is queued or sent."""
    row = conn.execute(sa.select(sa.func.max(jobs_t.c.id), sa.func.count(jobs_t.c.sent_at))).first()
    return tuple(row) if row else ()


def customer_notices_query() -> sa.Select[Any]:
    """Every customer notice the hub owed or sent, as a query with the columns (order_id, stage, kind,
    sent_at, automatic, status, required, learned_at, deadline_at).

    One row per customer job: `kind` is "delay" for delay notices, else the template; `sent_at` is set
    once a channel took it; `automatic` is false for ops replays; `required` marks the stage notices the
    KPIs judge; `learned_at` is when the hub learned of the fact (the job was queued); `deadline_at` is
    when it had to be out (quiet hours included). A reader with its own fast path (the KPI snapshot loads
    columns in bulk) may select from it."""
    kind = sa.case((jobs_t.c.delay_notice.is_(True), sa.literal("delay")), else_=jobs_t.c.template)
    return sa.select(
        jobs_t.c.order_id,
        jobs_t.c.stage,
        kind.label("kind"),
        jobs_t.c.sent_at,
        sa.not_(jobs_t.c.manual).label("automatic"),
        jobs_t.c.status,
        jobs_t.c.required,
        jobs_t.c.created_at.label("learned_at"),
        jobs_t.c.deadline_at,
    ).where(jobs_t.c.audience == "customer", jobs_t.c.order_id.is_not(None))


# ------------------------------------------------------------------------------------ for benchmarks
def unsent_customer_notices(conn: Connection, since: datetime) -> int:
    """Customer notices queued since `since` and not sent or given up yet."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(jobs_t)
            .where(
                jobs_t.c.audience == "customer",
                jobs_t.c.created_at >= since,
                jobs_t.c.status.in_(("pending", "sending", "retry")),
            )
        ).scalar_one()
    )


def customer_notice_times(conn: Connection, since: datetime) -> list[tuple[str | None, datetime, datetime]]:
    """(order id, when the fact happened, when its notice was handed to a channel) since `since`."""
    rows = conn.execute(
        sa.select(jobs_t.c.order_id, jobs_t.c.trigger_at, jobs_t.c.sent_at).where(
            jobs_t.c.audience == "customer", jobs_t.c.sent_at.is_not(None), jobs_t.c.created_at >= since
        )
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]
