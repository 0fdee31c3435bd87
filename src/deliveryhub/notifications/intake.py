"""Jobs from the outbox: the `notifications` consumer turns outbox messages into notification jobs, in
the consumer's transaction, with the UNIQUE idempotency key (order, rule, stage): replays and second
workers are no-ops. What a job will say is fixed now (its non-personal context); who it goes to is
resolved only at send time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.kernel.timefmt import iso, parse_datetime
from deliveryhub.notifications import policy
from deliveryhub.notifications.jobrows import new_job
from deliveryhub.notifications.preferences import Preferences, preferences_of
from deliveryhub.notifications.rules import Rule, Trigger, trigger_of
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.pii import dlp
from deliveryhub.service_layer.messaging import Message

if TYPE_CHECKING:
    from deliveryhub.notifications.dispatcher import Dispatcher

TOPICS = ("order.", "shipment.", "return.", "exchange.", "claim.", "compensation.", "exception.")
KIND_ORDER = {"stage": 0, "event": 1, "exception": 2}


def _failed_attempt_reason(conn: Connection, order_id: str) -> str | None:
    """The reason of the carrier's latest failed-attempt event (the stage change carries none)."""
    last = (
        conn.execute(
            sa.select(t.inbox.c.data)
            .where(
                t.inbox.c.order_id == order_id,
                t.inbox.c.type.in_(("shipment.delivery_failed", "shipment.tracking")),
            )
            .order_by(t.inbox.c.occurred_at.desc(), t.inbox.c.id.desc())
            .limit(5)
        )
        .scalars()
        .all()
    )
    return next((x.get("reason") for x in last if isinstance(x, dict) and x.get("reason")), None)


@dataclass
class BatchFacts:
    """What a consumer batch's jobs read of their orders, loaded once per batch instead of per job."""

    orders: dict[str, Any] = field(default_factory=dict)
    parcels: dict[str, list[Any]] = field(default_factory=dict)
    preferences: dict[str, Preferences] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, order_ids: set[str]) -> BatchFacts:
        """Orders, their parcels (by shipment id) and their customers' preferences: three queries."""
        facts = cls()
        if not order_ids:
            return facts
        ids = sorted(order_ids)
        facts.orders = {
            r.order_id: r for r in conn.execute(sa.select(t.orders).where(t.orders.c.order_id.in_(ids)))
        }
        for p in conn.execute(
            sa.select(t.parcels).where(t.parcels.c.order_id.in_(ids)).order_by(t.parcels.c.shipment_id)
        ):
            facts.parcels.setdefault(p.order_id, []).append(p)
        customers = {o.customer_id for o in facts.orders.values() if o.customer_id}
        facts.preferences = preferences_of(conn, customers)
        return facts


class Intake:
    """Consumer handler: one job per matching rule for every fact the customer (or ops) should hear of."""

    def __init__(self, parts: Dispatcher) -> None:
        """Works with the dispatcher's core, rules, channels, settings and tracking links."""
        self.core, self.rules, self.channels = parts.core, parts.rules, parts.channels
        self.settings, self.links = parts.settings, parts.links

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """One job per matching rule, idempotent on (order, rule, stage)."""
        now = self.core.clock.now()
        horizon = now - timedelta(hours=self.settings.max_event_age_hours)
        found: list[tuple[datetime, int, int, Trigger]] = []
        for i, m in enumerate(messages):
            trig = trigger_of(m.topic, m.payload, m.order_id)
            if trig is None:
                continue
            at = parse_datetime(trig.at)
            if at is not None and at < horizon:
                continue  # history (an import, a back-fill): nobody is told about last month
            found.append((at or now, KIND_ORDER.get(trig.kind, 9), i, trig))
        # One ingest batch puts its events before its stage changes in the outbox; customers are told in
        # the order things happened (a stage change first when it happened at the same moment).
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        facts = BatchFacts.load(conn, {f[3].order_id for f in found if f[3].order_id})
        for _at, _rank, _i, trig in found:
            if trig.kind == "stage" and trig.name == "cancelled" and trig.order_id:
                # A cancelled order's tracking links die for good (links.py), in this transaction.
                self.links.revoke_in(conn, trig.order_id, "cancelled", "system:cancel", close=True)
            matching = [rule for rule in self.rules if rule.matches(trig)]
            if not matching:
                continue
            context = self._context(conn, trig, facts)  # once per fact, however many rules match it
            for rule in matching:
                self._create_job(conn, rule, trig, now, context, facts)

    def _context(
        self, conn: Connection, trig: Trigger, facts: BatchFacts
    ) -> tuple[dict[str, Any], str | None]:
        """The job's non-personal context and the order's customer id."""
        order = facts.orders.get(trig.order_id) if trig.order_id else None
        ctx: dict[str, Any] = {
            "order_id": trig.order_id,
            "trigger": trig.kind,
            "event": trig.name,
            "at": trig.at,
        }
        ctx["stage"] = trig.name if trig.kind == "stage" else (order.stage if order is not None else None)
        if trig.order_id:
            for p in facts.parcels.get(trig.order_id, ()):
                if p.tracking_no and "tracking_no" not in ctx:
                    ctx["carrier"], ctx["tracking_no"] = p.carrier, p.tracking_no
                if p.eta_min and p.eta_max:
                    ctx["eta_min"], ctx["eta_max"] = iso(p.eta_min), iso(p.eta_max)
        d = trig.data
        if trig.kind == "stage" and trig.name == "delivery_failed" and trig.order_id and not d.get("reason"):
            reason = _failed_attempt_reason(conn, trig.order_id)
            d = {**d, "reason": reason} if reason else d
        if d.get("eta_min") and d.get("eta_max"):
            ctx["eta_min"], ctx["eta_max"] = str(d["eta_min"]), str(d["eta_max"])
        if d.get("reason"):
            ctx["reason"] = dlp.mask_text(str(d["reason"]))
        if d.get("amount") is not None:
            ctx["amount"] = d.get("amount")
        if trig.name == "claim.opened":
            ctx["claim_kind"] = d.get("kind")
        if trig.name == "compensation.issued":
            ctx["compensation_kind"] = d.get("kind")
        if trig.kind == "exception":
            ctx["exception_type"] = trig.name
        return ctx, (order.customer_id if order is not None else None)

    def _create_job(
        self,
        conn: Connection,
        rule: Rule,
        trig: Trigger,
        now: datetime,
        context: tuple[dict[str, Any], str | None],
        facts: BatchFacts,
    ) -> None:
        available = self.channels.for_audience(rule.audience)
        if rule.audience != "customer" and not any(c in available for c in rule.channels):
            return  # nothing configured to reach ops / the shop's systems with this rule
        ctx, customer_id = dict(context[0]), context[1]
        if rule.audience == "customer" and not trig.order_id:
            return
        status, error = "pending", None
        scheduled = now
        if rule.audience == "customer":
            prefs = facts.preferences.get(customer_id) if customer_id else None
            if rule.advertising and not (prefs and prefs.ad_consent):
                status, error = "suppressed", "no_ad_consent"
            scheduled = policy.next_allowed(
                now,
                advertising=rule.advertising,
                quiet=prefs.quiet if prefs else None,
                tz=self.core.settings.tz,
            )
        deadline = (
            scheduled + timedelta(minutes=self.settings.notice_deadline_minutes) if rule.required else None
        )
        stage = rule.stage_key(trig)
        row = new_job(
            idem_key=f"{trig.order_id or '-'}|{rule.id}|{stage}"[:300],
            order_id=trig.order_id,
            customer_id=customer_id,
            rule_id=rule.id,
            stage=stage[:128],
            template=rule.template,
            audience=rule.audience,
            channels=list(rule.channels),
            advertising=rule.advertising,
            required=rule.required and rule.audience == "customer",
            delay_notice=rule.delay_notice,
            context=ctx,
            status=status,
            trigger_at=parse_datetime(trig.at),
            created_at=now,
            scheduled_at=scheduled,
            next_attempt_at=scheduled,
            deadline_at=deadline,
            last_error=error,
        )
        insert_or_ignore(conn, jobs_t, [row], ["idem_key"])
