"""`deliveryhub doctor --shop SLUG`: a shop exists, its database answers at the current schema, its root key
unwraps its key-encryption keys, then each onboarding item (done, or what to do next)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from deliveryhub.service_layer.doctor import Check

if TYPE_CHECKING:
    from deliveryhub.shops.hubs import ShopHubs


class ToDo(Exception):
    """An onboarding item not done yet (printed as `ToDo: what was found. Next: …`)."""


def _shop_database(hubs: ShopHubs, slug: str) -> Any:
    """The shop's database (never created here: a missing SQLite file is the diagnosis)."""
    from deliveryhub.adapters.persistence.database import Database
    from deliveryhub.shops.hubs import shop_settings

    shop = hubs.directory.get(slug)
    if shop is None or not shop.active:
        raise LookupError(f"no shop {slug!r} / 상점을 찾을 수 없습니다: deliveryhub shops list")
    settings = shop_settings(hubs.platform.settings, shop)
    path = settings.sqlite_path if settings.is_sqlite else None
    if path is not None and not path.exists():
        raise FileNotFoundError(f"the shop's database file {path} is missing")
    return Database(settings.db_url)


def _check_shop(hubs: ShopHubs, slug: str) -> str:
    shop = hubs.directory.get(slug)
    if shop is None or not shop.active:
        raise LookupError(f"no shop {slug!r} / 상점을 찾을 수 없습니다: deliveryhub shops list")
    config = f", config file {shop.config_file}" if shop.config_file else ""
    return f"{shop.name} ({shop.status}){config}"


def _check_shop_db(hubs: ShopHubs, slug: str) -> str:
    from alembic.script import ScriptDirectory

    from deliveryhub.migrations.runner import alembic_config, current

    db = _shop_database(hubs, slug)
    try:
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        rev = current(db)
    finally:
        db.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if rev != head:
        raise RuntimeError(f"schema revision {rev or 'none'}, expected {head}: run `deliveryhub db upgrade`")
    return f"reachable, schema revision {rev} (current)"


def _check_shop_keys(hubs: ShopHubs, slug: str) -> str:
    import sqlalchemy as sa

    from deliveryhub.adapters.persistence import tables as t

    root = hubs.directory.root_key(slug)  # the platform master unwraps the shop's sealed root key
    db = _shop_database(hubs, slug)
    try:
        with db.read() as conn:
            rows = conn.execute(sa.select(t.data_keys).where(t.data_keys.c.status != "retired")).all()
    finally:
        db.dispose()
    for r in rows:
        root.unwrap(r.wrapped, b"kek:" + r.key_id.encode())  # raises when the root key is not this one
    return f"root key unwraps; {len(rows)} key-encryption key(s) open under it"


def _checklist_checks(hubs: ShopHubs, slug: str) -> list[Check]:
    from deliveryhub.kernel.labels import label
    from deliveryhub.shops.checklist import ITEMS, as_json, checklist

    computed: dict[str, Any] = {}

    def item(key: str) -> dict[str, Any]:
        if not computed:
            hub = hubs.hub(slug)
            if hub is None:
                raise LookupError(f"no shop {slug!r}")
            data = as_json(checklist(hub), slug, hub.settings.tz)
            computed.update({i["key"]: i for i in data["items"]})
        found: dict[str, Any] = computed[key]
        return found

    def check(key: str) -> str:
        found = item(key)
        if found["done"]:
            return str(found["summary"]["en"])
        command = f" — {found['command']}" if found["command"] else ""
        raise ToDo(f"{found['summary']['en']} Next: {found['next']['en']}{command}")

    def bound(key: str) -> Callable[[], str]:
        return lambda: check(key)

    return [(f"shop {slug} checklist: {label('shop_page', key, 'en')}", bound(key)) for key in ITEMS]


def _channel_checks(hubs: ShopHubs, slug: str) -> list[Check]:
    """The shop's own notification channels (its config file's `notifications:` over the environment)."""
    from deliveryhub.notifications.doctor import notification_checks

    shop = hubs.directory.get(slug)
    if shop is None or not shop.active or not shop.config_file:
        return []
    return [(f"shop {slug} {name}", check) for name, check in notification_checks(shop.config_file)]


def shop_checks(hubs: ShopHubs, slug: str) -> list[Check]:
    """`doctor --shop SLUG`: the shop exists, its database answers at the current schema, its root key
    unwraps its keys, then each onboarding item (done, or what to do next)."""
    return [
        (f"shop {slug}", lambda: _check_shop(hubs, slug)),
        (f"shop {slug} database", lambda: _check_shop_db(hubs, slug)),
        (f"shop {slug} root key", lambda: _check_shop_keys(hubs, slug)),
        *_checklist_checks(hubs, slug),
        *_channel_checks(hubs, slug),
    ]
