"""Tables of the automation feature: exception records, durable timers, compensations, stock ledger."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import id_column, order_id_column, shipment_id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

_ACTIVE = "status <> 'resolved'"

# One row per detected problem. `subject` is the order id (or warehouse:sku for stock counts); the
# partial unique index keeps at most one active (open or acknowledged) exception per type and subject.
exceptions = sa.Table(
    "monitor_exceptions",
    metadata,
    id_column(),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    order_id_column(index=True),
    shipment_id_column(),
    sa.Column("carrier", sa.String(32)),
    sa.Column("warehouse", sa.String(128)),
    sa.Column("channel", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # open | acknowledged | resolved
    sa.Column("evidence", sa.JSON(), nullable=False),
    sa.Column("threshold", sa.JSON()),
    timestamp("due_at"),  # the deadline that was missed, when there is one
    timestamp("opened_at", nullable=False),
    timestamp("acknowledged_at"),
    timestamp("resolved_at"),
    sa.Column("resolution", sa.String(200)),  # auto:<event type> | manual | cancelled
    sa.Column("assignee", sa.String(128)),
    timestamp("updated_at", nullable=False),
    sa.Index(
        "uq_monitor_exceptions_active",
        "type",
        "subject",
        unique=True,
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    ),
    sa.Index("ix_monitor_exceptions_status_type", "status", "type"),
)

# SLA deadlines and deferred work, claimed by any number of workers.
timers = sa.Table(
    "monitor_timers",
    metadata,
    id_column(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    order_id_column(),
    timestamp("due_at", nullable=False, index=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | fired | cancelled
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("claimed_by", sa.String(64)),
    timestamp("claimed_until"),
    timestamp("created_at", nullable=False),
    timestamp("fired_at"),
    sa.Column("result", sa.String(200)),
    sa.UniqueConstraint("kind", "subject"),
    sa.Index("ix_monitor_timers_order", "order_id"),
)

# Compensation decisions: one per (order, rule), whatever is replayed.
compensations = sa.Table(
    "monitor_compensations",
    metadata,
    id_column(),
    order_id_column(nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.Float(), nullable=False),
    sa.Column(
        "status", sa.String(24), nullable=False
    ),  # pending_issue | pending_approval | issued | rejected
    sa.Column("evidence", sa.JSON(), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
    timestamp("created_at", nullable=False),
    sa.Column("decided_by", sa.String(128)),
    timestamp("decided_at"),
    timestamp("issued_at"),
    sa.UniqueConstraint("order_id", "rule"),
    sa.Index("ix_monitor_compensations_status", "status"),
)

# System stock per warehouse and SKU: the last physical count minus reservations since.
stock = sa.Table(
    "monitor_stock",
    metadata,
    sa.Column("warehouse", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("qty", sa.Integer(), nullable=False),
    timestamp("counted_at", nullable=False),
)

# Order updates pushed to a shop's OMS: one row per stage change (the unique idempotency key makes a
# replayed `order.stage_changed` a no-op); the retry schedule lives in `monitor_timers` (kind oms_update).
oms_updates = sa.Table(
    "monitor_oms_updates",
    metadata,
    id_column(),
    order_id_column(nullable=False, index=True),
    sa.Column("shop", sa.String(64)),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("change", sa.JSON(), nullable=False),  # the order.stage_changed payload
    sa.Column("update", sa.JSON(), nullable=False),  # what is sent (our names), fixed so retries match
    sa.Column("status", sa.String(16), nullable=False),  # pending | sent | failed | skipped
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("http_status", sa.Integer()),
    sa.Column("last_error", sa.String(300)),
    timestamp("created_at", nullable=False),
    timestamp("sent_at"),
    sa.Index("ix_monitor_oms_updates_status", "status"),
)
