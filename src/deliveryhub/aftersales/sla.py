"""The returns SLA job: a step past its deadline opens a `return_stalled` exception (once per step)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from deliveryhub.aftersales import store
from deliveryhub.domain.returns import next_step
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.ports import ExceptionRequest

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)
EXCEPTION_TYPE = "return_stalled"
INTERVAL_SECONDS = 300.0


def complete_exchanges(core: Core, order_ids: list[str] | None = None) -> int:
    """Record exchange.completed for replacements the carrier delivered (event id `completed:<id>`, so
    the consumer's after-commit and this job's sweep never record it twice); returns how many."""
    with core.db.read() as conn:
        rows = store.delivered_replacements(conn, order_ids)
    done = 0
    for row in rows:
        raw = {
            "event_id": f"completed:{row.return_id}",
            "source": "hub",
            "type": "exchange.completed",
            "occurred_at": iso(row.delivered_at),
            "order_id": row.order_id,
            "data": {"return_id": row.return_id, "tracking_no": row.tracking_no},
        }
        result = core.ingest.ingest([raw])[0]
        if result.status == "accepted":
            done += 1
        elif result.status == "rejected":
            log.error("exchange_completed_rejected", return_id=row.return_id, error=result.error)
    return done


def check_stalled(core: Core, now: datetime) -> int:
    """Open an exception for every return whose next step is overdue; returns how many were reported.
    Exchanges whose replacement was delivered are completed first (a backstop for the consumer)."""
    complete_exchanges(core)
    with core.db.read() as conn:
        rows = store.overdue_rows(conn, now)
    reported = 0
    for row in rows:
        waiting = next_step(str(row.kind), str(row.status))
        evidence = {
            "return_id": row.return_id,
            "kind": row.kind,
            "status": row.status,
            "waiting_for": waiting,
            "due_at": iso(row.due_at),
            "reason_code": row.reason_code,
            "problem": row.problem,
        }
        request = ExceptionRequest(
            EXCEPTION_TYPE, str(row.order_id), key=f"{row.return_id}:{row.status}", evidence=evidence
        )
        try:
            core.exceptions.open_exception(request)  # its own transaction: never inside ours
        except ValueError as exc:  # the monitors do not know the type yet: try again next run
            log.warning("return_stalled_unopened", return_id=row.return_id, error=str(exc))
            continue
        with core.db.write() as conn:
            store.update(conn, str(row.return_id), {"stalled_step": row.status})
        reported += 1
    return reported
