"""Outbound orchestration steps fired by timers: reserve stock in the WMS, create the waybill in the
TMS, with retries on the orchestration backoff; their answers come back through ingest, and a step that
keeps failing becomes an ops exception instead of silence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.monitors import rules
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.firing import Outcome
from deliveryhub.monitors.orchestration import PortResult, tms_events, wms_events


def retry(
    ctx: Context, timer: Row[Any], now: datetime, result: PortResult, step: str, fail: rules.Finding | None
) -> Outcome:
    """Retry later with backoff while the error is retryable and attempts remain; else give up with
    `fail` (an ops exception carrying the last error), or with no exception when `fail` is None."""
    orch = ctx.cfg.orchestration
    attempts = timer.attempts + 1
    if result.retryable and attempts < orch.max_attempts:
        delay = orch.backoff_seconds[min(attempts - 1, len(orch.backoff_seconds) - 1)]
        return Outcome(f"retry {attempts}: {result.error}", retry_at=now + timedelta(seconds=delay))
    if fail is None:
        return Outcome(f"failed: {result.error}")
    fail.evidence.update(
        {
            "automation": step,
            "attempts": attempts,
            "last_error": result.error,
            "http_status": result.status,
            "ops_task": True,
        }
    )
    return Outcome(f"failed: {result.error}", failed=fail)


class Orchestration:
    """The WMS reservation and TMS waybill steps (timer kinds `wms_reserve` and `tms_waybill`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def fire_wms(self, timer: Row[Any], now: datetime) -> Outcome:
        """Reserve the order's items in the shop's WMS (same idempotency key on every retry)."""
        ctx, oid = self.ctx, timer.order_id
        with ctx.core.db.read() as conn:
            order = load_order(conn, oid)
            created = conn.execute(
                sa.select(t.inbox.c.data).where(t.inbox.c.order_id == oid, t.inbox.c.type == "order.created")
            ).first()
        if order is None or order.closed or order.reached("stock_confirmed"):
            return Outcome("skipped")
        items = list((created.data if created else {}).get("items") or [])
        res = ctx.wms.reserve(order.channel, oid, items, order.warehouse, f"wms-reserve:{oid}")
        fail = rules.Finding("dispatch_delay", oid, {"reason": "stock_reservation_failed"})
        return self._settle(
            timer, now, res, "wms_reserve", fail, lambda: wms_events(oid, res, now.isoformat())
        )

    def fire_tms(self, timer: Row[Any], now: datetime) -> Outcome:
        """Create the waybill in the shop's TMS."""
        ctx, oid = self.ctx, timer.order_id
        with ctx.core.db.read() as conn:
            order = load_order(conn, oid)
        if order is None or order.closed or order.reached("waybill_created"):
            return Outcome("skipped")
        parcel = {"warehouse": order.warehouse, "region": order.region}
        res = ctx.tms.create_waybill(order.channel, oid, parcel, f"tms-waybill:{oid}")
        fail = rules.Finding("waybill_missing", oid, {"reason": "waybill_creation_failed"})
        return self._settle(
            timer, now, res, "tms_waybill", fail, lambda: tms_events(oid, res, now.isoformat())
        )

    def _settle(
        self,
        timer: Row[Any],
        now: datetime,
        res: PortResult,
        kind: str,
        fail: rules.Finding,
        answer_events: Callable[[], list[dict[str, Any]]],
    ) -> Outcome:
        """After an outbound call: retry on failure or an unusable answer, else record the answer."""
        if not res.ok:
            return retry(self.ctx, timer, now, res, kind, fail)
        error = self._ingest_answer(answer_events())
        if error:
            bad = PortResult(False, False, res.status, res.body, f"bad answer: {error}")
            return retry(self.ctx, timer, now, bad, kind, fail)
        return Outcome(f"done: HTTP {res.status}")

    def _ingest_answer(self, events: list[dict[str, Any]]) -> str | None:
        if not events:
            return None
        results = self.ctx.core.ingest.ingest(events)
        bad = [r for r in results if r.status == "rejected"]
        return (bad[0].error or {}).get("message", "rejected") if bad else None
