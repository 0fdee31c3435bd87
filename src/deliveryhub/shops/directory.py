"""The platform's directory of shops: create, look up, list and erase; each shop's sealed root key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.pii.cipher import LocalMasterKey, MasterKeyProvider
from deliveryhub.security.tenancy import DEFAULT_SHOP, SLUG_PATTERN
from deliveryhub.shops.tables import shops

# Slugs that would read as something else in a URL, a subject or a log line.
RESERVED_SLUGS = frozenset({DEFAULT_SHOP, "platform", "admin", "api", "static", "www", "s", "v1", "all"})


class ShopError(ValueError):
    """A shop request that cannot be done; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Shop:
    """One tenant as the platform lists it."""

    slug: str
    name: str
    status: str = "active"
    created_at: datetime | None = None
    brand_color: str | None = None
    contact: str | None = None
    config_file: str | None = None
    rate_limit_per_minute: int | None = None

    @property
    def active(self) -> bool:
        """Whether the shop takes traffic (erased shops do not)."""
        return self.status == "active"


def _aad(slug: str) -> bytes:
    return f"deliveryhub shop root key v1:{slug}".encode()


def check_slug(slug: str) -> str:
    """`slug` when it is a valid new shop slug, else ShopError naming the field."""
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        raise ShopError(
            "slug: 2–32 characters, lowercase letters, digits and '-', starting with a letter "
            "/ 영문 소문자·숫자·'-' 2~32자, 영문으로 시작",
            "slug",
        )
    if slug in RESERVED_SLUGS:
        raise ShopError(f"slug: {slug!r} is reserved / 예약된 이름입니다", "slug")
    return slug


def _shop(row: Any) -> Shop:
    return Shop(
        slug=row.slug,
        name=row.name,
        status=row.status,
        created_at=row.created_at,
        brand_color=row.brand_color,
        contact=row.contact,
        config_file=row.config_file,
        rate_limit_per_minute=row.rate_limit_per_minute,
    )


class ShopDirectory:
    """The shops table of the platform database, and the shops' root keys under the platform master."""

    def __init__(self, db: Database, master: MasterKeyProvider, default_name: str = "기본 상점") -> None:
        self.db = db
        self.master = master
        self.default_name = default_name

    def create(
        self,
        name: str,
        slug: str,
        now: datetime,
        *,
        brand_color: str | None = None,
        contact: str | None = None,
        config_file: str | None = None,
    ) -> Shop:
        """Register a new shop with a fresh root key; ShopError for a bad or taken slug or an empty name."""
        slug = check_slug(slug)
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise ShopError("name: 1–120 characters / 상점 이름은 1~120자", "name")
        wrapped = self.master.wrap(secrets.token_bytes(32), _aad(slug))
        with self.db.write() as conn:
            if conn.execute(sa.select(shops.c.slug).where(shops.c.slug == slug)).first() is not None:
                raise ShopError(f"slug: a shop {slug!r} already exists / 이미 있는 상점입니다", "slug", 409)
            conn.execute(
                shops.insert().values(
                    slug=slug,
                    name=name,
                    status="active",
                    key_wrapped=wrapped,
                    brand_color=brand_color,
                    contact=contact,
                    config_file=config_file,
                    created_at=now,
                )
            )
        found = self.get(slug)
        assert found is not None  # noqa: S101 - just inserted
        return found

    def get(self, slug: str) -> Shop | None:
        """The shop by slug (`default` always exists), or None."""
        if slug == DEFAULT_SHOP:
            return Shop(DEFAULT_SHOP, self.default_name)
        with self.db.read() as conn:
            row = conn.execute(sa.select(shops).where(shops.c.slug == slug)).first()
        return _shop(row) if row is not None else None

    def list(self, *, include_erased: bool = False) -> list[Shop]:
        """Every shop, `default` first, then by slug."""
        query = sa.select(shops).order_by(shops.c.slug)
        if not include_erased:
            query = query.where(shops.c.status == "active")
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [Shop(DEFAULT_SHOP, self.default_name), *(_shop(r) for r in rows)]

    def root_key(self, slug: str) -> MasterKeyProvider:
        """The shop's root key (the platform master for `default`); ShopError when erased or unknown."""
        if slug == DEFAULT_SHOP:
            return self.master
        with self.db.read() as conn:
            row = conn.execute(sa.select(shops.c.key_wrapped).where(shops.c.slug == slug)).first()
        if row is None or row.key_wrapped is None:
            raise ShopError(f"shop {slug!r} does not exist or was erased", "shop", 404)
        return LocalMasterKey(self.master.unwrap(row.key_wrapped, _aad(slug)))

    def update(self, slug: str, **values: Any) -> Shop:
        """Change a shop's name, brand colour, contact, config file or rate limit."""
        allowed = {"name", "brand_color", "contact", "config_file", "rate_limit_per_minute"}
        unknown = set(values) - allowed
        if unknown:
            raise ShopError(f"{sorted(unknown)[0]}: not a shop setting", sorted(unknown)[0])
        with self.db.write() as conn:
            res = conn.execute(
                shops.update().where(shops.c.slug == slug, shops.c.status == "active").values(**values)
            )
        if res.rowcount == 0:
            raise ShopError(f"shop {slug!r} not found", "shop", 404)
        found = self.get(slug)
        assert found is not None  # noqa: S101 - just updated
        return found

    def mark_erased(self, slug: str, now: datetime) -> None:
        """Forget the shop's root key (crypto-shredding every copy of its data) and mark it erased."""
        if slug == DEFAULT_SHOP:
            raise ShopError("the default shop cannot be erased", "shop")
        with self.db.write() as conn:
            res = conn.execute(
                shops.update()
                .where(shops.c.slug == slug, shops.c.status == "active")
                .values(status="erased", key_wrapped=None, erased_at=now)
            )
        if res.rowcount == 0:
            raise ShopError(f"shop {slug!r} not found", "shop", 404)
