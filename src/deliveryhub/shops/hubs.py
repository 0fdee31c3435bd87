"""One wired hub per shop, built from the platform's settings: the shop's own database (a SQLite file
beside the platform's, or a PostgreSQL schema `shop_<slug>`), its own bus stream, its own public URL
prefix `/s/<slug>`, its own config file and brand, and its own root key.

Isolation is by construction: a shop's hub holds a connection to its own rows only, so no query of any
feature can reach another shop's orders, whatever it forgets to filter."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa

from deliveryhub.config import Settings
from deliveryhub.pii.cipher import MasterKeyProvider
from deliveryhub.security.ratelimit import RateLimits
from deliveryhub.security.tenancy import DEFAULT_SHOP
from deliveryhub.shops.directory import Shop, ShopDirectory, ShopError
from deliveryhub.shops.profile import ShopProfile

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

RECHECK_SECONDS = 5.0
HubBuilder = Callable[[Settings, MasterKeyProvider], "Hub"]


def schema_name(slug: str) -> str:
    """The PostgreSQL schema of a shop."""
    return "shop_" + slug.replace("-", "_")


def shop_db_url(platform: Settings, slug: str) -> str:
    """Where a shop's rows live, derived from the platform's database URL."""
    if platform.is_sqlite:
        base = platform.sqlite_path
        if base is None:
            raise ShopError("shops need a file or PostgreSQL database, not :memory:", "db_url")
        return f"sqlite:///{base.parent / 'shops' / (slug + '.db')}"
    sep = "&" if "?" in platform.db_url else "?"
    return f"{platform.db_url}{sep}options={quote('-csearch_path=' + schema_name(slug))}"


def shop_settings(platform: Settings, shop: Shop) -> Settings:
    """The platform's settings with the shop's own database, stream, links, data folder and limits."""
    if shop.slug == DEFAULT_SHOP:
        return platform
    values: dict[str, Any] = platform.model_dump()
    values.update(
        shop_slug=shop.slug,
        db_url=shop_db_url(platform, shop.slug),
        bus_stream=f"{platform.bus_stream}_{shop.slug.upper().replace('-', '_')}",
        public_url=platform.public_url.rstrip("/") + f"/s/{shop.slug}",
        data_dir=Path(platform.data_dir) / "shops" / shop.slug,
        config_file=shop.config_file or platform.config_file,
    )
    if shop.rate_limit_per_minute:
        values["rate_limit_per_minute"] = shop.rate_limit_per_minute
    return type(platform)(**values)


def apply_brand(hub: Hub, shop: Shop) -> None:
    """The shop's name, contact and colour on its notices, tracking pages and expired-link page."""
    feature = hub.notifications
    if feature is None:
        return
    feature.settings.shop_name = shop.name
    if shop.contact:
        feature.settings.shop_contact = shop.contact
    feature.link_settings = replace(
        feature.link_settings,
        shop_name=shop.name,
        shop_contact=shop.contact or feature.link_settings.shop_contact,
        brand_color=shop.brand_color,
    )
    feature.links.settings = feature.link_settings


def refresh(hub: Hub, shop: Shop) -> None:
    """Apply a shop's changed settings to its live hub: brand, and the rate limit (a platform operator's
    `PATCH /v1/shops/{slug}` or `deliveryhub shops set` reaches a running server within RECHECK_SECONDS)."""
    apply_brand(hub, shop)
    limit = shop.rate_limit_per_minute
    if limit and limit != hub.settings.rate_limit_per_minute:
        hub.settings.rate_limit_per_minute = limit
        if hub.security is not None:
            hub.security.limits = RateLimits.from_settings(hub.settings)


def _default_builder(settings: Settings, master: MasterKeyProvider) -> Hub:
    from deliveryhub.bootstrap import bootstrap

    return bootstrap(settings, master=master)


class ShopHubs:
    """The platform hub (`default`) plus a lazily built, cached hub for every active shop."""

    def __init__(self, platform: Hub, build: HubBuilder = _default_builder) -> None:
        self.platform = platform
        feature = platform.notifications
        name = feature.settings.shop_name if feature is not None else "기본 상점"
        self.directory = ShopDirectory(platform.db, platform.keyring.master, default_name=str(name))
        self._build = build
        self._hubs: dict[str, Hub] = {DEFAULT_SHOP: platform}
        if platform.profile is None:
            platform.profile = ShopProfile(self.directory, DEFAULT_SHOP, platform)
        self._checked: dict[str, float] = {}
        self._lock = threading.RLock()
        self.on_new_hub: list[Callable[[str, Hub], None]] = []
        self.on_gone: list[Callable[[str], None]] = []

    def hub(self, slug: str) -> Hub | None:
        """The shop's hub, built on first use; None for an unknown or erased shop.

        A cached shop's status is read again every RECHECK_SECONDS, so a shop erased by another process
        (`deliveryhub shops erase`) stops being served within that time."""
        found = self._hubs.get(slug)
        now = time.monotonic()
        if found is not None and (
            slug == DEFAULT_SHOP or now - self._checked.get(slug, 0.0) < RECHECK_SECONDS
        ):
            return found
        with self._lock:
            shop = self.directory.get(slug)
            if shop is None or not shop.active:
                stale = self._hubs.pop(slug, None)
                if stale is not None:
                    for gone in self.on_gone:
                        gone(slug)  # e.g. the front door stops that shop's in-process worker first
                    stale.close()
                return None
            self._checked[slug] = now
            found = self._hubs.get(slug)
            if found is not None:
                refresh(found, shop)
                return found
            found = self._open(shop)
            self._hubs[slug] = found
        for hook in self.on_new_hub:
            hook(slug, found)
        return found

    def _open(self, shop: Shop) -> Hub:
        settings = shop_settings(self.platform.settings, shop)
        if not settings.is_sqlite:
            with self.platform.db.write() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(shop.slug)}"'))
        hub = self._build(settings, self.directory.root_key(shop.slug))
        apply_brand(hub, shop)
        hub.profile = ShopProfile(self.directory, shop.slug, hub)  # before any request can reach it
        return hub

    def all(self) -> list[tuple[Shop, Hub]]:
        """Every active shop with its hub (built as needed), `default` first."""
        out = []
        for shop in self.directory.list():
            hub = self.hub(shop.slug)
            if hub is not None:
                out.append((shop, hub))
        return out

    def loaded(self) -> list[tuple[str, Hub]]:
        """The hubs built so far."""
        with self._lock:
            return list(self._hubs.items())

    def erase(self, slug: str) -> None:
        """Shred a shop: forget its root key, close its hub and delete its database."""
        shop = self.directory.get(slug)
        if shop is None or not shop.active:
            raise ShopError(f"shop {slug!r} not found", "shop", 404)
        self.directory.mark_erased(slug, self.platform.clock.now())
        with self._lock:
            hub = self._hubs.pop(slug, None)
        if hub is not None:
            hub.close()
        settings = shop_settings(self.platform.settings, shop)
        if settings.is_sqlite:
            path = settings.sqlite_path
            for f in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm"))) if path else ():
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
            shutil.rmtree(settings.data_dir, ignore_errors=True)
        else:
            with self.platform.db.write() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name(slug)}" CASCADE'))

    def close(self) -> None:
        """Close every shop hub but the platform's (its owner closes it)."""
        with self._lock:
            hubs = [h for s, h in self._hubs.items() if s != DEFAULT_SHOP]
            self._hubs = {DEFAULT_SHOP: self.platform}
        for h in hubs:
            h.close()
