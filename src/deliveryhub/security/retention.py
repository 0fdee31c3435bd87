"""Retention per data class: personal data is shredded N days after the customer's last order ended
(delivered or cancelled), unless a claim, return or exchange is still open. Also prunes audit entries
past their retention (at least two years) and expired sessions.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.audit import audit_log_of
from deliveryhub.security.erasure import erase_in
from deliveryhub.security.tables import retention_runs
from deliveryhub.security.users import purge_sessions

MIN_AUDIT_DAYS = 730  # PIPA safety measures: access records ≥ 2 years for large or sensitive processing
OPENING = ("claim.opened", "return.requested", "exchange.requested")
CLOSING = (
    "compensation.issued",
    "return.refunded",
    "return.received",
    "exchange.completed",
    "claim.closed",
    "claim.resolved",
)


def setting(hub: Any, name: str, default: int) -> int:
    """An integer setting from hub.settings or DELIVERYHUB_<NAME> (settings are shared; env works alone)."""
    value = getattr(hub.settings, name, None)
    if value is None:
        value = os.environ.get("DELIVERYHUB_" + name.upper())
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError) as exc:
        raise ValueError(f"DELIVERYHUB_{name.upper()} must be a whole number of days") from exc


def pii_retention_days(hub: Any) -> int:
    """Days personal data is kept after the last order ended (default 180)."""
    days = setting(hub, "pii_retention_days", 180)
    if days < 1:
        raise ValueError("DELIVERYHUB_PII_RETENTION_DAYS must be at least 1")
    return days


def audit_retention_days(hub: Any) -> int:
    """Days audit entries are kept (default and minimum 730)."""
    days = setting(hub, "audit_retention_days", MIN_AUDIT_DAYS)
    if days < MIN_AUDIT_DAYS:
        raise ValueError(f"DELIVERYHUB_AUDIT_RETENTION_DAYS must be at least {MIN_AUDIT_DAYS} (two years)")
    return days


def _open_claim_orders(conn: Any, order_ids: list[str]) -> set[str]:
    last_open: dict[str, datetime] = {}
    last_close: dict[str, datetime] = defaultdict(lambda: datetime.min.replace(tzinfo=None))
    rows = conn.execute(
        sa.select(t.inbox.c.order_id, t.inbox.c.type, t.inbox.c.occurred_at).where(
            t.inbox.c.order_id.in_(order_ids), t.inbox.c.type.in_(OPENING + CLOSING)
        )
    )
    for r in rows:
        at = r.occurred_at.replace(tzinfo=None)
        if r.type in OPENING:
            last_open[r.order_id] = max(at, last_open.get(r.order_id, at))
        else:
            last_close[r.order_id] = max(at, last_close[r.order_id])
    return {oid for oid, at in last_open.items() if at >= last_close[oid]}


def run_pii_retention(hub: Any, now: datetime, batch: int = 500) -> dict[str, int]:
    """Shred customers whose orders all ended before the cutoff and have no open claim."""
    cutoff = now - timedelta(days=pii_retention_days(hub))
    ended = sa.func.coalesce(t.orders.c.delivered_at, t.orders.c.cancelled_at)
    open_count = sa.func.sum(sa.case((ended.is_(None), 1), else_=0))
    q = (
        sa.select(t.orders.c.customer_id)
        .join(t.customers, t.customers.c.customer_id == t.orders.c.customer_id)
        .where(t.customers.c.erased_at.is_(None), t.customers.c.dek_wrapped.is_not(None))
        .group_by(t.orders.c.customer_id)
        .having(open_count == 0)
        .having(sa.func.max(ended) < cutoff)
    )
    with hub.db.read() as conn:
        candidates = [r.customer_id for r in conn.execute(q)]
    deleted = kept = 0
    extra = hub.services.get("open_claim_orders")
    for start in range(0, len(candidates), batch):
        chunk = candidates[start : start + batch]
        with hub.db.write() as conn:
            orders = conn.execute(
                sa.select(t.orders.c.order_id, t.orders.c.customer_id).where(
                    t.orders.c.customer_id.in_(chunk)
                )
            ).all()
            open_orders = _open_claim_orders(conn, [o.order_id for o in orders])
            if extra is not None:
                open_orders |= set(extra(conn, [o.order_id for o in orders]))
            blocked = {o.customer_id for o in orders if o.order_id in open_orders}
            for cid in chunk:
                if cid in blocked:
                    kept += 1
                    continue
                erase_in(
                    conn, hub, cid, "system:retention", f"retention: orders ended before {cutoff.date()}"
                )
                deleted += 1
    with hub.db.write() as conn:
        conn.execute(
            retention_runs.insert().values(
                data_class="customer_pii", ran_at=now, cutoff=cutoff, deleted=deleted, kept_open_claim=kept
            )
        )
    return {"deleted": deleted, "kept_open_claim": kept}


def run_audit_retention(hub: Any, now: datetime) -> int:
    """Prune audit entries older than the audit retention (the chain anchor moves; verify still passes)."""
    cutoff = now - timedelta(days=audit_retention_days(hub))
    deleted = audit_log_of(hub).prune(cutoff)
    with hub.db.write() as conn:
        conn.execute(
            retention_runs.insert().values(
                data_class="audit_log", ran_at=now, cutoff=cutoff, deleted=deleted, kept_open_claim=0
            )
        )
    return deleted


def retention_job(hub: Any) -> Any:
    """The daily retention job (idempotent; safe in several workers)."""
    last: dict[str, datetime] = {}

    def run(now: datetime) -> None:
        if "day" in last and now - last["day"] < timedelta(hours=23):
            return
        last["day"] = now
        run_pii_retention(hub, now)
        run_audit_retention(hub, now)
        purge_sessions(hub, now)
        if (purge_photos := hub.services.get("purge_expired_chat_uploads")) is not None:  # chatbot
            purge_photos(now)

    return run
