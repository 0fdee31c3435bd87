"""The payments feature's tables: what each order's customer paid, and each refund asked against it."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import order_id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# One row per order: the payment refunds are asked against (from `order.paid` or the Toss webhook).
# `cancelled` is what the provider says was given back so far (from the webhook's re-fetched payment).
payments = sa.Table(
    "payments",
    metadata,
    order_id_column(primary_key=True),
    sa.Column("payment_key", sa.String(200), nullable=True, index=True),
    sa.Column("provider", sa.String(32), nullable=True),
    sa.Column("amount", sa.BigInteger(), nullable=False),
    sa.Column("method", sa.String(64), nullable=True),
    timestamp("paid_at", nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("cancelled", sa.BigInteger(), nullable=False, default=0),
    timestamp("updated_at", nullable=False),
)

# One row per refund the hub asked for (or found done at the provider: cause manual). `key` is the
# once-only key (the outside action's Idempotency-Key); pending and done rows count against the payment.
refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    order_id_column(nullable=False, index=True),
    sa.Column("amount", sa.BigInteger(), nullable=False),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("return_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("refund_id", sa.String(200), nullable=True, index=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("message", sa.String(500), nullable=True),
    timestamp("created_at", nullable=False),
    timestamp("done_at"),
)
