"""What staff may do with notices and tracking links (the HTTP routes in entrypoints call these): list
notices and dead letters, replay a dead letter, and revoke or reissue an order's tracking links with the
audit entry written in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.notifications.facts import job_dict
from deliveryhub.notifications.links import TrackingLinkService
from deliveryhub.notifications.tables import notification_jobs as jobs_t

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

STATUSES = ("pending", "sending", "retry", "sent", "delivered", "failed", "dead", "suppressed")

# Writes the audit entry of a link change inside its transaction: (connection, action, new generation).
AuditInTx = Callable[[Connection, str, int], None]


def list_notices(core: Core, order_id: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Notices newest first, optionally of one order and one status."""
    q = sa.select(jobs_t).order_by(jobs_t.c.id.desc()).limit(limit)
    if order_id:
        q = q.where(jobs_t.c.order_id == order_id)
    if status:
        q = q.where(jobs_t.c.status == status)
    with core.db.read() as conn:
        return [job_dict(r) for r in conn.execute(q)]


def dead_letters(core: Core, limit: int) -> list[dict[str, Any]]:
    """Notices that exhausted their retries, most recent first."""
    with core.db.read() as conn:
        rows = conn.execute(
            sa.select(jobs_t)
            .where(jobs_t.c.status == "dead")
            .order_by(jobs_t.c.dead_at.desc(), jobs_t.c.id.desc())
            .limit(limit)
        )
        return [job_dict(r) for r in rows]


def replay_dead_letter(core: Core, job_id: int) -> dict[str, Any] | None:
    """Re-queue one dead letter (same idempotency key: sent at most once more); None if there is none."""
    now = core.clock.now()
    with core.db.write() as conn:
        done = conn.execute(
            jobs_t.update()
            .where(jobs_t.c.id == job_id, jobs_t.c.status == "dead")
            .values(
                status="pending", attempts=0, next_attempt_at=now, dead_at=None, manual=True, lease_until=None
            )
        )
        if done.rowcount == 0:
            return None
        row = conn.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id)).first()
    return job_dict(row)


def _order_exists(conn: Connection, order_id: str) -> bool:
    found = conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)).first()
    return found is not None


def revoke_links(links: TrackingLinkService, order_id: str, actor: str, audit: AuditInTx) -> int | None:
    """Kill every link sent so far for an order; the new generation, or None for an unknown order."""
    with links.core.db.write() as conn:
        if not _order_exists(conn, order_id):
            return None
        gen = links.revoke_in(conn, order_id, "revoked", actor, close=False)
        audit(conn, "tracking_link.revoked", gen)
    return gen


@dataclass(frozen=True)
class Reissued:
    """The outcome of a reissue: `state` is ok, missing (no order) or closed (cancelled or erased)."""

    state: str
    generation: int = 0
    url: str | None = None


def reissue_link(links: TrackingLinkService, order_id: str, actor: str, audit: AuditInTx) -> Reissued:
    """Revoke every earlier link and make one new one to give the customer (never stored)."""
    with links.core.db.write() as conn:
        if not _order_exists(conn, order_id):
            return Reissued("missing")
        if links.issue_in(conn, order_id) is None:
            return Reissued("closed")
        gen = links.revoke_in(conn, order_id, "reissued", actor, close=False)
        token = links.issue_in(conn, order_id)
        audit(conn, "tracking_link.reissued", gen)
    if token is None:
        return Reissued("closed")
    return Reissued("ok", gen, links.url(token))
