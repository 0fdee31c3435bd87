"""Column types shared by every table module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# SQLite only aliases rowid (fast, time-ordered) for INTEGER PRIMARY KEY, not BIGINT.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores timestamps as naive UTC and returns them timezone-aware (UTC) on every backend.

    On SQLite the value is the fixed-width ISO text SQLAlchemy's DateTime would write
    ("YYYY-MM-DD HH:MM:SS.ffffff"), but produced and parsed with the C-level isoformat/fromisoformat:
    the generic DateTime processors are a measurable share of ingest time.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(26))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        if dialect.name == "sqlite":
            return naive.isoformat(sep=" ", timespec="microseconds")
        return naive

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
