"""Tables of the KPI feature: target overrides, manual values, raised alerts."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# Admin overrides of catalog targets (edits are audited through the security feature).
kpi_targets = sa.Table(
    "kpi_targets",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(64)),
    sa.Column("warning", sa.Float()),
    sa.Column("updated_by", sa.String(128), nullable=False),
    timestamp("updated_at", nullable=False),
)

# Values of `manual` KPIs (and manual overrides of any KPI) entered in the UI or by CSV.
kpi_manual_values = sa.Table(
    "kpi_manual_values",
    metadata,
    id_column(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("period", sa.Date(), nullable=False),  # first day of the period the value belongs to
    sa.Column("grp", sa.String(128), nullable=False, default=""),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("entered_by", sa.String(128), nullable=False),
    timestamp("entered_at", nullable=False),
    sa.UniqueConstraint("key", "period", "grp"),
)

# One ops alert per KPI per period: the row is claimed before the notification is sent.
kpi_alerts = sa.Table(
    "kpi_alerts",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("value", sa.Float()),
    timestamp("raised_at", nullable=False),
    timestamp("notified_at"),
)
