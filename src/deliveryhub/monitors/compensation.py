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

from deliveryhub.adapters.connectors.tables import connector_pushed_orders
from deliveryhub.monitors.config import CompensationCfg
from deliveryhub.monitors.rules import decide_compensation
from deliveryhub.monitors.tables import compensations

COUNTED = ("pending_issue", "pending_approval", "issued")


def event_id(order_id: str, rule: str) -> str:
    """The one event id a compensation can ever be issued under."""
    return f"comp:{order_id}:{rule}"


def _insert_ignore(conn: Connection, values: dict[str, Any]) -> int | None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(compensations).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(compensations).values(**values).on_conflict_do_nothing()  # type: ignore[assignment]
    row = conn.execute(stmt.returning(compensations.c.id)).first()
    return int(row[0]) if row else None


def pushed_sources(conn: Connection, order_id: str) -> list[str]:
    """Webhook sources that have pushed facts about this order (empty when none)."""
    rows = conn.execute(
        sa.select(connector_pushed_orders.c.source)
        .where(connector_pushed_orders.c.order_id == order_id)
        .order_by(connector_pushed_orders.c.source)
    )
    return [r.source for r in rows]


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
            pushed = pushed_sources(conn, order_id) if pushed is None else pushed
            if pushed:
                status = "pending_approval"
                evidence["approval_reason"] = "pushed_facts"
                evidence["pushed_by"] = pushed
        new_id = _insert_ignore(
            conn,
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
        )
        if new_id is not None:
            out.append((new_id, status))
    return out


def as_dict(row: Any) -> dict[str, Any]:
    """JSON shape of a compensation record."""
    return {
        "id": row.id,
        "order_id": row.order_id,
        "rule": row.rule,
        "kind": row.kind,
        "amount": row.amount,
        "status": row.status,
        "evidence": row.evidence,
        "event_id": row.event_id,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "issued_at": row.issued_at.isoformat() if row.issued_at else None,
    }
