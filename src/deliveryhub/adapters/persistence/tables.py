"""Core tables of the event backbone: inbox, quarantine, projections, outbox, consumer tracking, keys.

Feature packages declare their own tables on the same `metadata` in their own modules;
`deliveryhub.schema.all_tables()` registers them all.
"""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import (
    customer_id_column,
    id_column,
    order_id_column,
    shipment_id_column,
    source_column,
    timestamp,
)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# Every accepted canonical event, once. The internal id is time-ordered (rowid / identity); the
# idempotency key is (source, event_id).
inbox = sa.Table(
    "inbox",
    metadata,
    id_column(),
    source_column(nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    order_id_column(),
    shipment_id_column(),
    timestamp("occurred_at", nullable=False),
    timestamp("received_at", nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("manual", sa.Boolean(), nullable=False, default=False),
    sa.Column("schema_version", sa.SmallInteger(), nullable=False, default=1),
    sa.UniqueConstraint("source", "event_id"),
    sa.Index("ix_inbox_order_occurred", "order_id", "occurred_at"),
    sa.Index("ix_inbox_type_occurred", "type", "occurred_at"),
)

# Rejected input, encrypted (it may carry personal data), with the reason; fixable and replayable.
quarantine = sa.Table(
    "quarantine",
    metadata,
    id_column(),
    timestamp("received_at", nullable=False, index=True),
    source_column(),
    sa.Column("event_id", sa.String(128)),
    sa.Column("reason_code", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("field", sa.String(200)),
    sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    timestamp("resolved_at"),
)

# Key-encryption keys, wrapped by the master key. Customer data keys are wrapped by one of these.
data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | retiring | retired
    timestamp("created_at", nullable=False),
    timestamp("retired_at"),
)

# Personal data, kept apart from the orders and encrypted per customer (crypto-shredding = drop dek).
customers = sa.Table(
    "customers",
    metadata,
    customer_id_column(primary_key=True),
    sa.Column("phone_bidx", sa.String(64), index=True),
    sa.Column("email_bidx", sa.String(64), index=True),
    sa.Column("kek_id", sa.String(32)),
    sa.Column("dek_wrapped", sa.LargeBinary()),
    sa.Column("name_enc", sa.LargeBinary()),
    sa.Column("phone_enc", sa.LargeBinary()),
    sa.Column("email_enc", sa.LargeBinary()),
    sa.Column("address_enc", sa.LargeBinary()),
    sa.Column("pseudonym", sa.String(40), nullable=False),
    timestamp("created_at", nullable=False),
    timestamp("updated_at", nullable=False),
    timestamp("erased_at"),
)

orders = sa.Table(
    "orders",
    metadata,
    order_id_column(primary_key=True),
    customer_id_column(index=True),
    sa.Column("stage", sa.String(32), index=True),
    sa.Column("stage_rank", sa.SmallInteger(), nullable=False, default=-1),
    timestamp("stage_at"),
    sa.Column("side_state", sa.String(32)),
    timestamp("side_state_at"),
    sa.Column("channel", sa.String(64)),
    sa.Column("total", sa.Float()),
    sa.Column("promised_date", sa.Date()),
    sa.Column("warehouse", sa.String(128)),
    sa.Column("region", sa.String(64)),
    sa.Column("category", sa.String(128)),
    timestamp("created_at", index=True),
    timestamp("paid_at"),
    timestamp("cancelled_at"),
    timestamp("delivered_at"),
    timestamp("last_event_at"),
    timestamp("updated_at", nullable=False),
)

# The stage timeline: one row per stage reached, at the earliest event that reached it.
order_stages = sa.Table(
    "order_stages",
    metadata,
    order_id_column(primary_key=True),
    sa.Column("stage", sa.String(32), primary_key=True),
    timestamp("occurred_at", nullable=False),
    source_column(nullable=False),
    sa.Column("automatic", sa.Boolean(), nullable=False),
    sa.Index("ix_order_stages_stage_occurred", "stage", "occurred_at"),
)

parcels = sa.Table(
    "parcels",
    metadata,
    order_id_column(primary_key=True),
    shipment_id_column(primary_key=True),
    sa.Column("carrier", sa.String(32), index=True),
    sa.Column("tracking_no", sa.String(64), index=True),
    sa.Column("status", sa.String(32), index=True),
    timestamp("status_at"),
    timestamp("handed_over_at"),
    timestamp("delivered_at"),
    timestamp("last_event_at"),
    timestamp("eta_min"),
    timestamp("eta_max"),
    timestamp("updated_at", nullable=False),
)

# Ordered outbox; the relay publishes rows with published_at NULL in id order.
outbox = sa.Table(
    "outbox",
    metadata,
    id_column(),
    sa.Column("topic", sa.String(64), nullable=False),
    order_id_column(),
    sa.Column("partition", sa.SmallInteger(), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    timestamp("created_at", nullable=False),
    timestamp("published_at"),
    # Gap-free publication order assigned by the single relay leader; in-process consumers follow it.
    sa.Column("publish_seq", sa.BigInteger(), unique=True),
    sa.Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
)

# Pull position of each in-process consumer over the outbox (the durable "notification log").
consumer_positions = sa.Table(
    "consumer_positions",
    metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False, default=0),
    timestamp("updated_at", nullable=False),
)

# Tracking rows: a consumer's effect and this row commit together, so redelivery is a no-op.
processed_messages = sa.Table(
    "processed_messages",
    metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.BigInteger(), primary_key=True),
    timestamp("processed_at", nullable=False),
)

# Integration health per source system and hour, maintained by the `integration_health` consumer.
source_stats = sa.Table(
    "source_stats",
    metadata,
    source_column(primary_key=True),
    timestamp("hour", primary_key=True),
    sa.Column("events", sa.Integer(), nullable=False, default=0),
    timestamp("last_event_at"),
    timestamp("last_received_at"),
)

ingest_rejections = sa.Table(
    "ingest_rejections",
    metadata,
    source_column(primary_key=True),
    timestamp("hour", primary_key=True),
    sa.Column("rejected", sa.Integer(), nullable=False, default=0),
    sa.Column("duplicates", sa.Integer(), nullable=False, default=0),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    id_column(),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON(), nullable=False),
    timestamp("created_at", nullable=False),
    timestamp("last_used_at"),
    timestamp("revoked_at"),
    timestamp("expires_at"),  # optional; an expired key is refused (migration 0004)
)
