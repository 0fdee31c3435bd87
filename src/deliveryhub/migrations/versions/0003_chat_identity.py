"""Chat identity (issue 13): durable verification-failure counters with lockout, how a chat session was
verified (digits or link), and encrypted chat photo attachments.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add chat_sessions.verified_by, chat_verify_guard and chat_attachments."""
    with op.batch_alter_table("chat_sessions") as batch:
        batch.add_column(sa.Column("verified_by", sa.String(length=8), nullable=True))
    op.create_table(
        "chat_verify_guard",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_chat_verify_guard")),
    )
    op.create_index(
        op.f("ix_chat_verify_guard_locked_until"), "chat_verify_guard", ["locked_until"], unique=False
    )
    op.create_table(
        "chat_attachments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachments")),
    )
    for col in ("created_at", "customer_id", "order_id", "session_id"):
        op.create_index(op.f(f"ix_chat_attachments_{col}"), "chat_attachments", [col], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    for col in ("created_at", "customer_id", "order_id", "session_id"):
        op.drop_index(op.f(f"ix_chat_attachments_{col}"), table_name="chat_attachments")
    op.drop_table("chat_attachments")
    op.drop_index(op.f("ix_chat_verify_guard_locked_until"), table_name="chat_verify_guard")
    op.drop_table("chat_verify_guard")
    with op.batch_alter_table("chat_sessions") as batch:
        batch.drop_column("verified_by")
