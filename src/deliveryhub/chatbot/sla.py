"""SLA clocks of the CS desk: due times in business time (the kernel calendar: working hours, weekends,
Korean public and substitute holidays) and the time-based rules that act once on every breached target
(an ops alert, a reassignment with the priority raised, or both)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.queries import system_note
from deliveryhub.chatbot.settings import PRIORITIES, BusinessHours, CsConfig
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

# The targets a ticket has, and what the desk calls them in an alert.
METRIC_KO = {"first_response": "1차 응답", "next_response": "추가 응답", "resolution": "해결"}


def add_business_minutes(start: datetime, minutes: float, bh: BusinessHours | None) -> datetime:
    """`start` plus `minutes` of working time (wall-clock minutes when the desk keeps no hours)."""
    if bh is None:
        return start + timedelta(minutes=minutes)
    return bh.calendar().add_business_minutes(start, minutes).astimezone(start.tzinfo)


def business_minutes_between(a: datetime, b: datetime, bh: BusinessHours | None) -> float:
    """Working minutes from `a` to `b` (0 when b <= a)."""
    if b <= a:
        return 0.0
    if bh is None:
        return (b - a).total_seconds() / 60
    return bh.calendar().business_time_between(a, b).total_seconds() / 60


def _breaches(rows: list[Any], now: datetime) -> list[tuple[Any, str, str]]:
    """(ticket, metric, once-key) of every target past its due time."""
    found: list[tuple[Any, str, str]] = []
    for r in rows:
        if r.first_response_at is None and r.first_due and r.first_due < now:
            found.append((r, "first_response", "first_response"))
        elif r.awaiting_reply_since is not None and r.next_due and r.next_due < now:
            # Each wait for a reply is its own target: keyed by when the wait began.
            found.append((r, "next_response", f"next_response:{r.awaiting_reply_since.isoformat()}"))
        if r.resolve_due and r.resolve_due < now:
            found.append((r, "resolution", "resolution"))
    return found


class SlaRules:
    """The cs.sla job: every breached SLA target is acted on once, by whichever worker sees it first."""

    def __init__(self, core: Core, config: CsConfig) -> None:
        self.core = core
        self.config = config

    def run(self, now: datetime) -> list[dict[str, Any]]:
        """Act on the breaches due by `now`; returns what fired."""
        tk = ct.tickets
        with self.core.db.read() as conn:
            rows = conn.execute(
                sa.select(tk).where(
                    tk.c.status == "open",
                    sa.or_(
                        sa.and_(tk.c.first_response_at.is_(None), tk.c.first_due < now),
                        sa.and_(tk.c.awaiting_reply_since.is_not(None), tk.c.next_due < now),
                        tk.c.resolve_due < now,
                    ),
                )
            ).all()
        fired: list[dict[str, Any]] = []
        for r, metric, key in _breaches(list(rows), now):
            action = self.config.on_breach.get(metric, "alert")
            if not self._record(r, metric, key, action, now):
                continue  # already acted on (maybe by another worker)
            if action in ("alert", "both"):
                self._alert(r, metric, key)
            fired.append({"ticket_id": r.id, "metric": metric, "action": action})
        if fired:
            log.info("cs_sla_breaches", count=len(fired))
        return fired

    def _record(self, r: Any, metric: str, key: str, action: str, now: datetime) -> bool:
        """Mark the breach on the ticket (and reassign it when the rule says so); False when done before."""
        with self.core.db.write() as conn:
            row = {"ticket_id": r.id, "metric": key[:64], "at": now, "action": action}
            if not insert_or_ignore(conn, ct.ticket_sla_alerts, [row], ("ticket_id", "metric")):
                return False
            values: dict[str, Any] = {"sla_missed": [*(r.sla_missed or []), metric], "updated_at": now}
            if action in ("reassign", "both"):
                rank = max(0, r.priority_rank - 1)
                values.update(
                    assignee=None,
                    priority_rank=rank,
                    priority=next(p for p, v in PRIORITIES.items() if v == rank),
                )
            conn.execute(ct.tickets.update().where(ct.tickets.c.id == r.id).values(**values))
            system_note(conn, r.id, now, "sla", f"SLA {metric} missed; action: {action}")
        return True

    def _alert(self, r: Any, metric: str, key: str) -> None:
        due = {"first_response": r.first_due, "next_response": r.next_due, "resolution": r.resolve_due}[
            metric
        ]
        name = METRIC_KO[metric]
        self.core.ops_alerts.notify_ops(
            OpsAlert(
                "cs_sla",
                f"cs_sla:{r.id}:{key}",
                f"[CS SLA] 티켓 #{r.id} {name} 기한 초과 / ticket #{r.id} {metric} overdue",
                f"티켓 #{r.id} ({r.priority}) '{r.subject}' 의 {name} "
                f"기한({iso(due) or '-'})이 지났어요. 담당자: {r.assignee or '미배정'}.",
                {
                    "ticket_id": r.id,
                    "metric": metric,
                    "priority": r.priority,
                    "due": iso(due),
                    "assignee": r.assignee,
                },
            )
        )

    def job(self) -> Job:
        """The cs.sla job (every 30 s)."""
        return Job("cs.sla", 30.0, self.run)
