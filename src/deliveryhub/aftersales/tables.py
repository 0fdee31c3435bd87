"""The aftersales feature's tables (on the shared metadata; migration written by the owner)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - the owner's tables go here

from deliveryhub.adapters.persistence.tables import metadata  # noqa: F401
