"""`deliveryhub shops …`: create, list and erase the shops of a platform; `--shop` for other commands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from deliveryhub.security.tenancy import DEFAULT_SHOP

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

shops_app = typer.Typer(help="Shops (tenants) of this hub / 상점")
err = Console(stderr=True)

ShopOption = Annotated[
    str, typer.Option("--shop", help="the shop's slug (default: the default shop) / 상점 슬러그")
]


def platform_hub(ctx: typer.Context, *, features: bool = True) -> Hub:
    """The platform's own hub (the `default` shop), from the global options."""
    from deliveryhub.bootstrap import bootstrap

    try:
        return bootstrap(features=features, db_url=ctx.obj.get("db_url"), bus_url=ctx.obj.get("bus_url"))
    except Exception as exc:
        err.print(f"[red]cannot start: {exc}[/red]")
        raise typer.Exit(2) from None


def shop_hub(ctx: typer.Context, shop: str, *, features: bool = True) -> Hub:
    """The hub of `shop` (exit 2 naming the shop when it does not exist)."""
    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.shops.hubs import ShopHubs

    if shop == DEFAULT_SHOP and ctx.obj.get("shop"):
        shop = str(ctx.obj["shop"])  # `deliveryhub --shop SLUG keys create …` names it globally
    platform = platform_hub(ctx, features=features and shop == DEFAULT_SHOP)
    if shop == DEFAULT_SHOP:
        return platform
    hubs = ShopHubs(platform, build=lambda s, m: bootstrap(s, master=m, features=features))
    found = hubs.hub(shop)
    if found is None:
        err.print(f"[red]no shop {shop!r} / 상점을 찾을 수 없습니다: deliveryhub shops list[/red]")
        raise typer.Exit(2)
    return found


@shops_app.command("create")
def shops_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="the shop's display name / 상점 이름")],
    slug: Annotated[str, typer.Option("--slug", help="lowercase id in URLs and keys / 영문 슬러그")],
    color: Annotated[str | None, typer.Option("--color", help="brand colour, e.g. #1f6feb")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="how customers reach the shop")] = None,
) -> None:
    """Create a shop: its own database, root key and settings; prints the next steps."""
    from deliveryhub.security.audit import audit_log_of, cli_actor
    from deliveryhub.shops.directory import ShopError
    from deliveryhub.shops.hubs import ShopHubs

    platform = platform_hub(ctx, features=True)
    hubs = ShopHubs(platform)
    try:
        shop = hubs.directory.create(name, slug, platform.clock.now(), brand_color=color, contact=contact)
        hubs.hub(shop.slug)  # builds and migrates its database now, so mistakes show here
    except ShopError as exc:
        err.print(f"[red]{exc}[/red]", markup=True)
        raise typer.Exit(2) from None
    audit_log_of(platform).record(cli_actor(), "shop.created", f"shop:{shop.slug}", {"name": shop.name})
    err.print(f"shop {shop.slug} created / 상점이 만들어졌습니다: {shop.name}")
    err.print(
        f"next / 다음: deliveryhub keys create --shop {shop.slug} --name shop-system --role integration"
    )
    print(json.dumps({"slug": shop.slug, "name": shop.name}, ensure_ascii=False))


@shops_app.command("list")
def shops_list(ctx: typer.Context) -> None:
    """Every active shop with its usage this month (events, notices, chats) as JSON lines."""
    from deliveryhub.shops.hubs import ShopHubs
    from deliveryhub.shops.usage import usage_of

    platform = platform_hub(ctx)
    hubs = ShopHubs(platform)
    now = platform.clock.now()
    rows: list[dict[str, Any]] = []
    for shop, hub in hubs.all():
        rows.append(
            {"slug": shop.slug, "name": shop.name, "status": shop.status, "usage": usage_of(hub, now)}
        )
    print(json.dumps(rows, ensure_ascii=False))


@shops_app.command("set")
def shops_set(
    ctx: typer.Context,
    slug: Annotated[str, typer.Option("--slug")],
    name: Annotated[str | None, typer.Option("--name", help="display name / 상점 이름")] = None,
    color: Annotated[str | None, typer.Option("--color", help="brand colour, e.g. #1f6feb")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="how customers reach the shop")] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit", min=10, max=100_000, help="requests per minute per client / 분당 요청 한도"
        ),
    ] = None,
) -> None:
    """Change a shop's name, brand colour, contact or rate limit (a running server applies it soon)."""
    from deliveryhub.security.audit import audit_log_of, cli_actor
    from deliveryhub.shops.directory import ShopError
    from deliveryhub.shops.hubs import ShopHubs

    values: dict[str, Any] = {
        k: v
        for k, v in (
            ("name", name),
            ("brand_color", color),
            ("contact", contact),
            ("rate_limit_per_minute", rate_limit),
        )
        if v is not None
    }
    if not values:
        err.print(
            "[red]nothing to change / 바꿀 값이 없습니다: --name, --color, --contact, --rate-limit[/red]"
        )
        raise typer.Exit(2)
    platform = platform_hub(ctx, features=True)
    try:
        shop = ShopHubs(platform).directory.update(slug, **values)
    except ShopError as exc:
        err.print(f"[red]{exc}[/red]", markup=True)
        raise typer.Exit(2) from None
    audit_log_of(platform).record(cli_actor(), "shop.changed", f"shop:{slug}", values)
    print(json.dumps({"slug": shop.slug, **values}, ensure_ascii=False))


@shops_app.command("erase")
def shops_erase(
    ctx: typer.Context,
    slug: Annotated[str, typer.Option("--slug")],
    yes: Annotated[bool, typer.Option("--yes", help="confirm: this cannot be undone")] = False,
) -> None:
    """Erase a shop for good: its root key is destroyed (no copy of its personal data decrypts again)."""
    from deliveryhub.security.audit import audit_log_of, cli_actor
    from deliveryhub.shops.directory import ShopError
    from deliveryhub.shops.hubs import ShopHubs

    if not yes:
        err.print(
            "[red]erasing a shop cannot be undone; add --yes / 되돌릴 수 없습니다: --yes 를 붙이세요[/red]"
        )
        raise typer.Exit(2)
    platform = platform_hub(ctx, features=True)
    try:
        ShopHubs(platform).erase(slug)
    except ShopError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    audit_log_of(platform).record(cli_actor(), "shop.erased", f"shop:{slug}", {})
    err.print(f"shop {slug} erased / 상점 {slug}의 데이터가 파기되었습니다")
