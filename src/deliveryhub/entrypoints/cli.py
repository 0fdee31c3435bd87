"""The `deliveryhub` command line (names from INTERFACE.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from deliveryhub.entrypoints.bench_cli import bench_command
from deliveryhub.entrypoints.connectors_cli import connectors_app
from deliveryhub.entrypoints.import_xlsx_cli import import_xlsx_command
from deliveryhub.entrypoints.shops_cli import ShopOption, shop_hub, shops_app
from deliveryhub.security.tenancy import DEFAULT_SHOP

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

app = typer.Typer(
    help="deliveryhub — 배송·CS 운영 허브 / delivery & CS operations hub",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations")
keys_app = typer.Typer(help="API keys")
users_app = typer.Typer(help="User accounts")
import_app = typer.Typer(help="Bulk imports")
kpi_app = typer.Typer(help="KPI catalog and computation")
report_app = typer.Typer(help="Reports")
nlu_app = typer.Typer(help="Customer-message understanding")
voc_app = typer.Typer(help="Voice-of-customer classification")
monitors_app = typer.Typer(help="Exception monitors")
audit_app = typer.Typer(help="Audit log")
crypto_app = typer.Typer(help="Encryption keys")
for sub, name in (
    (db_app, "db"),
    (keys_app, "keys"),
    (users_app, "users"),
    (import_app, "import"),
    (kpi_app, "kpi"),
    (report_app, "report"),
    (nlu_app, "nlu"),
    (voc_app, "voc"),
    (monitors_app, "monitors"),
    (audit_app, "audit"),
    (crypto_app, "crypto"),
    (shops_app, "shops"),
    (connectors_app, "connectors"),
):
    app.add_typer(sub, name=name)

err = Console(stderr=True)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="DELIVERYHUB_DB_URL", help="database URL")] = None,
    bus: Annotated[str | None, typer.Option("--bus", envvar="DELIVERYHUB_BUS_URL", help="bus URL")] = None,
    shop: Annotated[
        str | None,
        typer.Option("--shop", help="run the command in this shop (import, export, report…) / 이 상점에서"),
    ] = None,
) -> None:
    """Global options."""
    from deliveryhub.logs import configure_logging

    configure_logging()  # every command: plain tracebacks, secrets redacted
    ctx.obj = {"db_url": db, "bus_url": bus, "shop": shop}


def _hub(
    ctx: typer.Context, *, migrate: bool = True, features: bool = True, platform: bool = False, **extra: Any
) -> Hub:
    from deliveryhub.bootstrap import bootstrap

    shop = ctx.obj.get("shop")
    if shop and shop != DEFAULT_SHOP and not platform and not extra:
        # `deliveryhub --shop SLUG import csv …`: the command works on that shop's own hub.
        return shop_hub(ctx, shop, features=features)
    try:
        return bootstrap(
            migrate=migrate,
            features=features,
            db_url=ctx.obj.get("db_url"),
            bus_url=ctx.obj.get("bus_url"),
            **extra,
        )
    except Exception as exc:
        err.print(f"[red]cannot start: {exc}[/red]")
        raise typer.Exit(2) from None


# ---------------------------------------------------------------- server & worker
SERVE_GRACE_S = 5  # seconds open requests get after SIGTERM before `serve` cancels them


@app.command()
def serve(
    ctx: typer.Context,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="API processes (uvicorn workers)")] = 1,
    worker_process: Annotated[
        bool,
        typer.Option(
            "--worker-process",
            help="run the worker (consumers, relay, scheduler) in its own process, off the API's GIL",
        ),
    ] = False,
) -> None:
    """API + dashboard; with the in-process bus it also runs the worker and scheduler (in a thread, or
    with --worker-process in a child process that `serve` starts, restarts and stops)."""
    import uvicorn

    from deliveryhub.entrypoints.api.asgi import uvicorn_options

    hub = _hub(ctx, platform=True)  # the platform serves every shop
    if workers > 1:
        import os

        os.environ.setdefault("DELIVERYHUB_DB_URL", hub.settings.db_url)
        os.environ.setdefault("DELIVERYHUB_BUS_URL", hub.settings.bus_url)
        hub.close()
        uvicorn.run(
            "deliveryhub.entrypoints.api.asgi:create_app_from_env",
            host=host,
            port=port,
            workers=workers,
            factory=True,
            timeout_graceful_shutdown=SERVE_GRACE_S,
            **uvicorn_options(hub.settings),
        )
        return
    from deliveryhub.entrypoints.api.app import create_platform_app
    from deliveryhub.entrypoints.worker import start_worker_process

    child = start_worker_process(hub.settings) if worker_process else None
    app: Any = create_platform_app(hub, run_worker=False if child is not None else None)
    if child is not None:
        from deliveryhub.entrypoints.api.asgi import AfterShutdown

        app = AfterShutdown(app, child.stop)
    # On SIGTERM: no new connections, requests in flight get SERVE_GRACE_S to finish (then they are
    # cancelled), then the worker stops (it finishes its batch and releases the relay).
    uvicorn.run(
        app,
        host=host,
        port=port,
        timeout_graceful_shutdown=SERVE_GRACE_S,
        **uvicorn_options(hub.settings),
    )


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: int = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="serve this worker's Prometheus /metrics on this port"),
    ] = None,
) -> None:
    """Outbox relay + bus consumers + scheduler, for scale-out (any number, any machine)."""
    from deliveryhub.entrypoints.worker import run_workers_forever
    from deliveryhub.shops.hubs import ShopHubs

    hub = _hub(ctx, platform=True)  # the platform's worker runs every shop
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # A worker has no HTTP API; its consumer, relay and notification metrics are served here.
        start_http_server(metrics_port, registry=hub.metrics.registry)
    # Every shop's relay, consumers and scheduler (a one-shop hub runs just its own, as before); shops
    # created later are picked up within DELIVERYHUB_SHOP_DISCOVER_SECONDS.
    shops = ShopHubs(hub)
    run_workers_forever(
        [h for _shop, h in shops.all()],
        discover=lambda: [h for _s, h in shops.all()],
        discover_every=hub.settings.shop_discover_seconds,
    )


@app.command()
def demo(
    ctx: typer.Context,
    port: int = 8000,
    orders_per_day: Annotated[int, typer.Option("--orders-per-day")] = 300,
    speed: float = 720.0,
    seed: int = 7,
    no_browser: Annotated[bool, typer.Option("--no-browser")] = False,
    history_days: Annotated[int, typer.Option("--history-days")] = 21,
    shops: Annotated[
        int,
        typer.Option(
            "--shops",
            min=1,
            max=10,
            help="sellers to simulate, the demo's own shop included (3: see /platform) / 판매자 수",
        ),
    ] = 1,
) -> None:
    """What `make demo` runs: the hub plus a simulated shop sending real traffic to it."""
    from deliveryhub.simulator.demo import run_demo

    run_demo(
        db_url=ctx.obj.get("db_url"),
        bus_url=ctx.obj.get("bus_url"),
        port=port,
        orders_per_day=orders_per_day,
        speed=speed,
        seed=seed,
        open_browser=not no_browser,
        history_days=history_days,
        shops=shops,
    )


@app.command()
def simulate(
    target: Annotated[str, typer.Option("--target")],
    api_key: Annotated[str, typer.Option("--api-key")],
    days: float = 7.0,
    orders_per_day: Annotated[int, typer.Option("--orders-per-day")] = 300,
    speed: float = 720.0,
    seed: int = 7,
) -> None:
    """Drive a running hub as the shop's OMS/WMS/TMS/carriers/customers would, over HTTP."""
    from deliveryhub.simulator.run import run_simulation

    summary = run_simulation(
        target=target, api_key=api_key, days=days, orders_per_day=orders_per_day, speed=speed, seed=seed
    )
    print(json.dumps(summary, ensure_ascii=False))


# ---------------------------------------------------------------- db, keys, users
@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations."""
    from deliveryhub.migrations.runner import current

    hub = _hub(ctx, features=False)
    print(f"database at revision {current(hub.db)}")


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name")],
    role: Annotated[str, typer.Option("--role")],
    scopes: Annotated[
        str, typer.Option(help="comma-separated permission names the key is limited to, e.g. events:write")
    ] = "",
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, max=3660, help="the key expires after this")
    ] = None,
    shop: ShopOption = DEFAULT_SHOP,
) -> None:
    """Create an API key of a shop (audited); the key is printed once, as the last line."""
    from deliveryhub.security.apikeys import create_key_cli

    hub = shop_hub(ctx, shop, features=False)
    try:
        key = create_key_cli(hub, name, role, scopes, expires_days)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print(f"API key for {name} ({role}); store it now, it is not shown again:")
    print(key)


@keys_app.command("list")
def keys_list(ctx: typer.Context, shop: ShopOption = DEFAULT_SHOP) -> None:
    """Every API key of a shop without its secret (prefix, role, scopes, expiry, last use)."""
    from deliveryhub.security.apikeys import list_api_keys

    hub = shop_hub(ctx, shop, features=False)
    print(json.dumps(list_api_keys(hub.db), ensure_ascii=False))


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, key_id: Annotated[int, typer.Argument(min=1)], shop: ShopOption = DEFAULT_SHOP
) -> None:
    """Revoke an API key of a shop by id (audited)."""
    from deliveryhub.security.apikeys import revoke_key_cli

    hub = shop_hub(ctx, shop, features=False)
    if not revoke_key_cli(hub, key_id):
        err.print(f"[red]no API key {key_id}[/red]")
        raise typer.Exit(2)
    err.print(f"API key {key_id} revoked")


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[str, typer.Option("--role")],
    password: Annotated[str | None, typer.Option("--password", help="prompted when omitted")] = None,
    shop: ShopOption = DEFAULT_SHOP,
) -> None:
    """Create a staff account of a shop (argon2 password hash); its role holds in that shop only."""
    import getpass
    import secrets

    from deliveryhub.security.audit import cli_actor
    from deliveryhub.security.users import AuthError, create_user

    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password / 비밀번호: ")
            if getpass.getpass("Repeat / 다시 입력: ") != password:
                err.print("passwords differ / 비밀번호가 일치하지 않습니다")
                raise typer.Exit(2)
        else:
            password = secrets.token_urlsafe(15)
            generated = True
    hub = shop_hub(ctx, shop)
    try:
        user_id = create_user(hub, email, role, password, actor=cli_actor())
    except AuthError as exc:
        err.print(exc.message, markup=False)
        raise typer.Exit(2) from None
    err.print(f"user {user_id} created: {email.strip().lower()} ({role})", markup=False)
    if generated:
        err.print("generated password (shown once) / 생성된 비밀번호(한 번만 표시):")
        print(password)


# ---------------------------------------------------------------- imports
def _progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@import_app.command("olist")
def import_olist(
    ctx: typer.Context, directory: Path, tz: Annotated[str, typer.Option("--tz")] = "America/Sao_Paulo"
) -> None:
    """Import the Olist public data set into events."""
    from deliveryhub.adapters.connectors.olist.summary import anomaly_table
    from deliveryhub.service_layer.imports import import_olist as run

    hub = _hub(ctx)
    with _progress_bar() as bar:
        task = bar.add_task("Olist 가져오기 / importing orders", total=None)
        summary, anomalies = run(
            hub.ingest, directory, tz, progress=lambda done, n: bar.update(task, completed=done, total=n)
        )
    if anomalies.total:
        err.print(anomaly_table(anomalies))
    err.print(
        f"imported {summary['imported']}, duplicate {summary['duplicate']}, rejected {summary['rejected']}"
    )
    print(json.dumps(summary, ensure_ascii=False))


@import_app.command("csv")
def import_csv(ctx: typer.Context, file: Path, mapping: Annotated[Path, typer.Option("--mapping")]) -> None:
    """Bulk import an OMS/WMS CSV export (UTF-8, UTF-8 BOM, CP949)."""
    from deliveryhub.adapters.connectors.olist.summary import rejection_table
    from deliveryhub.service_layer.imports import import_csv as run

    hub = _hub(ctx)
    with _progress_bar() as bar:
        task = bar.add_task(f"CSV {file.name}", total=None)
        summary, row_rejections = run(
            hub.ingest, file, mapping, progress=lambda done, _total: bar.update(task, completed=done)
        )
    if summary.get("error"):
        err.print(summary["error"], style="red", markup=False)
    else:
        if row_rejections:
            err.print(rejection_table(row_rejections))
        err.print(
            f"imported {summary['imported']}, duplicate {summary['duplicate']}, "
            f"rejected {summary['rejected'] + len(row_rejections)} (encoding {summary['encoding']})"
        )
    print(json.dumps(summary, ensure_ascii=False))
    if summary.get("error"):
        raise typer.Exit(2)


import_app.command("xlsx")(import_xlsx_command)


# ---------------------------------------------------------------- KPIs & reports
@kpi_app.command("list")
def kpi_list(ctx: typer.Context, fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """The catalog: key, names, unit, direction, target."""
    from deliveryhub.entrypoints.kpi_cli import kpi_list as run

    run(ctx.obj, fmt)


@kpi_app.command("compute")
def kpi_compute(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from")],
    date_to: Annotated[str, typer.Option("--to")],
    grain: str = "month",
    by: str | None = None,
    tz: str = "Asia/Seoul",
    fmt: Annotated[str, typer.Option("--format")] = "json",
    kpi: Annotated[list[str] | None, typer.Option("--kpi")] = None,
) -> None:
    """Compute the catalog for a period."""
    from deliveryhub.entrypoints.kpi_cli import kpi_compute as run

    run(ctx.obj, date_from, date_to, grain, by, tz, fmt, kpi)


@report_app.command("monthly")
def report_monthly(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month")],
    out: Annotated[Path, typer.Option("--out")],
    tz: str = "Asia/Seoul",
) -> None:
    """The KPI/VOC monthly report as PDF or HTML."""
    from deliveryhub.entrypoints.kpi_cli import report_monthly as run

    run(ctx.obj, month, out, tz)


# ---------------------------------------------------------------- CS
@nlu_app.command("classify")
def nlu_classify() -> None:
    """One customer message per stdin line → one JSON line each."""
    from deliveryhub.chatbot.nlu.api import run_classify_stream as run

    run(sys.stdin, sys.stdout)


@voc_app.command("classify")
def voc_classify() -> None:
    """One text per stdin line → {"text","category","sentiment"} per line."""
    from deliveryhub.chatbot.voc import run_voc_stream as run

    run(sys.stdin, sys.stdout)


@voc_app.command("export-relabels")
def voc_export_relabels(
    ctx: typer.Context, out: Annotated[Path | None, typer.Option("--out")] = None
) -> None:
    """A CS lead's VOC relabels → JSON lines the next VOC model trains on."""
    from deliveryhub.chatbot.relabel import export_relabels

    hub = _hub(ctx, features=False)
    try:
        typer.echo(export_relabels(hub.db, out))
    finally:
        hub.close()


# ---------------------------------------------------------------- operations
@monitors_app.command("run-once")
def monitors_run_once(ctx: typer.Context) -> None:
    """Evaluate every exception monitor now."""
    from deliveryhub.monitors.service import run_all_monitors as run

    hub = _hub(ctx)
    print(json.dumps(run(hub.monitors), ensure_ascii=False, default=str))


def _shop_endpoints(config_file: Path | str | None) -> tuple[list[Any], list[Any]]:
    """The shops' outbound WMS/TMS command URLs (automation config `orchestration.shops`) to probe; a
    config that does not load is itself a failing check."""
    from deliveryhub.adapters.connectors.doctor import ConnectionProblem, Endpoint
    from deliveryhub.monitors.config import load_config

    try:
        cfg = load_config(config_file)
    except Exception as exc:  # noqa: BLE001 - a broken config is itself the diagnosis
        message = f"automation config {config_file}: {exc}"

        def broken() -> str:
            raise ConnectionProblem(message)

        return [], [("shop outbound config", broken)]
    timeout = cfg.orchestration.timeout_seconds
    endpoints = [
        Endpoint(
            f"shop {shop} {what.split()[0].lower()}",
            f"shop {shop} {what} endpoint",
            url,
            timeout,
            f"{shop} credentials",
        )
        for shop, cfg_shop in sorted(cfg.orchestration.shops.items())
        for what, url in (("WMS reserve-stock", cfg_shop.wms_url), ("TMS create-waybill", cfg_shop.tms_url))
        if url
    ]
    return endpoints, []


@app.command()
def doctor(
    ctx: typer.Context,
    shop: Annotated[
        str | None,
        typer.Option("--shop", help="also check this shop: database, root key, onboarding / 상점 점검"),
    ] = None,
) -> None:
    """Check every configured connection end to end (and a shop's own setup); plain-words diagnosis."""
    from deliveryhub.config import load_settings
    from deliveryhub.notifications.doctor import notification_checks
    from deliveryhub.service_layer.doctor import doctor_checks, run_checks
    from deliveryhub.shops.doctor import shop_checks

    settings = load_settings(db_url=ctx.obj.get("db_url"), bus_url=ctx.obj.get("bus_url"))
    outbound, broken = _shop_endpoints(settings.config_file)
    if shop is not None:
        from deliveryhub.entrypoints.shops_cli import platform_hub
        from deliveryhub.shops.hubs import ShopHubs

        broken = [*broken, *shop_checks(ShopHubs(platform_hub(ctx)), shop)]
    out = Console()
    ok = True
    extra = [*notification_checks(settings.config_file), *broken]  # SOLAPI, Slack, KakaoWork
    for result in run_checks(doctor_checks(settings, outbound, extra)):
        ok = ok and result.ok
        mark = "[green]✔[/green]" if result.ok else "[red]✘[/red]"
        out.print(f"{mark} {result.name}: ", end="")
        out.print(result.detail, markup=False)
    out.print("all connections work" if ok else "some connections are broken (see ✘ above)")
    raise typer.Exit(0 if ok else 1)


@app.command()
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out")],
    anonymize: Annotated[bool, typer.Option("--anonymize/--no-anonymize")] = True,
) -> None:
    """Events for analytics with personal data replaced by stable pseudonyms."""
    from deliveryhub.security.export import export_events as run

    hub = _hub(ctx)
    print(json.dumps(run(hub, out, anonymize=anonymize), ensure_ascii=False))


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit log's hash chain; exit 1 and the first broken entry if tampered."""
    from deliveryhub.security.audit import audit_log_of

    result = audit_log_of(_hub(ctx)).verify()
    if result.ok:
        print(f"audit log intact: {result.checked} entries verified / 감사 로그 무결성 확인")
        raise typer.Exit(0)
    print(
        f"audit log BROKEN at entry {result.broken_seq}: {result.reason} "
        f"({result.checked} entries verified before it) / 감사 로그 위변조 탐지: 항목 {result.broken_seq}"
    )
    raise typer.Exit(1)


@crypto_app.command("rotate")
def crypto_rotate(ctx: typer.Context) -> None:
    """New data-encryption key; re-encrypts personal data without downtime or loss."""
    from deliveryhub.security.rotation import rotate_cli as run

    hub = _hub(ctx)
    print(json.dumps(run(hub), ensure_ascii=False))


app.command("bench")(bench_command)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
