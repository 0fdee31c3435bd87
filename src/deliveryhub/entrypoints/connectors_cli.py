"""`deliveryhub connectors …`: list the configured sources, run one poll cycle now, replay a vendor payload.

    deliveryhub connectors list [--json]                   configured sources, last success, lag, rejections
    deliveryhub connectors sync SOURCE --once              one poll cycle of SOURCE now
    deliveryhub connectors replay SOURCE FILE [--dry-run]  one recorded vendor payload through SOURCE's mapper

SOURCE names: shopify, cafe24, naver, coupang, sweettracker, trackerdelivery, aftership, easypost (replay
and sync work for whichever are registered). Credentials come from the shop's config file or the
environment (``connectors.<source>`` / ``DELIVERYHUB_<SOURCE>_*``) and are never printed.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from deliveryhub.entrypoints.shops_cli import ShopOption, shop_hub
from deliveryhub.security.tenancy import DEFAULT_SHOP

if TYPE_CHECKING:
    from deliveryhub.adapters.connectors.base import Connector, ConnectorSettings
    from deliveryhub.bootstrap import Hub
    from deliveryhub.connectors.polling import PolledCarrier

SOURCE_NAMES: tuple[str, ...] = (
    "shopify",
    "cafe24",
    "naver",
    "coupang",
    "sweettracker",
    "trackerdelivery",
    "aftership",
    "easypost",
)
ROUTED_SOURCES = ("trackerdelivery", "sweettracker")

connectors_app = typer.Typer(help="Order and tracking sources / 주문·배송조회 연동", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def known_sources() -> list[str]:
    """The SOURCE names registered in this build, in the documented order."""
    from deliveryhub.adapters.connectors.base import connector_codes

    codes = set(connector_codes())
    return [name for name in SOURCE_NAMES if name in codes]


def _connector(source: str) -> Connector:
    from deliveryhub.adapters.connectors.base import get_connector

    if source not in known_sources():
        err.print(
            f"[red]알 수 없는 연동 소스 {source!r} / unknown source {source!r}; "
            f"known: {', '.join(known_sources())}[/red]"
        )
        raise typer.Exit(2)
    return get_connector(source)


def is_configured(connector: Connector, settings: ConnectorSettings) -> bool:
    """Whether a source has credentials (a secret, a client id) or, for a tracking API, a base URL."""
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr) and value.get_secret_value():
            return True
    if getattr(settings, "client_id", "") or getattr(settings, "mall_id", ""):
        return True
    return bool(connector.polls and settings.base_url)


def _polled(hub: Hub, source: str) -> dict[str, PolledCarrier]:
    """The poller entries (carrier code -> PolledCarrier) that belong to ``source``."""
    from deliveryhub.connectors.polling import configured_carriers
    from deliveryhub.connectors.writeback import connector_settings

    if source in ROUTED_SOURCES:
        from deliveryhub.connectors.tracking_sources import routed_carriers, source_of

        routed = routed_carriers(lambda code: connector_settings(hub, code))
        return {c: p for c, p in routed.items() if source_of(routed, c) == source}
    overrides = {source: connector_settings(hub, source)}
    return {c: p for c, p in configured_carriers(overrides).items() if c == source}


def _rejections(hub: Hub, source: str) -> dict[str, int]:
    import sqlalchemy as sa

    from deliveryhub.adapters.persistence import tables as t

    r, q = t.ingest_rejections, t.quarantine
    with hub.db.read() as conn:
        rejected = conn.execute(sa.select(sa.func.sum(r.c.rejected)).where(r.c.source == source)).scalar()
        open_q = conn.execute(
            sa.select(sa.func.count()).select_from(q).where(q.c.source == source, q.c.status == "open")
        ).scalar_one()
    return {"rejected": int(rejected or 0), "quarantined": int(open_q or 0)}


def source_rows(hub: Hub, now: datetime) -> list[dict[str, Any]]:
    """One row per registered SOURCE: configured, carriers polled, last success, lag, rejections."""
    from deliveryhub.connectors import health
    from deliveryhub.connectors.polling import polling_status
    from deliveryhub.connectors.writeback import connector_settings
    from deliveryhub.kernel.timefmt import iso

    rows = []
    for source in known_sources():
        connector = _connector(source)
        settings = connector_settings(hub, source)
        polled = _polled(hub, source)
        with hub.db.read() as conn:
            seen = health.last_seen(conn)
            polling = polling_status(conn, polled, now) if polled else {}
        mine = [polling[c] for c in polled if c in polling]
        successes = [p["last_success_at"] for p in mine if p["last_success_at"]]
        received = seen.get(connector.source)
        last = max([*successes, *([iso(received)] if received else [])], default=None)
        rows.append(
            {
                "source": source,
                "kind": connector.kind,
                "configured": is_configured(connector, settings),
                "carriers": sorted(polled),
                "last_success_at": last,
                "lag_seconds": max((p["lag_seconds"] for p in mine), default=0.0),
                "errors": sum(p["errors"] for p in mine),
                **_rejections(hub, connector.source),
            }
        )
    return rows


@connectors_app.command("list")
def connectors_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
    shop: ShopOption = DEFAULT_SHOP,
) -> None:
    """Configured sources with their last success, polling lag and rejections."""
    hub = shop_hub(ctx, shop)
    try:
        rows = source_rows(hub, hub.clock.now())
    finally:
        hub.close()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(
        "source", "설정", "carriers", "last success / 마지막 성공", "lag s", "rejected", "quarantined"
    )
    for row in rows:
        table.add_row(
            row["source"],
            "yes" if row["configured"] else "-",
            ",".join(row["carriers"]) or "-",
            row["last_success_at"] or "-",
            f"{row['lag_seconds']:.0f}",
            str(row["rejected"]),
            str(row["quarantined"]),
        )
    Console().print(table)


def _marketplace_poll(hub: Hub, source: str) -> Any:
    try:
        from deliveryhub.connectors import marketplace_jobs
    except ImportError:
        return None
    for name, _every, factory in getattr(marketplace_jobs, "POLLERS", ()):
        if source in str(name).split("."):
            return factory(hub)
    return None


@connectors_app.command("sync")
def connectors_sync(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="e.g. trackerdelivery, sweettracker, cafe24")],
    once: Annotated[bool, typer.Option("--once", help="one poll cycle now, then exit")] = False,
    shop: ShopOption = DEFAULT_SHOP,
) -> None:
    """One poll cycle of SOURCE now (the worker keeps polling on its own schedule)."""
    _connector(source)
    if not once:
        err.print(
            "[red]--once 를 붙여 주세요 / only --once is supported (the worker polls continuously)[/red]"
        )
        raise typer.Exit(2)
    hub = shop_hub(ctx, shop)
    try:
        marketplace = _marketplace_poll(hub, source)
        if marketplace is not None:
            typer.echo(json.dumps({"source": source, "accepted": marketplace(hub.clock.now())}))
            return
        polled = _polled(hub, source)
        if not polled:
            err.print(
                f"[red]{source}: 폴링할 설정이 없어요 / nothing to poll (no credentials, no routed carriers, "
                "or the source only pushes)[/red]"
            )
            raise typer.Exit(1)
        from deliveryhub.connectors.polling import Poller

        report = Poller(hub, carriers=polled, budget_s=120.0).run()
        typer.echo(
            json.dumps(
                {
                    "source": source,
                    "polled": report.polled,
                    "errors": report.errors,
                    "accepted": report.accepted_events,
                }
            )
        )
    finally:
        hub.close()


def load_payload(path: Path) -> Any:
    """A recorded vendor payload: a JSON file (object or array); a Markdown file's first ```json block."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".md":
        start = text.find("```json")
        if start < 0:
            raise ValueError(f"{path}: no ```json block in this Markdown file")
        body = text[start + len("```json") :]
        text = body[: body.find("```")] if "```" in body else body
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


@connectors_app.command("replay")
def connectors_replay(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="the source whose mapper reads the file")],
    file: Annotated[Path, typer.Argument(help="a webhook body or a poll/detail response, as sent")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the events, store nothing")] = False,
    order_id: Annotated[str | None, typer.Option("--order-id", help="the order (tracking sources)")] = None,
    tracking_no: Annotated[str | None, typer.Option("--tracking-no", help="the parcel's number")] = None,
    shop: ShopOption = DEFAULT_SHOP,
) -> None:
    """Run one recorded vendor payload through SOURCE's mapper; --dry-run prints JSON lines only."""
    connector = _connector(source)
    try:
        payload = load_payload(file)
    except ValueError as exc:
        err.print(f"[red]파일을 읽을 수 없어요 / {exc}[/red]")
        raise typer.Exit(2) from None
    mapped = connector.map_payload(payload, order_id=order_id, tracking_no=tracking_no)
    for reason in mapped.unmapped:
        err.print(f"unmapped: {reason}", markup=False, highlight=False)
    if dry_run:
        for event in mapped.events:
            typer.echo(json.dumps(event, ensure_ascii=False, sort_keys=True))
        err.print(f"{len(mapped.events)} events, {len(mapped.unmapped)} unmapped (dry run: nothing stored)")
        return
    hub = shop_hub(ctx, shop)
    try:
        summary = _ingest(hub, connector, payload, mapped.events, mapped.unmapped)
    finally:
        hub.close()
    typer.echo(json.dumps(summary, ensure_ascii=False))


def _ingest(
    hub: Hub, connector: Connector, payload: Any, events: list[Any], unmapped: list[str]
) -> dict[str, Any]:
    """Ingest mapped events; a payload that mapped to nothing goes to quarantine with the reasons."""
    from deliveryhub.contracts.events import ContractError

    if not events and unmapped:
        error = ContractError(f"unmapped_{connector.code}_payload", "; ".join(unmapped)[:900])
        with hub.db.write() as conn:
            hub.ingest.quarantine(conn, [(0, payload, error)], hub.clock.now(), connector.source)
        return {"source": connector.code, "accepted": 0, "duplicate": 0, "rejected": 0, "quarantined": 1}
    results = hub.ingest.ingest(events, source_hint=connector.source) if events else []
    counts = {s: sum(1 for r in results if r.status == s) for s in ("accepted", "duplicate", "rejected")}
    return {"source": connector.code, **counts, "quarantined": 0}


# Standalone until the lead mounts connectors_app in cli.py: `python -m deliveryhub.entrypoints.connectors_cli
# connectors replay …` takes the same global options (--db, --bus) as `deliveryhub`.
standalone = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
standalone.add_typer(connectors_app, name="connectors")


@standalone.callback()
def _standalone_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="DELIVERYHUB_DB_URL", help="database URL")] = None,
    bus: Annotated[str | None, typer.Option("--bus", envvar="DELIVERYHUB_BUS_URL", help="bus URL")] = None,
) -> None:
    """Global options, as `deliveryhub` has them."""
    from deliveryhub.logs import configure_logging

    configure_logging()
    ctx.obj = {"db_url": db, "bus_url": bus}


if __name__ == "__main__":
    standalone(prog_name="deliveryhub", args=sys.argv[1:])
