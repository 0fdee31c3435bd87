"""`deliveryhub doctor`: check every configured connection end to end and say what is broken."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import smtplib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from rich.console import Console

from deliveryhub.config import load_settings

Check = tuple[str, Callable[[], str]]


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


def run_doctor(obj: dict[str, Any] | None = None) -> bool:
    """Print one line per check; True when everything works."""
    obj = obj or {}
    settings = load_settings(db_url=obj.get("db_url"), bus_url=obj.get("bus_url"))
    checks: list[Check] = [("database", lambda: _check_db(settings)), ("bus", lambda: _check_bus(settings))]
    if settings.smtp_url:
        checks.append(("smtp", lambda: _check_smtp(settings)))
    if importlib.util.find_spec("deliveryhub.adapters.connectors.doctor"):
        extra = importlib.import_module("deliveryhub.adapters.connectors.doctor")
        checks.extend(extra.checks(settings))
    console = Console()
    ok = True
    for name, check in checks:
        try:
            console.print(f"[green]✔[/green] {name}: {check()}")
        except Exception as exc:
            ok = False
            console.print(f"[red]✘[/red] {name}: {type(exc).__name__}: {exc}")
    console.print("all connections work" if ok else "some connections are broken (see ✘ above)")
    return ok
