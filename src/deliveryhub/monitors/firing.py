"""The `timers` job: claim due timers and fire each exactly once. Rule timers (SLA deadlines) and the
notice check run inside the transaction that marks the timer fired; outbound work (WMS/TMS/OMS calls,
ETA revisions, compensations) runs outside it and reports an `Outcome`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.order import Order
from deliveryhub.monitors import rules
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.exceptions import open_exception
from deliveryhub.service_layer.scheduler import stop_requested

log = structlog.get_logger(__name__)

# Timer kinds evaluated by a rule inside the firing transaction.
RULE_TIMERS: dict[str, str] = {
    "dispatch_pack": "dispatch_delay",
    "dispatch_ship": "dispatch_delay",
    "waybill_missing": "waybill_missing",
    "handover_missing": "handover_missing",
    "tracking_stale": "tracking_stale",
    "delivery_delay": "delivery_delay",
}
# The monitors the sweep evaluates over every open order.
SWEPT = (
    "dispatch_delay",
    "waybill_missing",
    "handover_missing",
    "tracking_stale",
    "delivery_delay",
    "delay_risk",
)


@dataclass
class Outcome:
    """What an out-of-transaction timer handler wants done with its timer."""

    result: str
    retry_at: datetime | None = None
    failed: rules.Finding | None = None
    counts_attempt: bool = True  # False: only waiting for something else, not a failed try


InTxHandler = Callable[[Connection, Row[Any], datetime], str]
ExternalHandler = Callable[[Row[Any], datetime], Outcome]


def evaluate(ctx: Context, type_: str, order: Order, now: datetime) -> rules.Finding | None:
    """Run one time-based monitor over an order (None when it is switched off or finds nothing)."""
    th = ctx.th(type_, order)
    if not th.get("enabled", True):
        return None
    check = _MONITORS.get(type_)
    return check(order, now, th, ctx.cal) if check is not None else None


_MONITORS: dict[str, Callable[[Order, datetime, dict[str, Any], Any], rules.Finding | None]] = {
    "dispatch_delay": rules.dispatch_delay,
    "waybill_missing": rules.waybill_missing,
    "handover_missing": rules.handover_missing,
    "tracking_stale": rules.tracking_stale,
    "delivery_delay": rules.delivery_delay,
    "delay_risk": rules.delay_risk,
}


class TimerFiring:
    """Claims due timers under a lease and fires them through the handler tables."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.in_tx: dict[str, InTxHandler] = {kind: self.fire_rule for kind in RULE_TIMERS}
        self.in_tx["notice_missing"] = self.fire_notice
        self.external: dict[str, ExternalHandler] = {}

    def fire_due(self, now: datetime | None = None, max_rounds: int = 50) -> dict[str, int]:
        """Claim and fire every due timer; returns counts by kind and result."""
        ctx = self.ctx
        counts: dict[str, int] = {}
        for _ in range(max_rounds):
            if stop_requested():
                break  # each claimed batch is fired whole; a stopping worker claims no more
            at = now or ctx.now
            with ctx.core.db.write() as conn:
                batch = tm.claim(conn, ctx.worker, at, ctx.lease)
            if not batch:
                break
            for timer in batch:
                try:
                    result = self.fire(timer, at)
                except tm.ClaimLost:
                    result = "lost"
                except Exception as exc:  # one broken timer must not block the rest; lease expiry retries it
                    log.exception("timer_failed", timer=timer.id, kind=timer.kind)
                    result = f"error:{type(exc).__name__}"
                key = f"{timer.kind}:{result.split(':', 1)[0]}"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def fire(self, timer: Row[Any], now: datetime) -> str:
        """Fire one claimed timer; its effect and the `fired` mark commit together."""
        ctx = self.ctx
        ctx.reset_alerts()
        if timer.kind in self.in_tx:
            with ctx.core.db.write() as conn:
                result = self.in_tx[timer.kind](conn, timer, now)
                tm.finish(conn, timer, ctx.worker, now, result)
            ctx.send_alerts()
            return result
        handler = self.external.get(timer.kind)
        if handler is None:
            with ctx.core.db.write() as conn:
                tm.finish(conn, timer, ctx.worker, now, "unknown kind", status="cancelled")
            return "unknown"
        outcome = handler(timer, now)
        with ctx.core.db.write() as conn:
            if outcome.retry_at is not None:
                attempts = timer.attempts + (1 if outcome.counts_attempt else 0)
                tm.reschedule(conn, timer, ctx.worker, outcome.retry_at, attempts, outcome.result)
            else:
                if outcome.failed is not None:
                    order = load_order(conn, timer.order_id) if timer.order_id else None
                    open_exception(ctx, conn, outcome.failed, order, now)
                tm.finish(conn, timer, ctx.worker, now, outcome.result)
        ctx.send_alerts()
        return outcome.result

    def fire_rule(self, conn: Connection, timer: Row[Any], now: datetime) -> str:
        """An SLA deadline passed: evaluate its monitor now (the awaited event may have come meanwhile)."""
        order = load_order(conn, timer.order_id)
        if order is None:
            return "no order"
        finding = evaluate(self.ctx, RULE_TIMERS[timer.kind], order, now)
        if finding is None:
            return "ok"
        new = open_exception(self.ctx, conn, finding, order, now)
        return f"opened:{new}" if new else "already open"

    def fire_notice(self, conn: Connection, timer: Row[Any], now: datetime) -> str:
        """A customer-facing stage changed N minutes ago: was the customer told (`core.notice_facts`)?"""
        ctx = self.ctx
        payload = timer.payload or {}
        stage = str(payload.get("stage") or "")
        order = load_order(conn, timer.order_id)
        if order is None or (order.closed and stage != "cancelled"):
            return "no order"
        if ctx.core.notice_facts.notice_sent(conn, timer.order_id, stage):
            return "ok"
        evidence = {"stage": stage, "stage_at": payload.get("stage_at"), "due_at": timer.due_at.isoformat()}
        finding = rules.Finding("notice_missing", timer.order_id, evidence, due_at=timer.due_at)
        new = open_exception(ctx, conn, finding, order, now)
        return f"opened:{new}" if new else "already open"
