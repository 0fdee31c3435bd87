"""`deliveryhub bench …`: the benchmarks, each against a raw limit measured in the same run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from deliveryhub.bench.common import BenchRequest

err = Console(stderr=True)


def _bench_runner(which: str) -> Callable[[BenchRequest], dict[str, Any]]:
    # Imported on demand: each benchmark pulls in what it measures.
    if which == "ingest":
        from deliveryhub.bench import ingest

        return ingest.run
    if which == "kpi":
        from deliveryhub.bench import kpi

        return kpi.run
    if which == "api":
        from deliveryhub.bench import api

        return api.run
    if which == "shops":
        from deliveryhub.bench import shops

        return shops.run
    from deliveryhub.bench import chat

    return chat.run


def bench_command(
    ctx: typer.Context,
    which: Annotated[str, typer.Argument(help="ingest | kpi | api | chat | shops")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    orders: Annotated[int | None, typer.Option("--orders", help="size override (kpi)")] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="duration override")] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", help="offered load in messages/s (chat; default 25)", min=0.1)
    ] = None,
) -> None:
    """Benchmarks; each measures the hub and the raw limit in the same run and prints the ratio."""
    if which not in ("ingest", "kpi", "api", "chat", "shops"):
        err.print("[red]bench takes one of: ingest, kpi, api, chat, shops[/red]")
        raise typer.Exit(2)
    if rate is not None and which != "chat":
        err.print("[red]--rate applies to: bench chat[/red]")
        raise typer.Exit(2)
    from deliveryhub.bench.common import BenchRequest

    run = _bench_runner(which)
    request = BenchRequest(ctx.obj.get("db_url"), ctx.obj.get("bus_url"), orders, seconds, rate)
    result = run(request)
    if as_json:
        print(json.dumps(result))
    else:
        from rich.table import Table

        table = Table(title=f"bench {which}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for k, v in result.items():
            for name, value in v.items() if isinstance(v, dict) else [(k, v)]:
                label = f"{k}.{name}" if isinstance(v, dict) else k
                table.add_row(label, f"{value:,.3f}" if isinstance(value, float) else str(value))
        Console().print(table)
