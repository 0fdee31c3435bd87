"""`deliveryhub doctor`: check every configured connection end to end and say what is broken.

The checks only answer; the command line (entrypoints/cli.py) prints them."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlparse

from deliveryhub.adapters.connectors.doctor import Endpoint
from deliveryhub.adapters.connectors.doctor import checks as connector_checks
from deliveryhub.config import Settings

if TYPE_CHECKING:
    from deliveryhub.shops.hubs import ShopHubs

Check = tuple[str, Callable[[], str]]


class CheckResult(NamedTuple):
    """One check's outcome: its name, whether it worked, and what it found or what failed."""

    name: str
    ok: bool
    detail: str


def _check_db(settings: Any) -> str:
    from deliveryhub.adapters.persistence.database import Database
    from deliveryhub.migrations.runner import current

    db = Database(settings.db_url)
    try:
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        rev = current(db)
        return f"reachable ({db.dialect}), schema revision {rev or 'none: run `deliveryhub db upgrade`'}"
    finally:
        db.dispose()


def _check_bus(settings: Any) -> str:
    if settings.bus_url.startswith("inprocess://"):
        return "in-process bus (no broker needed)"
    import nats

    async def probe() -> str:
        nc = await nats.connect(
            servers=settings.bus_url.split(","), connect_timeout=3, max_reconnect_attempts=0
        )
        try:
            js = nc.jetstream(timeout=3)
            info = await js.account_info()
            return f"JetStream reachable, {info.streams} stream(s)"
        finally:
            await nc.close()

    return asyncio.run(probe())


def _check_smtp(settings: Any) -> str:
    url = urlparse(settings.smtp_url)
    with smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=5) as smtp:
        code, _ = smtp.noop()
    return f"SMTP server answers (NOOP {code})"


def doctor_checks(
    settings: Settings, outbound: Iterable[Endpoint] = (), extra: Iterable[Check] = ()
) -> list[Check]:
    """Every check of this configuration: database, bus, SMTP when set, each connector's endpoints, the
    `outbound` URLs features call (listed by the caller, e.g. the shops' WMS/TMS), then `extra`."""
    checks: list[Check] = [("database", lambda: _check_db(settings)), ("bus", lambda: _check_bus(settings))]
    if settings.smtp_url:
        checks.append(("smtp", lambda: _check_smtp(settings)))
    checks.extend(connector_checks(settings, outbound))
    checks.extend(extra)
    return checks


def run_checks(checks: list[Check]) -> Iterator[CheckResult]:
    """Run each check; a failure is a result naming the error, never an exception."""
    for name, check in checks:
        try:
            yield CheckResult(name, True, check())
        except Exception as exc:  # noqa: BLE001 - a broken connection is the answer, not a crash
            yield CheckResult(name, False, f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------- one shop (`doctor --shop SLUG`)
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


def shop_checks(hubs: ShopHubs, slug: str) -> list[Check]:
    """`doctor --shop SLUG`: the shop exists, its database answers at the current schema, its root key
    unwraps its keys, then each onboarding item (done, or what to do next)."""
    return [
        (f"shop {slug}", lambda: _check_shop(hubs, slug)),
        (f"shop {slug} database", lambda: _check_shop_db(hubs, slug)),
        (f"shop {slug} root key", lambda: _check_shop_keys(hubs, slug)),
        *_checklist_checks(hubs, slug),
    ]
