"""The effects feature's tables: the ledger of outside actions, one row per idempotency key."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import order_id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# One action to carry out in an outside system (refund, pickup, WMS/TMS, coupon), exactly once: `key` is
# the Idempotency-Key sent on every attempt; `claimed_until`/`claimed_by` is the lease that keeps two
# drivers from sending one row at the same time (an expired lease is taken over after a crash).
outside_actions = sa.Table(
    "outside_actions",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("system", sa.String(16), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    order_id_column(index=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("done_event", sa.String(64)),
    sa.Column("done_data", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    timestamp("next_attempt_at", nullable=False),
    timestamp("claimed_until"),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("ref", sa.String(200)),
    sa.Column("last_error", sa.String(500)),
    timestamp("created_at", nullable=False),
    timestamp("done_at"),
    sa.Index("ix_outside_actions_status_due", "status", "next_attempt_at"),
)
