"""Notification tables: jobs (one per order, rule and stage), provider receipts, customer preferences,
and notice-missing findings (kept here when the monitors feature does not take them)."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import customer_id_column, id_column, order_id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# One row per message to send. `idem_key` = "<order>|<rule>|<stage>" is UNIQUE: a replayed event, a
# second worker or a retried send can never create a second message. No personal data is stored:
# the recipient is resolved (decrypted) at send time, only a masked form is kept for CS.
notification_jobs = sa.Table(
    "notification_jobs",
    metadata,
    id_column(),
    sa.Column("idem_key", sa.String(300), nullable=False, unique=True),
    order_id_column(index=True),
    customer_id_column(index=True),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("stage", sa.String(128), nullable=False),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("audience", sa.String(16), nullable=False),  # customer | ops
    sa.Column("channels", sa.JSON(), nullable=False),
    sa.Column("advertising", sa.Boolean(), nullable=False, default=False),
    sa.Column("required", sa.Boolean(), nullable=False, default=False),
    sa.Column("delay_notice", sa.Boolean(), nullable=False, default=False),
    sa.Column("manual", sa.Boolean(), nullable=False, default=False),
    sa.Column("context", sa.JSON(), nullable=False),
    # pending | sending | retry | sent | delivered | failed | dead | suppressed
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    timestamp("trigger_at"),  # when the stage change / event happened
    timestamp("created_at", nullable=False),  # when the hub learned of it
    timestamp("scheduled_at", nullable=False),  # not before (quiet hours)
    timestamp("next_attempt_at", nullable=False),
    timestamp("lease_until"),
    timestamp("deadline_at"),
    timestamp("sent_at"),
    timestamp("delivered_at"),
    sa.Column("channel", sa.String(16)),
    sa.Column("provider", sa.String(32)),
    sa.Column("provider_message_id", sa.String(200)),
    sa.Column("recipient_masked", sa.String(80)),
    sa.Column("fallback", sa.Boolean(), nullable=False, default=False),
    sa.Column("last_error", sa.String(500)),
    timestamp("dead_at"),
    sa.Index("ix_notification_jobs_due", "status", "next_attempt_at"),
    sa.Index("ix_notification_jobs_created", "created_at"),
)

# Every provider answer: sent (accepted), delivered (final receipt), failed (with the error).
notification_receipts = sa.Table(
    "notification_receipts",
    metadata,
    id_column(),
    sa.Column("job_id", sa.BigInteger(), nullable=False, index=True),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider_message_id", sa.String(200)),
    sa.Column("error", sa.String(500)),
    timestamp("at", nullable=False),
)

# Per-customer choices. Contact overrides are encrypted with the customer's own data key (so erasing
# the customer shreds them too); absent overrides mean "use the customers table at send time".
notification_preferences = sa.Table(
    "notification_preferences",
    metadata,
    customer_id_column(primary_key=True),
    sa.Column("channels", sa.JSON()),  # preferred order, e.g. ["kakao", "email"]
    sa.Column("opt_out", sa.JSON(), nullable=False),  # channels the customer refused
    sa.Column("quiet_start", sa.String(5)),  # "22:00" local time
    sa.Column("quiet_end", sa.String(5)),
    sa.Column("ad_consent", sa.Boolean(), nullable=False, default=False),
    timestamp("ad_consent_at"),
    sa.Column("lang", sa.String(2)),
    sa.Column("phone_enc", sa.LargeBinary()),
    sa.Column("email_enc", sa.LargeBinary()),
    timestamp("updated_at", nullable=False),
)

# Stage changes that required a notice and got none before the deadline.
notice_missing = sa.Table(
    "notice_missing",
    metadata,
    id_column(),
    sa.Column("job_id", sa.BigInteger(), nullable=False, unique=True),
    order_id_column(index=True),
    sa.Column("stage", sa.String(128), nullable=False),
    timestamp("deadline_at", nullable=False),
    timestamp("detected_at", nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    timestamp("resolved_at"),
)

# Tracking links: one row per order whose links were ever revoked, never a token. A link is valid only
# for the current `generation` (no row = 1); revoking bumps it, `closed_reason` (cancelled, erased)
# refuses new links for good.
tracking_links = sa.Table(
    "tracking_links",
    metadata,
    order_id_column(primary_key=True),
    sa.Column("generation", sa.Integer(), nullable=False),
    sa.Column("closed_reason", sa.String(32)),
    sa.Column("reason", sa.String(32)),  # why the last change
    timestamp("changed_at", nullable=False),
    sa.Column("changed_by", sa.String(128), nullable=False),
)
