"""The whole schema: the core tables and every feature's tables on the one metadata.

It sits beside the composition root because it names every feature; the migration test compares it
with what the Alembic scripts build, and `alembic_config(target_metadata=...)` hands it to autogenerate.
"""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.connectors import tables as connector_tables
from deliveryhub.adapters.persistence import tables as core_tables
from deliveryhub.aftersales import tables as aftersales_tables
from deliveryhub.chatbot import tables as chat_tables
from deliveryhub.effects import tables as effects_tables
from deliveryhub.kpi import tables as kpi_tables
from deliveryhub.monitors import tables as monitor_tables
from deliveryhub.notifications import tables as notification_tables
from deliveryhub.payments import tables as payments_tables
from deliveryhub.security import tables as security_tables
from deliveryhub.shops import tables as shop_tables

# Importing a feature's tables module registers its tables on the shared metadata.
_FEATURE_TABLES = (
    connector_tables,
    chat_tables,
    kpi_tables,
    monitor_tables,
    notification_tables,
    security_tables,
    shop_tables,
    aftersales_tables,
    effects_tables,
    payments_tables,
)


def all_tables() -> sa.MetaData:
    """The metadata with every table of every package registered."""
    return core_tables.metadata
