"""Compensation by rule: decide (once per order and rule, with caps and an approval step above a
threshold), then issue `compensation.issued` through ingest with a deterministic event id so a
replayed trigger, a retried job or a second worker can never pay twice.

Money on pushed facts needs a human: when a webhook (carrier or shop push) has told us anything about the
order, a compensation above ``pushed_approval_krw`` (hub setting ``webhook_money_approval_krw``, default 0:
always) waits as ``pending_approval`` whatever the rule says (``auto_approve`` included) — a push is
authenticated, but it is not an operator's decision, so ``decided_by`` must name a person before money moves.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.columns import json_row
from deliveryhub.adapters.persistence.dialect import insert_or_ignore_returning
from deliveryhub.connectors.queries import push_sources
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.config import CompensationCfg
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.errors import InvalidTransition, NotFound
from deliveryhub.monitors.rules import decide_compensation
from deliveryhub.monitors.tables import compensations

COUNTED = ("pending_issue", "pending_approval", "issued")


def event_id(order_id: str, rule: str) -> str:
    """The one event id a compensation can ever be issued under."""
    return f"comp:{order_id}:{rule}"


def propose(
    conn: Connection,
    cfg: CompensationCfg,
    order_id: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    trigger: str,
    days: int | None = None,
    claim_kind: str | None = None,
    claim_amount: float | None = None,
    pushed_approval_krw: float = 0.0,
) -> list[tuple[int, str]]:
    """Record the compensations the rules grant for this trigger; returns new (id, status) pairs."""
    out: list[tuple[int, str]] = []
    pushed: list[str] | None = None
    for rule in cfg.rules:
        if rule.trigger != trigger:
            continue
        exists = conn.execute(
            sa.select(compensations.c.id).where(
                compensations.c.order_id == order_id, compensations.c.rule == rule.name
            )
        ).first()
        if exists:
            continue
        for_order = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(compensations.c.amount), 0.0)).where(
                compensations.c.order_id == order_id, compensations.c.status.in_(COUNTED)
            )
        ).scalar_one()
        day_start = datetime.combine(now.astimezone(tz).date(), time(0, 0), tzinfo=tz)
        today = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(compensations.c.amount), 0.0)).where(
                compensations.c.created_at >= day_start, compensations.c.status.in_(COUNTED)
            )
        ).scalar_one()
        decision = decide_compensation(
            rule,
            days=days,
            claim_kind=claim_kind,
            claim_amount=claim_amount,
            paid_for_order=float(for_order),
            paid_today=float(today),
            cap_per_order=cfg.caps.per_order,
            cap_per_day=cfg.caps.per_day,
            approval_threshold=cfg.approval_threshold,
        )
        if decision is None:
            continue
        status, evidence = decision.status, {**decision.evidence, "trigger": trigger}
        if status == "pending_issue" and decision.amount > pushed_approval_krw:
            pushed = push_sources(conn, order_id) if pushed is None else pushed
            if pushed:
                status = "pending_approval"
                evidence["approval_reason"] = "pushed_facts"
                evidence["pushed_by"] = pushed
        new_id = insert_or_ignore_returning(
            conn,
            compensations,
            {
                "order_id": order_id,
                "rule": rule.name,
                "kind": decision.kind,
                "amount": decision.amount,
                "status": status,
                "evidence": evidence,
                "event_id": event_id(order_id, rule.name),
                "created_at": now,
            },
            compensations.c.id,
        )
        if new_id is not None:
            out.append((int(new_id), status))
    return out


def as_dict(row: Any) -> dict[str, Any]:
    """JSON shape of a compensation record (every column of `monitor_compensations`)."""
    return json_row(row)


# ---------------------------------------------------------------- the feature's steps
def propose_and_arm(ctx: Context, conn: Connection, order_id: str, now: datetime, **kw: Any) -> None:
    """Propose what the rules grant for a trigger: issue-ready ones get an issuing timer, the others
    ask ops for approval (after commit)."""
    kw.setdefault("pushed_approval_krw", float(ctx.core.settings.webhook_money_approval_krw))
    for cid, status in propose(conn, ctx.cfg.compensation, order_id, now, ctx.cal.tz, **kw):
        if status == "pending_issue":
            tm.arm(conn, "compensation", f"comp:{cid}", now, now, order_id=order_id, payload={"id": cid})
        else:
            ctx.alert(
                "compensation_approval",
                f"compensation:{cid}",
                f"[보상 승인 필요] 주문 {order_id} / [Approval needed] compensation for {order_id}",
                f"보상 #{cid} 승인이 필요합니다. POST /v1/compensations/{cid}/approve",
                {"compensation_id": cid, "order_id": order_id},
            )


def issue(ctx: Context, comp_id: int, now: datetime | None = None, actor: str = "system:monitors") -> str:
    """Issue an approved compensation through ingest; a second call is a no-op."""
    now = now or ctx.now
    with ctx.core.db.read() as conn:
        row = conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).first()
    if row is None or row.status not in ("pending_issue", "issued"):
        return f"not issuable: {row.status if row else 'missing'}"
    res = ctx.core.ingest.ingest(
        [
            {
                "event_id": row.event_id,
                "source": "monitors",
                "type": "compensation.issued",
                "occurred_at": now.isoformat(),
                "order_id": row.order_id,
                "data": {"kind": row.kind, "amount": row.amount, "rule": row.rule, "compensation_id": row.id},
            }
        ]
    )[0]
    if res.status == "rejected":
        return f"rejected: {(res.error or {}).get('message')}"
    with ctx.core.db.write() as conn:
        done = conn.execute(
            compensations.update()
            .where(compensations.c.id == comp_id, compensations.c.status == "pending_issue")
            .values(status="issued", issued_at=now)
        ).rowcount
    if done:
        ctx.core.audit.record(
            actor,
            "compensation.issued",
            f"order:{row.order_id}",
            {
                "compensation_id": row.id,
                "rule": row.rule,
                "kind": row.kind,
                "amount": row.amount,
                "event_id": row.event_id,
            },
        )
    return f"issued:{res.status}"


def decide(ctx: Context, comp_id: int, approve: bool, actor: str) -> dict[str, Any]:
    """An operator approves (then it is issued) or rejects a compensation awaiting approval; raises
    NotFound / InvalidTransition."""
    now = ctx.now
    with ctx.core.db.write() as conn:
        row = conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).first()
        if row is None:
            raise NotFound(f"no compensation {comp_id}")
        if row.status != "pending_approval":
            raise InvalidTransition(f"compensation {comp_id} is {row.status}")
        conn.execute(
            compensations.update()
            .where(compensations.c.id == comp_id, compensations.c.status == "pending_approval")
            .values(status="pending_issue" if approve else "rejected", decided_by=actor, decided_at=now)
        )
        if approve:
            # Durable: if issuing below fails, the timer job issues it later.
            tm.arm(
                conn,
                "compensation",
                f"comp:{comp_id}",
                now,
                now,
                order_id=row.order_id,
                payload={"id": comp_id},
            )
    ctx.core.audit.record(
        actor,
        "compensation.approved" if approve else "compensation.rejected",
        f"order:{row.order_id}",
        {"compensation_id": comp_id, "amount": row.amount, "rule": row.rule},
    )
    if approve:
        issue(ctx, comp_id, now, actor=actor)
    with ctx.core.db.read() as conn:
        return as_dict(conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).one())
