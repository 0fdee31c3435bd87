"""Shops (issue 20): the platform's list of tenant shops, each with its own sealed root key.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the shops table (the `default` shop is implicit: it is this database)."""
    op.create_table(
        "shops",
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("brand_color", sa.String(length=16), nullable=True),
        sa.Column("contact", sa.String(length=64), nullable=True),
        sa.Column("config_file", sa.String(length=500), nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("erased_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_shops")),
    )


def downgrade() -> None:
    """Drop the list (the shops' own databases are left as they are)."""
    op.drop_table("shops")
