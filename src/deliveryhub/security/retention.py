"""Retention per data class: personal data is shredded N days after the customer's last order ended
(delivered or cancelled), unless a claim, return or exchange is still open. Also prunes audit entries
past their retention (at least two years) and expired sessions.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.audit import audit_log_of
from deliveryhub.security.erasure import erase_in
from deliveryhub.security.tables import retention_runs
from deliveryhub.security.users import purge_sessions
from deliveryhub.service_layer.hub import Core

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


def setting(core: Core, name: str, default: int) -> int:
    """An integer setting from the hub settings or DELIVERYHUB_<NAME> (the env works alone too)."""
    value: object = getattr(core.settings, name, None)
    if value is None:
        value = os.environ.get("DELIVERYHUB_" + name.upper())
    try:
        return int(str(value)) if value not in (None, "") else default
    except (TypeError, ValueError) as exc:
        raise ValueError(f"DELIVERYHUB_{name.upper()} must be a whole number of days") from exc


def pii_retention_days(core: Core) -> int:
    """Days personal data is kept after the last order ended (default 180)."""
    days = setting(core, "pii_retention_days", 180)
    if days < 1:
        raise ValueError("DELIVERYHUB_PII_RETENTION_DAYS must be at least 1")
    return days


def audit_retention_days(core: Core) -> int:
    """Days audit entries are kept (default and minimum 730)."""
    days = setting(core, "audit_retention_days", MIN_AUDIT_DAYS)
    if days < MIN_AUDIT_DAYS:
        raise ValueError(f"DELIVERYHUB_AUDIT_RETENTION_DAYS must be at least {MIN_AUDIT_DAYS} (two years)")
    return days


def _open_claim_orders(conn: Connection, order_ids: Sequence[str]) -> set[str]:
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


def run_pii_retention(core: Core, now: datetime, batch: int = 500) -> dict[str, int]:
    """Shred customers whose orders all ended before the cutoff and have no open claim.

    A claim is open when the event stream says so (claim/return/exchange opened and not closed since) or
    when the CS desk still holds one (core.claim_holds)."""
    cutoff = now - timedelta(days=pii_retention_days(core))
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
    with core.db.read() as conn:
        candidates = [r.customer_id for r in conn.execute(q)]
    deleted = kept = 0
    for start in range(0, len(candidates), batch):
        chunk = candidates[start : start + batch]
        with core.db.write() as conn:
            orders = conn.execute(
                sa.select(t.orders.c.order_id, t.orders.c.customer_id).where(
                    t.orders.c.customer_id.in_(chunk)
                )
            ).all()
            order_ids = [o.order_id for o in orders]
            open_orders = _open_claim_orders(conn, order_ids)
            open_orders |= core.claim_holds.orders_with_open_claims(conn, order_ids)
            blocked = {o.customer_id for o in orders if o.order_id in open_orders}
            for cid in chunk:
                if cid in blocked:
                    kept += 1
                    continue
                erase_in(
                    conn, core, cid, "system:retention", f"retention: orders ended before {cutoff.date()}"
                )
                deleted += 1
    with core.db.write() as conn:
        conn.execute(
            retention_runs.insert().values(
                data_class="customer_pii", ran_at=now, cutoff=cutoff, deleted=deleted, kept_open_claim=kept
            )
        )
    return {"deleted": deleted, "kept_open_claim": kept}


def run_audit_retention(core: Core, now: datetime) -> int:
    """Prune audit entries older than the audit retention (the chain anchor moves; verify still passes)."""
    cutoff = now - timedelta(days=audit_retention_days(core))
    deleted = audit_log_of(core).prune(cutoff)
    with core.db.write() as conn:
        conn.execute(
            retention_runs.insert().values(
                data_class="audit_log", ran_at=now, cutoff=cutoff, deleted=deleted, kept_open_claim=0
            )
        )
    return deleted


def retention_job(core: Core) -> Callable[[datetime], None]:
    """The daily retention job (idempotent; safe in several workers)."""
    last: dict[str, datetime] = {}

    def run(now: datetime) -> None:
        if "day" in last and now - last["day"] < timedelta(hours=23):
            return
        last["day"] = now
        run_pii_retention(core, now)
        run_audit_retention(core, now)
        purge_sessions(core, now)
        core.customer_files.purge_expired(now)  # chat photos past their retention

    return run
