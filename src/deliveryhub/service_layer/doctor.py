"""`deliveryhub doctor`: check every configured connection end to end and say what is broken.

The checks only answer; the command line (entrypoints/cli.py) prints them."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple
from urllib.parse import urlparse

from deliveryhub.adapters.connectors.doctor import Endpoint
from deliveryhub.adapters.connectors.doctor import checks as connector_checks
from deliveryhub.config import Settings

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
