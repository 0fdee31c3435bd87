"""The platform's list of shops (held in the platform database, i.e. the `default` shop's)."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import timestamp
from deliveryhub.adapters.persistence.tables import metadata

# One row per shop besides `default`. `key_wrapped` is the shop's own root key (32 bytes) sealed by the
# platform master key: every key-encryption key of the shop is wrapped by it, so deleting this one value
# shreds all of the shop's personal data, backups included.
shops = sa.Table(
    "shops",
    metadata,
    sa.Column("slug", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | erased
    sa.Column("key_wrapped", sa.LargeBinary()),
    sa.Column("brand_color", sa.String(16)),
    sa.Column("contact", sa.String(64)),
    sa.Column("config_file", sa.String(500)),
    sa.Column("rate_limit_per_minute", sa.Integer()),
    timestamp("created_at", nullable=False),
    timestamp("erased_at"),
)
