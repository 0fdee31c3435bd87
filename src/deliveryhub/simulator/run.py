"""Drive a running hub with the simulated shop, over HTTP only (what `deliveryhub simulate` runs).

Time is compressed: the shop's clock starts at `start` (default: now) and runs `speed` times faster
than the wall clock (720 = a day in two minutes, a week in 14). `speed <= 0` sends as fast as the hub
takes it. Events go to `POST /v1/events` in batches; customer conversations go to the chatbot
(`POST /v1/chat/sessions/...`) when the hub has one, otherwise the CRM reports them as tickets.
Retries are safe: every event id is deterministic, so a re-sent batch only yields `duplicate`s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from deliveryhub.simulator.shop import Emission, ShopConfig, ShopSimulator

log = structlog.get_logger(__name__)


class SimClock:
    """Compressed time: `start` plus `speed` × the wall-clock time elapsed since creation."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        """The simulated present."""
        if self.speed <= 0:
            return datetime.max.replace(tzinfo=UTC)
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def wall_seconds_until(self, at: datetime) -> float:
        """Real seconds until the simulated clock reaches `at`."""
        if self.speed <= 0:
            return 0.0
        return max(0.0, (at - self.now()).total_seconds() / self.speed)


class CatchUpClock(SimClock):
    """Compressed time that never runs ahead of the wall clock: the shop replays the recent past at
    `speed`, then carries on in real time (the demo: the hub's own clock, sessions and timers stay real)."""

    def now(self) -> datetime:
        """The simulated present, capped at the real present."""
        return min(super().now(), datetime.now(UTC))

    def wall_seconds_until(self, at: datetime) -> float:
        """Real seconds until `at`: compressed while catching up, one to one afterwards."""
        real = datetime.now(UTC)
        sim = super().now()
        if sim < real:
            if at <= sim:
                return 0.0
            if at <= real:
                return (at - sim).total_seconds() / self.speed if self.speed > 0 else 0.0
            caught_up = (real - sim).total_seconds() / self.speed if self.speed > 0 else 0.0
            return caught_up + (at - real).total_seconds()
        return max(0.0, (at - real).total_seconds())


class HubClient:
    """The few HTTP calls the shop makes to the hub."""

    def __init__(self, target: str, api_key: str, timeout: float = 60.0) -> None:
        self.http = httpx.Client(
            base_url=target.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}
        )
        self.totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.rejections: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def has_chat(self) -> bool:
        """Whether the hub exposes the customer chatbot."""
        try:
            spec = self.http.get("/openapi.json").json()
        except (httpx.HTTPError, ValueError):
            return False
        return "/v1/chat/sessions" in (spec.get("paths") or {})

    def post_events(self, events: list[dict[str, Any]], stop: threading.Event | None = None) -> None:
        """POST one batch; retried (idempotently) while the hub is unreachable or busy."""
        delay = 0.5
        while True:
            try:
                resp = self.http.post("/v1/events", json={"events": events})
                if resp.status_code == 200:
                    break
                if resp.status_code not in (429, 502, 503, 504):
                    raise RuntimeError(f"hub answered {resp.status_code}: {resp.text[:300]}")
            except httpx.TransportError as exc:
                log.warning("simulator_post_retry", error=str(exc)[:200])
            if stop is not None and stop.is_set():
                return
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        with self._lock:
            for r in resp.json()["results"]:
                self.totals[r["status"]] = self.totals.get(r["status"], 0) + 1
                if r["status"] == "rejected" and len(self.rejections) < 20:
                    self.rejections.append(r)

    def chat(self, conversation: dict[str, Any]) -> dict[str, Any] | None:
        """Hold one conversation with the chatbot; returns its last answer."""
        try:
            resp = self.http.post("/v1/chat/sessions", json={"order_id": conversation["order_id"]})
            if resp.status_code >= 400:
                return None
            sid = resp.json()["session_id"]
            answer = None
            for text in conversation["messages"]:
                r = self.http.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
                if r.status_code >= 400:
                    return None
                answer = r.json()
            return answer
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("simulator_chat_failed", error=str(exc)[:200])
            return None

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def run_simulation(
    target: str,
    api_key: str,
    days: float = 7.0,
    orders_per_day: int = 300,
    speed: float = 720.0,
    seed: int = 7,
    *,
    start: datetime | None = None,
    config: ShopConfig | None = None,
    simulator: ShopSimulator | None = None,
    stop: threading.Event | None = None,
    include_tail: bool = False,
    batch_size: int = 500,
    chat: bool = True,
    clock: SimClock | None = None,
    on_batch: Callable[[int, datetime], None] | None = None,
    emissions: Iterator[Emission] | None = None,
) -> dict[str, Any]:
    """Play the shop against `target` for `days` simulated days; returns what was sent and answered."""
    start = start or datetime.now(UTC)
    config = config or ShopConfig(orders_per_day=orders_per_day)
    sim = simulator or ShopSimulator(config, seed=seed)
    clock = clock or SimClock(start, speed)
    client = HubClient(target, api_key)
    use_chat = chat and client.has_chat()
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sim-chat") if use_chat else None
    end = start + timedelta(days=days)
    counts = {"events": 0, "orders": 0, "chats": 0, "chats_answered": 0}
    t0 = time.monotonic()
    buffer: list[dict[str, Any]] = []
    chat_futures: list[Any] = []

    def flush() -> None:
        for i in range(0, len(buffer), batch_size):
            client.post_events(buffer[i : i + batch_size], stop)
        if buffer and on_batch is not None:
            on_batch(len(buffer), clock.now())
        buffer.clear()

    if emissions is not None:
        items = emissions  # continue a stream someone else started (the demo's back-fill)
    elif include_tail:
        items = iter(sim.generate(start, days, include_tail=True))
    else:
        items = sim.stream(start, end)
    try:
        for em in items:
            if stop is not None and stop.is_set():
                break
            if emissions is not None and em.at >= end:
                break
            wait = clock.wall_seconds_until(em.at)
            if wait > 0:
                flush()
                # Sleep in short steps so Ctrl-C / stop() is honoured quickly.
                while wait > 0 and not (stop is not None and stop.is_set()):
                    time.sleep(min(wait, 0.25))
                    wait = clock.wall_seconds_until(em.at)
            if not _dispatch(em, buffer, counts, use_chat, pool, client, chat_futures):
                continue
            if len(buffer) >= batch_size:
                flush()
        flush()
        for fut in chat_futures:
            if fut.result() is not None:
                counts["chats_answered"] += 1
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        client.close()
    elapsed = time.monotonic() - t0
    return {
        "target": target,
        "seed": seed,
        "days": days,
        "orders_per_day": orders_per_day,
        "speed": speed,
        "sim_start": start.isoformat(),
        "sim_end": min(end, clock.now()).isoformat() if speed > 0 else end.isoformat(),
        "orders": counts["orders"],
        "events_sent": counts["events"],
        **client.totals,
        "chats": counts["chats"],
        "chat_api": use_chat,
        "chats_answered": counts["chats_answered"],
        "rejections": client.rejections,
        "elapsed_s": round(elapsed, 2),
        "events_per_s": round(counts["events"] / elapsed, 1) if elapsed > 0 else None,
    }


def _dispatch(
    em: Emission,
    buffer: list[dict[str, Any]],
    counts: dict[str, int],
    use_chat: bool,
    pool: ThreadPoolExecutor | None,
    client: HubClient,
    futures: list[Any],
) -> bool:
    """Route one emission; True when an event was buffered."""
    if em.kind == "chat":
        counts["chats"] += 1
        if use_chat and pool is not None:
            futures.append(pool.submit(client.chat, em.payload))
        return False
    if use_chat and em.conversation is not None:
        return False  # the chatbot produces its own ticket events for this conversation
    buffer.append(em.payload)
    counts["events"] += 1
    if em.payload["type"] == "order.created":
        counts["orders"] += 1
    return True
