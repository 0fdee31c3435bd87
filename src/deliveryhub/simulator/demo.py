"""`make demo` / `deliveryhub demo`: the hub, a few simulated weeks of history, and a live shop on top.

First start: migrate, create an admin login and an API key for the shop, back-fill `history_days` of the
simulated shop straight into the ingest service (fast, no HTTP), start the server, then let the shop
send live traffic over HTTP on compressed time. Later starts resume: the shop's stream is
deterministic, so it is regenerated from the saved start and continues after the last moment sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import threading
import time
import webbrowser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.users import create_user
from deliveryhub.simulator import demo_shops
from deliveryhub.simulator.history import history_notices
from deliveryhub.simulator.run import CatchUpClock, run_simulation
from deliveryhub.simulator.shop import KST, Emission, ShopConfig, ShopSimulator

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

console = Console()
STATE_FILE = "demo-state.json"
ADMIN_EMAIL = "admin@demo.deliveryhub.local"
CATCH_UP = timedelta(hours=1)  # the last stretch of the past replayed live (at `speed`) after the back-fill
NO_TRACKING = "(알림 기능 설치 후 표시 / shown once notifications are installed)"
_STATE_LOCK = threading.Lock()  # every shop's simulator thread saves where it reached


def _state_path(hub: Hub) -> Path:
    return Path(hub.settings.data_dir) / STATE_FILE


def _load_state(hub: Hub) -> dict[str, Any] | None:
    path = _state_path(hub)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if state.get("db_url") == hub.settings.db_url else None


def _save_state(hub: Hub, state: dict[str, Any]) -> None:
    path = _state_path(hub)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with _STATE_LOCK:
        # The state holds the shop's API key and the admin password: owner-only.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh, ensure_ascii=False, indent=1)
        tmp.replace(path)


def _order_count(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar_one())


def _create_admin(hub: Hub) -> tuple[str, str] | None:
    """An admin user (email, password), or None when it cannot be made (e.g. it exists already)."""
    password = "demo-" + secrets.token_urlsafe(9)
    try:
        create_user(hub, email=ADMIN_EMAIL, role="admin", password=password)
    except Exception as exc:  # an existing account: say so, keep going
        console.print(
            f"[yellow]관리자 계정을 만들지 못했습니다 / could not create the admin user: {exc}[/yellow]"
        )
        return None
    return ADMIN_EMAIL, password


def _tracking_url(hub: Hub, order_id: str) -> str | None:
    """A signed customer tracking-page URL (None without the notifications feature)."""
    return hub.links.issue(order_id)


def _latest_order(hub: Hub) -> str | None:
    with hub.db.read() as conn:
        return conn.execute(
            sa.select(t.orders.c.order_id)
            .where(t.orders.c.stage.in_(("in_transit", "out_for_delivery")))
            .order_by(t.orders.c.updated_at.desc())
            .limit(1)
        ).scalar()


def _backfill(hub: Hub, items: Any, until: datetime, progress: Progress, task: Any) -> Emission | None:
    """Ingest every emission up to `until` directly (batches of 1,000); returns the first later one."""
    batch: list[dict[str, Any]] = []
    for em in items:
        if em.at > until:
            if batch:
                hub.ingest.ingest(batch)
                progress.advance(task, len(batch))
            return em  # type: ignore[no-any-return]
        if em.kind != "event":
            continue
        batch.append(em.payload)
        if len(batch) >= 1000:
            hub.ingest.ingest(batch)
            progress.advance(task, len(batch))
            batch = []
    if batch:
        hub.ingest.ingest(batch)
    return None


def _write_history_notices(hub: Hub, since: datetime, until: datetime, seed: int, progress: Progress) -> None:
    """The notices the shop's notifier sent during the back-filled history, at the times it sent them
    (the hub never notifies history it learns of late); needs the read models caught up (their stages)."""
    task = progress.add_task("지난 고객 알림 기록 / recording the notices sent in the past", total=None)
    with hub.db.read() as conn:
        events = list(history_notices(conn, (since, until), seed))
    for i in range(0, len(events), 1000):
        hub.ingest.ingest(events[i : i + 1000])
    progress.update(task, completed=len(events), total=len(events))


def _caught_up(hub: Hub) -> bool:
    """Every outbox row relayed and, on the in-process bus, applied by every consumer."""
    from deliveryhub.adapters.bus.inprocess import InProcessBus
    from deliveryhub.service_layer.relay import outbox_lag

    if outbox_lag(hub.db) > 0:
        return False
    if hub.settings.bus_url.startswith("nats://"):
        return True  # positions live in NATS; relayed is the best this process can see
    lag = InProcessBus(hub.db).lag()
    return all(lag.get(c.name, 1) <= 0 for c in hub.consumers)


def _wait_for_consumers(hub: Hub, progress: Progress, timeout: float = 900.0) -> None:
    """Wait until the read models hold the back-filled history, exceptions included: every consumer has
    applied every event, then the monitors' due timers and sweep have run over it (the worker's own sweep
    ran at start, on an empty database) and their consequences are applied in turn."""
    task = progress.add_task("이벤트 반영 중 / applying events to the read models", total=None)
    deadline = time.monotonic() + timeout
    jobs = [j for j in hub.jobs if j.name in ("timers", "monitors")]
    for round_ in range(2):
        while not _caught_up(hub):
            if time.monotonic() > deadline:
                console.print(
                    "[yellow]이벤트 반영이 늦어지고 있어요. 대시보드가 잠시 비어 보일 수 있어요 / "
                    "the read models are still catching up; the dashboard may look empty for a while[/yellow]"
                )
                return
            time.sleep(0.5)
        if round_ == 0:
            for job in jobs:  # safe beside the worker's scheduler (jobs claim their work)
                job.run(datetime.now(UTC))
    progress.update(task, completed=1, total=1)


def run_demo(
    db_url: str | None = None,
    bus_url: str | None = None,
    port: int = 8000,
    orders_per_day: int = 300,
    speed: float = 720.0,
    seed: int = 7,
    open_browser: bool = True,
    history_days: int = 21,
    shops: int = 1,
) -> None:
    """Run the demo until Ctrl-C; a later start resumes where this one stopped. `shops` > 1 adds
    simulated sellers (demo_shops.py) and the platform operator who sees them all on /platform."""
    import uvicorn

    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.entrypoints.api.app import create_app, create_platform_app
    from deliveryhub.security.apikeys import create_api_key

    demo_shops.check_shops(shops)

    # The hub keeps the wall clock (sessions, timers, notices are real); the shop replays the last hour at
    # `speed` and then carries on in real time, so no event is ever stamped in the future. Everything
    # before is back-filled history, told as history (its notices at their times, history.py): a longer
    # replay would have the hub send a day of notices within two minutes.
    catch_up = CATCH_UP if speed > 0 else timedelta(0)
    # The hub notifies what it learns within the replayed hour (plus an hour for the time the back-fill
    # takes), not the back-fill's last days all at one minute.
    horizon = catch_up.total_seconds() / 3600 + 1
    os.environ.setdefault("DELIVERYHUB_MAX_EVENT_AGE_HOURS", f"{horizon:g}")
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        t_db = progress.add_task("데이터베이스 준비·마이그레이션 / migrating the database", total=1)
        hub = bootstrap(db_url=db_url, bus_url=bus_url, public_url=f"http://127.0.0.1:{port}")
        progress.update(t_db, completed=1)
        state = _load_state(hub)
        has_data = _order_count(hub) > 0
        now = datetime.now(UTC)
        if state is None:
            t_acc = progress.add_task(
                "계정 만들기 / creating the admin login and the shop's API key", total=1
            )
            login = _create_admin(hub)
            key = create_api_key(hub.db, "demo-shop", "integration")
            start = (
                now
                if has_data
                else datetime.combine(
                    (now.astimezone(KST) - timedelta(days=history_days)).date(), datetime.min.time(), KST
                )
            )
            state = {
                "db_url": hub.settings.db_url,
                "seed": seed,
                "orders_per_day": orders_per_day,
                "stream_start": start.isoformat(),
                "reached": start.isoformat(),
                "api_key": key,
                "admin": {"email": login[0], "password": login[1]} if login else None,
            }
            _save_state(hub, state)
            progress.update(t_acc, completed=1)
        stream_start = datetime.fromisoformat(state["stream_start"])
        reached = datetime.fromisoformat(state["reached"])
        sim = ShopSimulator(ShopConfig(orders_per_day=int(state["orders_per_day"])), seed=int(state["seed"]))
        stream = sim.stream(stream_start)
        if reached > stream_start:
            t_skip = progress.add_task("재개 위치 찾는 중 / resuming the shop where it stopped", total=None)
            stream = itertools.dropwhile(lambda e: e.at <= reached, stream)
            progress.update(t_skip, completed=1, total=1)

        sellers: list[demo_shops.Seller] = []
        if shops > 1:
            t_shops = progress.add_task(
                f"판매자 {shops - 1}곳 준비 / preparing {shops - 1} more sellers", total=1
            )
            app: Any = create_platform_app(hub)
            demo_shops.ensure_operator(hub, state)
            sellers = demo_shops.prepare_sellers(app.hubs, state, shops, now, history_days, orders_per_day)
            _save_state(hub, state)
            progress.update(t_shops, completed=1)
        else:
            app = create_app(hub)
        from deliveryhub.entrypoints.api.asgi import uvicorn_options

        options = uvicorn_options(hub.settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
        server_thread = threading.Thread(target=server.run, name="demo-uvicorn", daemon=True)
        server_thread.start()

        pending: Emission | None = None
        backfill_until = now - catch_up
        if reached < backfill_until:
            days = max(1.0, (backfill_until - reached).total_seconds() / 86400)
            estimate = int(days * orders_per_day * 17)
            t_hist = progress.add_task(
                f"지난 {days:.0f}일 주문 이력 채우기 / back-filling {days:.0f} days of history",
                total=estimate,
            )
            pending = _backfill(hub, stream, backfill_until, progress, t_hist)
            progress.update(t_hist, total=progress.tasks[t_hist].completed)
            state["reached"] = backfill_until.isoformat()
            _save_state(hub, state)
        _wait_for_consumers(hub, progress)
        if reached < backfill_until:
            _write_history_notices(hub, reached, backfill_until, int(state["seed"]), progress)
        for seller in sellers:
            _backfill_seller(seller, backfill_until, progress)
            _save_state(hub, state)
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)

    live_start = datetime.fromisoformat(state["reached"])
    clock = CatchUpClock(live_start, speed)
    stop = threading.Event()
    base = f"http://127.0.0.1:{port}"
    rest = itertools.chain([pending] if pending is not None else [], stream)

    def remember(_n: int, at: datetime) -> None:
        state["reached"] = at.isoformat()
        _save_state(hub, state)

    def live() -> None:
        try:
            run_simulation(
                base,
                state["api_key"],
                days=3650,
                orders_per_day=int(state["orders_per_day"]),
                speed=speed,
                seed=int(state["seed"]),
                start=live_start,
                simulator=sim,
                stop=stop,
                clock=clock,
                emissions=rest,
                on_batch=remember,
            )
        except Exception as exc:  # the demo keeps serving even if the shop stops
            console.print(f"[red]시뮬레이터 중단 / simulator stopped: {exc}[/red]")

    shop_thread = threading.Thread(target=live, name="demo-shop", daemon=True)
    shop_thread.start()
    seller_threads = [_start_seller(s, base, speed, stop, lambda: _save_state(hub, state)) for s in sellers]
    _print_welcome(
        hub, state, base, speed, demo_shops.welcome_lines(state, sellers, base) if shops > 1 else []
    )
    if open_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(base + "/")

    def _term(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        while server_thread.is_alive():
            server_thread.join(0.5)
    except KeyboardInterrupt:
        console.print("\n종료 중… / shutting down…")
    finally:
        stop.set()
        shop_thread.join(timeout=15)
        for thread in seller_threads:
            thread.join(timeout=15)
        server.should_exit = True
        server_thread.join(timeout=15)
        _save_state(hub, state)
        hub.close()
        console.print(
            "[green]멈췄습니다. 다시 실행하면 이어서 시작합니다 / stopped; run again to resume.[/green]"
        )


def _backfill_seller(seller: demo_shops.Seller, until: datetime, progress: Progress) -> None:
    """One extra seller's history, as the demo's own shop gets it: events, read models, past notices."""
    reached = datetime.fromisoformat(seller.state["reached"])
    if reached < until:
        task = progress.add_task(f"판매자 {seller.name} 이력 채우기 / back-filling {seller.slug}", total=None)
        pending = _backfill(seller.hub, seller.stream, until, progress, task)
        progress.update(task, total=progress.tasks[task].completed)
        if pending is not None:
            seller.stream = itertools.chain([pending], seller.stream)
        seller.state["reached"] = until.isoformat()
    _wait_for_consumers(seller.hub, progress)
    if reached < until:
        _write_history_notices(seller.hub, reached, until, int(seller.state["seed"]), progress)


def _start_seller(
    seller: demo_shops.Seller, base: str, speed: float, stop: threading.Event, save: Any
) -> threading.Thread:
    """The seller's live traffic over HTTP through its own shop's URLs (`/s/<slug>/…`) and key."""
    live_start = datetime.fromisoformat(seller.state["reached"])

    def remember(_n: int, at: datetime) -> None:
        seller.state["reached"] = at.isoformat()
        save()

    def live() -> None:
        try:
            run_simulation(
                f"{base}/s/{seller.slug}",
                seller.state["api_key"],
                days=3650,
                orders_per_day=int(seller.state["orders_per_day"]),
                speed=speed,
                seed=int(seller.state["seed"]),
                start=live_start,
                simulator=seller.sim,
                stop=stop,
                clock=CatchUpClock(live_start, speed),
                emissions=seller.stream,
                on_batch=remember,
            )
        except Exception as exc:  # the demo keeps serving even if a seller stops
            console.print(f"[red]시뮬레이터 중단 / simulator stopped ({seller.slug}): {exc}[/red]")

    thread = threading.Thread(target=live, name=f"demo-{seller.slug}", daemon=True)
    thread.start()
    return thread


def _print_welcome(
    hub: Hub, state: dict[str, Any], base: str, speed: float, platform: list[str] | None = None
) -> None:
    admin = state.get("admin")
    login = (
        f"{admin['email']} / {admin['password']}"
        if admin
        else f"API key (Authorization: Bearer): {state['api_key']}"
    )
    replay_s = CATCH_UP.total_seconds() / speed if speed > 0 else 0.0
    order = _latest_order(hub)
    track = _tracking_url(hub, order) if order else None
    lines = [
        f"[bold]대시보드 / dashboard[/bold]     {base}/",
        f"[bold]관리자 로그인 / admin login[/bold] {login}",
        f"[bold]CS 데스크 / CS desk[/bold]      {base}/tickets",
        f"[bold]고객 채팅 / customer chat[/bold] {base}/chat",
        f"[bold]배송 조회 / tracking page[/bold] {track or NO_TRACKING}",
        f"[bold]API 문서 / API docs[/bold]      {base}/docs",
        f"시뮬레이터 API key (integration): {state['api_key']}",
        *(platform or []),
        f"최근 1시간을 ×{speed:g} 배속으로 재생 후 실시간 ({replay_s:.0f}초) / "
        f"replaying the last hour at ×{speed:g} ({replay_s:.0f} s), then real time",
        "Ctrl-C 로 종료, 다시 실행하면 이어서 / Ctrl-C stops; run again to resume",
    ]
    console.print(Panel("\n".join(lines), title="deliveryhub demo", border_style="green"))
