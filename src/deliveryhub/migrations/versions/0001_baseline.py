"""Baseline schema of deliveryhub 0.1: backbone and feature tables, as explicit operations.

Frozen from the table metadata of 0.1 (it was `metadata.create_all` until the second session; the result is
the same schema). Every later change to `tables.py` needs its own revision: the migration test compares a
database upgraded to head with the metadata, on SQLite and PostgreSQL.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "audit_reviews",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_audit_reviews")),
    )
    op.create_table(
        "chat_messages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index("ix_chat_messages_session_id", "chat_messages", ["session_id", "id"], unique=False)
    op.create_table(
        "chat_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("verify_failures", sa.Integer(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("low_conf_streak", sa.Integer(), nullable=False),
        sa.Column("clarified", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("handed_off_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("last_intent", sa.String(length=32), nullable=True),
        sa.Column("bot_answers", sa.Integer(), nullable=False),
        sa.Column("voc_category", sa.String(length=32), nullable=True),
        sa.Column("voc_sentiment", sa.String(length=16), nullable=True),
        sa.Column("emitted", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_chat_sessions")),
    )
    op.create_index(op.f("ix_chat_sessions_created_at"), "chat_sessions", ["created_at"], unique=False)
    op.create_index(op.f("ix_chat_sessions_customer_id"), "chat_sessions", ["customer_id"], unique=False)
    op.create_index(op.f("ix_chat_sessions_order_id"), "chat_sessions", ["order_id"], unique=False)
    op.create_table(
        "connector_carrier_state",
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("next_slot_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("backoff_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("last_poll_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_error_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("carrier", name=op.f("pk_connector_carrier_state")),
    )
    op.create_table(
        "connector_poll_state",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("shipment_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("tracking_no", sa.String(length=64), nullable=False),
        sa.Column("next_poll_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("lease_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_poll_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_result", sa.String(length=32), nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "shipment_id", name=op.f("pk_connector_poll_state")),
    )
    op.create_index(
        op.f("ix_connector_poll_state_carrier"), "connector_poll_state", ["carrier"], unique=False
    )
    op.create_index(
        op.f("ix_connector_poll_state_next_poll_at"), "connector_poll_state", ["next_poll_at"], unique=False
    )
    op.create_table(
        "connector_silence",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("silent_since", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("detected_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("alerted_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("alert_key", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_connector_silence")),
    )
    op.create_table(
        "connector_source_seen",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("last_received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_event_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_connector_source_seen")),
    )
    op.create_table(
        "connector_unknown_statuses",
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.String(length=200), nullable=False),
        sa.Column("raw_code", sa.String(length=64), nullable=True),
        sa.Column("raw_status", sa.String(length=500), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("example_order_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("carrier", "raw", name=op.f("pk_connector_unknown_statuses")),
    )
    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_consumer_positions")),
    )
    op.create_table(
        "csat_surveys",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("answered_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_csat_surveys")),
    )
    op.create_index(op.f("ix_csat_surveys_ticket_id"), "csat_surveys", ["ticket_id"], unique=False)
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("phone_bidx", sa.String(length=64), nullable=True),
        sa.Column("email_bidx", sa.String(length=64), nullable=True),
        sa.Column("kek_id", sa.String(length=32), nullable=True),
        sa.Column("dek_wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("address_enc", sa.LargeBinary(), nullable=True),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("erased_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_email_bidx"), "customers", ["email_bidx"], unique=False)
    op.create_index(op.f("ix_customers_phone_bidx"), "customers", ["phone_bidx"], unique=False)
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("retired_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "faq_entries",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("question_ko", sa.String(length=500), nullable=False),
        sa.Column("answer_ko", sa.String(length=4000), nullable=False),
        sa.Column("question_en", sa.String(length=500), nullable=False),
        sa.Column("answer_en", sa.String(length=4000), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_faq_entries")),
    )
    op.create_table(
        "inbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("shipment_id", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("schema_version", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_inbox_source_event_id")),
    )
    op.create_index("ix_inbox_order_occurred", "inbox", ["order_id", "occurred_at"], unique=False)
    op.create_index("ix_inbox_type_occurred", "inbox", ["type", "occurred_at"], unique=False)
    op.create_table(
        "ingest_rejections",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("hour", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "hour", name=op.f("pk_ingest_rejections")),
    )
    op.create_table(
        "kpi_alerts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("raised_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("notified_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", "period", name=op.f("pk_kpi_alerts")),
    )
    op.create_table(
        "kpi_manual_values",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("grp", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("entered_by", sa.String(length=128), nullable=False),
        sa.Column("entered_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_manual_values")),
        sa.UniqueConstraint("key", "period", "grp", name=op.f("uq_kpi_manual_values_key_period_grp")),
    )
    op.create_table(
        "kpi_targets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("warning", sa.Float(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kpi_targets")),
    )
    op.create_table(
        "monitor_compensations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("issued_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_compensations")),
        sa.UniqueConstraint("order_id", "rule", name=op.f("uq_monitor_compensations_order_id_rule")),
    )
    op.create_index("ix_monitor_compensations_status", "monitor_compensations", ["status"], unique=False)
    op.create_table(
        "monitor_exceptions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("shipment_id", sa.String(length=128), nullable=True),
        sa.Column("carrier", sa.String(length=32), nullable=True),
        sa.Column("warehouse", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.JSON(), nullable=True),
        sa.Column("due_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("opened_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_exceptions")),
    )
    op.create_index(op.f("ix_monitor_exceptions_order_id"), "monitor_exceptions", ["order_id"], unique=False)
    op.create_index(
        "ix_monitor_exceptions_status_type", "monitor_exceptions", ["status", "type"], unique=False
    )
    op.create_index(
        "uq_monitor_exceptions_active",
        "monitor_exceptions",
        ["type", "subject"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
        sqlite_where=sa.text("status <> 'resolved'"),
    )
    op.create_table(
        "monitor_oms_updates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("update", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_oms_updates")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_monitor_oms_updates_idempotency_key")),
    )
    op.create_index(
        op.f("ix_monitor_oms_updates_order_id"), "monitor_oms_updates", ["order_id"], unique=False
    )
    op.create_index("ix_monitor_oms_updates_status", "monitor_oms_updates", ["status"], unique=False)
    op.create_table(
        "monitor_stock",
        sa.Column("warehouse", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("counted_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("warehouse", "sku", name=op.f("pk_monitor_stock")),
    )
    op.create_table(
        "monitor_timers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("due_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("fired_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("result", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_timers")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_monitor_timers_kind_subject")),
    )
    op.create_index(op.f("ix_monitor_timers_due_at"), "monitor_timers", ["due_at"], unique=False)
    op.create_index("ix_monitor_timers_order", "monitor_timers", ["order_id"], unique=False)
    op.create_table(
        "notice_missing",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("stage", sa.String(length=128), nullable=False),
        sa.Column("deadline_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("detected_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_missing")),
        sa.UniqueConstraint("job_id", name=op.f("uq_notice_missing_job_id")),
    )
    op.create_index(op.f("ix_notice_missing_order_id"), "notice_missing", ["order_id"], unique=False)
    op.create_table(
        "notification_jobs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("idem_key", sa.String(length=300), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=128), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("advertising", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("delay_notice", sa.Boolean(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("trigger_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("scheduled_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("lease_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("deadline_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("sent_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("recipient_masked", sa.String(length=80), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("dead_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_jobs")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_notification_jobs_idem_key")),
    )
    op.create_index("ix_notification_jobs_created", "notification_jobs", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_notification_jobs_customer_id"), "notification_jobs", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_notification_jobs_due", "notification_jobs", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(op.f("ix_notification_jobs_order_id"), "notification_jobs", ["order_id"], unique=False)
    op.create_index(op.f("ix_notification_jobs_status"), "notification_jobs", ["status"], unique=False)
    op.create_table(
        "notification_preferences",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("opt_out", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("ad_consent", sa.Boolean(), nullable=False),
        sa.Column("ad_consent_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notification_receipts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_receipts")),
    )
    op.create_index(
        op.f("ix_notification_receipts_job_id"), "notification_receipts", ["job_id"], unique=False
    )
    op.create_table(
        "order_stages",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "stage", name=op.f("pk_order_stages")),
    )
    op.create_index("ix_order_stages_stage_occurred", "order_stages", ["stage", "occurred_at"], unique=False)
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("stage_rank", sa.SmallInteger(), nullable=False),
        sa.Column("stage_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("side_state", sa.String(length=32), nullable=True),
        sa.Column("side_state_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("warehouse", sa.String(length=128), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("paid_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_event_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"], unique=False)
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"], unique=False)
    op.create_index(op.f("ix_orders_stage"), "orders", ["stage"], unique=False)
    op.create_table(
        "outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("partition", sa.SmallInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("published_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("publish_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("publish_seq", name=op.f("uq_outbox_publish_seq")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "parcels",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("shipment_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=True),
        sa.Column("tracking_no", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("status_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("handed_over_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_event_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("eta_min", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("eta_max", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "shipment_id", name=op.f("pk_parcels")),
    )
    op.create_index(op.f("ix_parcels_carrier"), "parcels", ["carrier"], unique=False)
    op.create_index(op.f("ix_parcels_status"), "parcels", ["status"], unique=False)
    op.create_index(op.f("ix_parcels_tracking_no"), "parcels", ["tracking_no"], unique=False)
    op.create_table(
        "processed_messages",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_processed_messages")),
    )
    op.create_table(
        "quarantine",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=72), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_received_at"), "quarantine", ["received_at"], unique=False)
    op.create_table(
        "retention_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("ran_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("cutoff", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("kept_open_claim", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index(op.f("ix_retention_runs_ran_at"), "retention_runs", ["ran_at"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"], unique=False)
    op.create_table(
        "source_stats",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("hour", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_event_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", "hour", name=op.f("pk_source_stats")),
    )
    op.create_table(
        "ticket_messages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("author_kind", sa.String(length=12), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=True),
        sa.Column("text", sa.String(length=20000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id", "id"], unique=False)
    op.create_table(
        "ticket_sla_alerts",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "metric", name=op.f("pk_ticket_sla_alerts")),
    )
    op.create_table(
        "tickets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("customer_verified", sa.Boolean(), nullable=False),
        sa.Column("requester_enc", sa.LargeBinary(), nullable=True),
        sa.Column("requester_masked", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.String(length=2000), nullable=True),
        sa.Column("voc_category", sa.String(length=32), nullable=True),
        sa.Column("voc_sentiment", sa.String(length=16), nullable=True),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("canonical_id", sa.String(length=128), nullable=False),
        sa.Column("first_response_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_customer_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_agent_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column(
            "awaiting_reply_since", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True
        ),
        sa.Column("resolved_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("first_due", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("next_due", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("resolve_due", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("paused_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("sla_missed", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_tickets_source_ref")),
    )
    op.create_index(op.f("ix_tickets_assignee"), "tickets", ["assignee"], unique=False)
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"], unique=False)
    op.create_index(op.f("ix_tickets_customer_id"), "tickets", ["customer_id"], unique=False)
    op.create_index(op.f("ix_tickets_order_id"), "tickets", ["order_id"], unique=False)
    op.create_index(op.f("ix_tickets_session_id"), "tickets", ["session_id"], unique=False)
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"], unique=False)
    op.create_index(op.f("ix_tickets_voc_category"), "tickets", ["voc_category"], unique=False)
    op.create_table(
        "unanswered_questions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("norm", sa.String(length=1000), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    op.create_index(op.f("ix_unanswered_questions_at"), "unanswered_questions", ["at"], unique=False)
    op.create_table(
        "users",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column(
            "password_changed_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False
        ),
        sa.Column("last_login_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index(op.f("ix_unanswered_questions_at"), table_name="unanswered_questions")
    op.drop_table("unanswered_questions")
    op.drop_index(op.f("ix_tickets_voc_category"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_status"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_session_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_order_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_customer_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_created_at"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_assignee"), table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("ticket_sla_alerts")
    op.drop_index("ix_ticket_messages_ticket_id", table_name="ticket_messages")
    op.drop_table("ticket_messages")
    op.drop_table("source_stats")
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_retention_runs_ran_at"), table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_index(op.f("ix_quarantine_received_at"), table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_table("processed_messages")
    op.drop_index(op.f("ix_parcels_tracking_no"), table_name="parcels")
    op.drop_index(op.f("ix_parcels_status"), table_name="parcels")
    op.drop_index(op.f("ix_parcels_carrier"), table_name="parcels")
    op.drop_table("parcels")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_index(op.f("ix_orders_stage"), table_name="orders")
    op.drop_index(op.f("ix_orders_customer_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_order_stages_stage_occurred", table_name="order_stages")
    op.drop_table("order_stages")
    op.drop_index(op.f("ix_notification_receipts_job_id"), table_name="notification_receipts")
    op.drop_table("notification_receipts")
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_notification_jobs_status"), table_name="notification_jobs")
    op.drop_index(op.f("ix_notification_jobs_order_id"), table_name="notification_jobs")
    op.drop_index("ix_notification_jobs_due", table_name="notification_jobs")
    op.drop_index(op.f("ix_notification_jobs_customer_id"), table_name="notification_jobs")
    op.drop_index("ix_notification_jobs_created", table_name="notification_jobs")
    op.drop_table("notification_jobs")
    op.drop_index(op.f("ix_notice_missing_order_id"), table_name="notice_missing")
    op.drop_table("notice_missing")
    op.drop_index("ix_monitor_timers_order", table_name="monitor_timers")
    op.drop_index(op.f("ix_monitor_timers_due_at"), table_name="monitor_timers")
    op.drop_table("monitor_timers")
    op.drop_table("monitor_stock")
    op.drop_index("ix_monitor_oms_updates_status", table_name="monitor_oms_updates")
    op.drop_index(op.f("ix_monitor_oms_updates_order_id"), table_name="monitor_oms_updates")
    op.drop_table("monitor_oms_updates")
    op.drop_index(
        "uq_monitor_exceptions_active",
        table_name="monitor_exceptions",
        postgresql_where=sa.text("status <> 'resolved'"),
        sqlite_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index("ix_monitor_exceptions_status_type", table_name="monitor_exceptions")
    op.drop_index(op.f("ix_monitor_exceptions_order_id"), table_name="monitor_exceptions")
    op.drop_table("monitor_exceptions")
    op.drop_index("ix_monitor_compensations_status", table_name="monitor_compensations")
    op.drop_table("monitor_compensations")
    op.drop_table("kpi_targets")
    op.drop_table("kpi_manual_values")
    op.drop_table("kpi_alerts")
    op.drop_table("ingest_rejections")
    op.drop_index("ix_inbox_type_occurred", table_name="inbox")
    op.drop_index("ix_inbox_order_occurred", table_name="inbox")
    op.drop_table("inbox")
    op.drop_table("faq_entries")
    op.drop_table("data_keys")
    op.drop_index(op.f("ix_customers_phone_bidx"), table_name="customers")
    op.drop_index(op.f("ix_customers_email_bidx"), table_name="customers")
    op.drop_table("customers")
    op.drop_index(op.f("ix_csat_surveys_ticket_id"), table_name="csat_surveys")
    op.drop_table("csat_surveys")
    op.drop_table("consumer_positions")
    op.drop_table("connector_unknown_statuses")
    op.drop_table("connector_source_seen")
    op.drop_table("connector_silence")
    op.drop_index(op.f("ix_connector_poll_state_next_poll_at"), table_name="connector_poll_state")
    op.drop_index(op.f("ix_connector_poll_state_carrier"), table_name="connector_poll_state")
    op.drop_table("connector_poll_state")
    op.drop_table("connector_carrier_state")
    op.drop_index(op.f("ix_chat_sessions_order_id"), table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_sessions_customer_id"), table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_sessions_created_at"), table_name="chat_sessions")
    op.drop_table("chat_sessions")
    op.drop_index("ix_chat_messages_session_id", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_table("audit_reviews")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    op.drop_table("api_keys")
