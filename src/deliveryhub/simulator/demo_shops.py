"""`deliveryhub demo --shops N`: the demo's shop plus N-1 simulated sellers on the same hub.

Each extra seller (`seller-2`, `seller-3`, …, Korean names) is a shop of its own (issue 20): its own
database, integration key, simulated traffic (a smaller, differently seeded shop) and history; the demo
also creates the platform operator (a `platform` login and API key) who sees them all on `/platform`.
Their state sits in the demo's state file under `platform` and `sellers`, so a later start resumes them.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.simulator.shop import KST, Emission, ShopConfig, ShopSimulator

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub
    from deliveryhub.shops.hubs import ShopHubs

PLATFORM_EMAIL = "platform@demo.deliveryhub.local"
SELLER_NAMES = (
    "바다상회",
    "하늘마켓",
    "숲속공방",
    "별빛잡화점",
    "온누리몰",
    "새봄스토어",
    "한빛상점",
    "푸른들마켓",
    "달빛리빙",
)
MAX_SHOPS = 1 + len(SELLER_NAMES)


@dataclass
class Seller:
    """One simulated seller: its shop's hub, its saved state and its event stream."""

    slug: str
    name: str
    hub: Hub
    state: dict[str, Any]
    sim: ShopSimulator
    stream: Iterator[Emission]


def seller_slug(n: int) -> str:
    """The slug of the demo's n-th seller (the demo's own shop is the first, `default`)."""
    return f"seller-{n}"


def seller_name(n: int) -> str:
    """A Korean shop name for the n-th seller."""
    return SELLER_NAMES[(n - 2) % len(SELLER_NAMES)]


def seller_volume(orders_per_day: int, n: int) -> int:
    """Orders a day of the n-th seller: smaller than the demo's shop, each a little smaller again."""
    return max(10, orders_per_day // (n + 1))


def check_shops(shops: int) -> int:
    """`shops` when the demo can run that many (1 to MAX_SHOPS), else ValueError naming --shops."""
    if not 1 <= shops <= MAX_SHOPS:
        raise ValueError(f"--shops: 1 to {MAX_SHOPS} / 판매자 수는 1~{MAX_SHOPS}")
    return shops


def ensure_operator(platform: Hub, state: dict[str, Any]) -> dict[str, Any]:
    """The platform operator's login and API key (made once, then read from the state)."""
    from deliveryhub.security.apikeys import create_api_key
    from deliveryhub.security.users import create_user

    found = state.get("platform")
    if found:
        return dict(found)
    password = "demo-" + secrets.token_urlsafe(9)
    login: dict[str, str] | None = {"email": PLATFORM_EMAIL, "password": password}
    try:
        create_user(platform, email=PLATFORM_EMAIL, role="platform", password=password)
    except Exception:  # noqa: BLE001 - an existing account: the key still lets the operator in
        login = None
    operator = {"login": login, "api_key": create_api_key(platform.db, "demo-platform", "platform")}
    state["platform"] = operator
    return operator


def _until(reached: datetime) -> Callable[[Emission], bool]:
    """True for the emissions sent before `reached` (a resumed stream skips them)."""
    return lambda e: e.at <= reached


def _has_orders(hub: Hub) -> bool:
    with hub.db.read() as conn:
        return conn.execute(sa.select(t.orders.c.order_id).limit(1)).first() is not None


def _new_state(
    hub: Hub, slug: str, n: int, now: datetime, history_days: int, opd: int, seed: int
) -> dict[str, Any]:
    from deliveryhub.security.apikeys import create_api_key

    start = (
        now
        if _has_orders(hub)
        else datetime.combine(
            (now.astimezone(KST) - timedelta(days=history_days)).date(), datetime.min.time(), KST
        )
    )
    return {
        "name": seller_name(n),
        "seed": seed + 101 * n,
        "orders_per_day": seller_volume(opd, n),
        "stream_start": start.isoformat(),
        "reached": start.isoformat(),
        "api_key": create_api_key(hub.db, f"demo-{slug}", "integration", shop=slug),
    }


def prepare_sellers(
    hubs: ShopHubs,
    state: dict[str, Any],
    shops: int,
    now: datetime,
    history_days: int,
    orders_per_day: int,
) -> list[Seller]:
    """Create (or resume) sellers 2..`shops`: the shop, its hub (migrated), key and event stream."""
    sellers = []
    saved: dict[str, Any] = state.setdefault("sellers", {})
    for n in range(2, shops + 1):
        slug = seller_slug(n)
        shop = hubs.directory.get(slug)
        if shop is None:
            shop = hubs.directory.create(seller_name(n), slug, now)
        hub = hubs.hub(slug)
        if hub is None:  # an erased seller of an earlier run: its slug stays taken
            continue
        if slug not in saved:
            saved[slug] = _new_state(hub, slug, n, now, history_days, orders_per_day, int(state["seed"]))
        mine = saved[slug]
        sim = ShopSimulator(ShopConfig(orders_per_day=int(mine["orders_per_day"])), seed=int(mine["seed"]))
        start, reached = datetime.fromisoformat(mine["stream_start"]), datetime.fromisoformat(mine["reached"])
        stream: Iterator[Emission] = sim.stream(start)
        if reached > start:
            stream = itertools.dropwhile(_until(reached), stream)
        sellers.append(Seller(slug, shop.name, hub, mine, sim, stream))
    return sellers


def welcome_lines(state: dict[str, Any], sellers: list[Seller], base: str) -> list[str]:
    """The welcome panel's lines about the platform: the overview, the operator's login and key."""
    operator = state.get("platform") or {}
    login = operator.get("login")
    lines = [
        f"[bold]판매자 현황 / sellers overview[/bold] {base}/platform",
        f"[bold]플랫폼 운영자 / platform login[/bold] {login['email']} / {login['password']}"
        if login
        else "[bold]플랫폼 운영자 / platform login[/bold] (API key only)",
        f"플랫폼 API key (platform, X-Shop: <slug>): {operator.get('api_key', '')}",
    ]
    for s in sellers:
        lines.append(f"판매자 {s.name} ({s.slug}) API key (integration): {s.state['api_key']}")
    return lines
