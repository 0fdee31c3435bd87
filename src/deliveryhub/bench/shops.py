"""`deliveryhub bench shops`: does one seller's flash sale slow another seller's customers?

One `deliveryhub serve` process (its in-process workers: one per shop) holds two shops, `flash` and
`calm`. Phase `quiet` (`--seconds`, default 20): only calm's probes run. Phase `flash`: flash's own
integration key posts its flash sale (default 50,000 events of the simulated shop; `--orders` scales
it) in batches of 1,000 from two posters as fast as the server takes them, while calm's probes go on;
the phase ends when flash's consumers have applied every message of the sale (its backlog is part of
it). Calm's probes, at the same pace in both phases:
- a chat turn every 0.5 s on calm's customer chat (`/s/calm/v1/chat/...`): the clock runs from sending
  the message to receiving the bot's answer;
- a small batch of calm's own order events every second: notice latency is calm's inbox `received_at`
  → its `notification_jobs.sent_at` (informational notices go out at any hour; nothing was configured).
Each probe is counted in the phase in which it started. `ratio_*` = flash ÷ quiet; the issue's bar is
≤ 2. `cpu_ms_per_flash_event` is the server process's CPU during the flash phase per flash event.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import sqlalchemy as sa

from deliveryhub.bench.common import BenchEnv, BenchRequest, percentile, wait_for_quiet
from deliveryhub.bench.ingest import shop_events

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

BATCH = 1000
FLASH_EVENTS = 50_000
CHAT_EVERY_S = 0.5
NOTICE_EVERY_S = 1.0
CALM_BATCH = 10


class _Probes:
    """Calm's customers: chat turns and order events at a steady pace, each stamped with its phase."""

    def __init__(self, base: str, calm_key: str) -> None:
        self.base = base
        self.calm_key = calm_key
        self.phase = "quiet"
        self.chat_ms: dict[str, list[float]] = {"quiet": [], "flash": []}
        self.chat_errors = 0
        self.event_phases: list[tuple[datetime, str]] = []
        self.stop = threading.Event()
        self.calm_events = shop_events(400, seed=23)

    def chat_loop(self) -> None:
        with httpx.Client(base_url=self.base + "/s/calm", timeout=60) as client:
            session, turns = None, 0
            while not self.stop.is_set():
                started = time.perf_counter()
                phase = self.phase
                try:
                    if session is None or turns >= 5:  # a new customer every five turns (per-session limits)
                        opened = client.post("/v1/chat/sessions", json={"lang": "ko"})
                        opened.raise_for_status()
                        session, turns = opened.json()["session_id"], 0
                        started, phase = time.perf_counter(), self.phase
                    res = client.post(
                        f"/v1/chat/sessions/{session}/messages", json={"text": "배송 언제 와요?"}
                    )
                    res.raise_for_status()
                    self.chat_ms[phase].append((time.perf_counter() - started) * 1000)
                    turns += 1
                except httpx.HTTPError:
                    self.chat_errors += 1
                    session = None
                self.stop.wait(max(0.0, CHAT_EVERY_S - (time.perf_counter() - started)))

    def event_loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.calm_key}", "content-type": "application/json"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as client:
            at = 0
            while not self.stop.is_set() and at < len(self.calm_events):
                started = time.perf_counter()
                batch = self.calm_events[at : at + CALM_BATCH]
                at += CALM_BATCH
                self.event_phases.append((datetime.now(UTC), self.phase))
                client.post("/v1/events", content=orjson.dumps({"events": batch})).raise_for_status()
                self.stop.wait(max(0.0, NOTICE_EVERY_S - (time.perf_counter() - started)))

    def phase_at(self, received: datetime) -> str:
        """The phase in which an event that arrived at `received` was sent."""
        phase = "quiet"
        for sent_at, p in self.event_phases:
            if sent_at <= received:
                phase = p
        return phase


def _notice_latencies(hub: Hub, since: datetime, probes: _Probes) -> dict[str, list[float]]:
    """Calm's notice latencies (ms) by the phase their triggering event was sent in."""
    from deliveryhub.adapters.persistence import tables as t
    from deliveryhub.notifications.facts import customer_notice_times

    out: dict[str, list[float]] = {"quiet": [], "flash": []}
    with hub.db.read() as conn:
        jobs = customer_notice_times(conn, since)
        arrivals = {
            (r.order_id, r.occurred_at): r.received_at
            for r in conn.execute(
                sa.select(t.inbox.c.order_id, t.inbox.c.occurred_at, t.inbox.c.received_at).where(
                    t.inbox.c.received_at >= since
                )
            )
        }
    for order_id, trigger_at, sent_at in jobs:
        arrived = arrivals.get((order_id, trigger_at))
        if arrived is not None:
            out[probes.phase_at(arrived)].append(max(0.0, (sent_at - arrived).total_seconds() * 1000))
    return out


def _summary(values: list[float]) -> dict[str, Any]:
    p50, p99 = percentile(values, 50), percentile(values, 99)
    return {
        "n": len(values),
        "p50_ms": round(p50, 1) if p50 is not None else None,
        "p99_ms": round(p99, 1) if p99 is not None else None,
    }


def _ratio(flash: float | None, quiet: float | None) -> float | None:
    return round(flash / quiet, 2) if flash is not None and quiet else None


def run(req: BenchRequest) -> dict[str, Any]:
    """Measure; returns the JSON object of `deliveryhub bench shops --json`."""
    from deliveryhub.security.apikeys import create_api_key
    from deliveryhub.shops.hubs import ShopHubs

    quiet_s = req.seconds or 20.0
    flash_events = shop_events(max(100, (req.orders or 0)) if req.orders else FLASH_EVENTS // 8, seed=11)
    if not req.orders:
        flash_events = flash_events[:FLASH_EVENTS]
    with BenchEnv(req.db_url, req.bus_url) as env:
        platform = env.bootstrap()
        hubs = ShopHubs(platform)
        keys = {}
        for slug, name in (("flash", "반짝세일 상점"), ("calm", "평온한 상점")):
            hubs.directory.create(name, slug, platform.clock.now())
            hub = hubs.hub(slug)
            assert hub is not None  # noqa: S101 - just created
            keys[slug] = create_api_key(hub.db, f"bench-{slug}", "integration", shop=slug)
        calm = hubs.hub("calm")
        assert calm is not None  # noqa: S101 - just created
        base = env.serve()
        with httpx.Client(base_url=base + "/s/calm", timeout=120) as warm:  # first-turn model loading
            opened = warm.post("/v1/chat/sessions", json={"lang": "ko"}).json()
            warm.post(f"/v1/chat/sessions/{opened['session_id']}/messages", json={"text": "안녕하세요"})
        since = datetime.now(UTC)
        probes = _Probes(base, keys["calm"])
        threads = [threading.Thread(target=probes.chat_loop), threading.Thread(target=probes.event_loop)]
        for thread in threads:
            thread.start()
        time.sleep(quiet_s)
        probes.phase = "flash"
        batches = [flash_events[i : i + BATCH] for i in range(0, len(flash_events), BATCH)]
        headers = {"Authorization": f"Bearer {keys['flash']}", "content-type": "application/json"}
        cpu0 = env.server_cpu_seconds()
        t0 = time.perf_counter()
        with (
            httpx.Client(base_url=base, headers=headers, timeout=300) as c1,
            httpx.Client(base_url=base, headers=headers, timeout=300) as c2,
            ThreadPoolExecutor(max_workers=2) as pool,
        ):
            futures = [
                pool.submit(
                    lambda b, c: c.post("/v1/events", content=orjson.dumps({"events": b})),
                    b,
                    c1 if i % 2 else c2,
                )
                for i, b in enumerate(batches)
            ]
            for f in futures:
                f.result().raise_for_status()
        accepted_s = time.perf_counter() - t0
        # The sale is not over when its events are accepted: calm's customers wait through flash's
        # backlog too, so the phase lasts until every consumer of flash has applied everything.
        flash_hub = hubs.hub("flash")
        assert flash_hub is not None  # noqa: S101 - created above
        wait_for_quiet(flash_hub, timeout=900.0)
        flash_s = time.perf_counter() - t0
        cpu = env.server_cpu_seconds() - cpu0
        probes.stop.set()
        for thread in threads:
            thread.join()
        wait_for_quiet(calm, timeout=300.0)
        notices = _notice_latencies(calm, since, probes)
        chat = probes.chat_ms
        result: dict[str, Any] = {
            "quiet": {"chat": _summary(chat["quiet"]), "notice": _summary(notices["quiet"])},
            "flash": {"chat": _summary(chat["flash"]), "notice": _summary(notices["flash"])},
            "flash_events": len(flash_events),
            "flash_seconds": round(flash_s, 1),
            "flash_accepted_seconds": round(accepted_s, 1),
            "flash_events_per_s": round(len(flash_events) / flash_s, 1),
            "cpu_ms_per_flash_event": round(cpu * 1000 / max(1, len(flash_events)), 3),
            "chat_errors": probes.chat_errors,
            "mode": env.mode,
        }
        for what in ("chat", "notice"):
            for q in ("p50_ms", "p99_ms"):
                result[f"ratio_{what}_{q[:3]}"] = _ratio(result["flash"][what][q], result["quiet"][what][q])
        hubs.close()
        return result
