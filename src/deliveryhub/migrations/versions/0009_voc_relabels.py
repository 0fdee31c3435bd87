"""VOC relabels (issue 18 item 5): a CS lead's corrections of tickets' VOC categories, for the next
training round of the VOC classifier.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create voc_relabels."""
    op.create_table(
        "voc_relabels",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("from_category", sa.String(length=32), nullable=True),
        sa.Column("to_category", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voc_relabels")),
    )
    op.create_index(op.f("ix_voc_relabels_ticket_id"), "voc_relabels", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_voc_relabels_at"), "voc_relabels", ["at"], unique=False)


def downgrade() -> None:
    """Drop voc_relabels (the corrected categories stay on the tickets)."""
    op.drop_index(op.f("ix_voc_relabels_at"), table_name="voc_relabels")
    op.drop_index(op.f("ix_voc_relabels_ticket_id"), table_name="voc_relabels")
    op.drop_table("voc_relabels")
