"""`deliveryhub bench chat`: latency of one chat message over HTTP against a live `deliveryhub serve`
(NLU + session + order lookup + verification + reply written to the database), and batch NLU throughput.

Each conversation is the common one: a WISMO question with the order number, then the last four phone
digits, then a follow-up; every message is timed end to end from the client.

Two phases:
- **latency at load** (`p50_ms`, `p99_ms`): customers arrive at random (Poisson) at an offered rate of
  `--rate` messages per second (default 25 ≈ 90,000 messages an hour, above the peak of any single shop's
  chat) and type their next message after a random pause (mean 0.5 s). Arrivals do not wait for the
  server, so a slow server shows up as queueing in the figures instead of slowing the load down.
- **saturation** (`saturated`): four clients send back to back with no pause; their latency is
  4 / throughput by construction, so it measures throughput (`messages_per_s`) more than latency.

The baseline is GET /healthz on the same server in the same run (the floor of one HTTP round trip here)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

import httpx

from deliveryhub.bench.common import BenchEnv, BenchRequest, percentile, wait_for_quiet

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

THINK_SECONDS = 0.5  # mean pause before a customer's next message (a fast typist)
QUESTIONS = (
    "{oid} 배송 어디쯤이에요?",
    "{oid} 언제 도착하나요",
    "Where is my order {oid}?",
    "{oid} 송장번호 알려주세요",
)
FOLLOW_UPS = ("언제쯤 도착할까요?", "택배사가 어디예요?", "감사합니다", "When will it arrive?")


def _seed(hub: Hub, orders: int) -> list[tuple[str, str]]:
    """Orders in transit with an ETA; returns (order_id, last four phone digits)."""
    out: list[tuple[str, str]] = []
    events: list[dict[str, Any]] = []
    for i in range(orders):
        oid = f"ORD-2026-{i:06d}"
        last4 = f"{(i * 7919) % 10000:04d}"
        sid = f"S{i}"
        base = {"source": "oms", "order_id": oid}
        events += [
            {
                **base,
                "event_id": f"b{i}-1",
                "type": "order.created",
                "occurred_at": "2026-11-20T10:00:00+09:00",
                "data": {
                    "customer": {"name": "고객", "phone": f"010-5555-{last4}"},
                    "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 1"},
                    "items": [{"sku": "A", "qty": 1, "price": 19000}],
                    "total": 19000,
                },
            },
            {
                **base,
                "source": "tms",
                "event_id": f"b{i}-2",
                "type": "shipment.waybill_created",
                "shipment_id": sid,
                "occurred_at": "2026-11-21T10:00:00+09:00",
                "data": {"carrier": "cj", "tracking_no": f"{600000000000 + i}"},
            },
            {
                **base,
                "source": "tms",
                "event_id": f"b{i}-3",
                "type": "shipment.tracking",
                "shipment_id": sid,
                "occurred_at": "2026-11-21T20:00:00+09:00",
                "data": {"status": "in_transit", "location": "옥천HUB"},
            },
            {
                **base,
                "source": "tms",
                "event_id": f"b{i}-4",
                "type": "shipment.eta_updated",
                "shipment_id": sid,
                "occurred_at": "2026-11-21T20:00:00+09:00",
                "data": {"eta_min": "2026-11-24T14:00:00+09:00", "eta_max": "2026-11-24T16:00:00+09:00"},
            },
        ]
        if len(events) >= 2000:
            hub.ingest.ingest(events)
            events = []
        out.append((oid, last4))
    if events:
        hub.ingest.ingest(events)
    return out


async def _conversations(
    base: str, people: list[tuple[str, str]], seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    verified = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=300.0) as client:

        async def worker(w: int) -> None:
            nonlocal verified
            n = w
            while time.monotonic() < deadline:
                oid, last4 = people[n % len(people)]
                n += concurrency
                sid = (await client.post("/v1/chat/sessions", json={})).json()["session_id"]
                texts = (
                    QUESTIONS[n % len(QUESTIONS)].format(oid=oid),
                    last4,
                    FOLLOW_UPS[n % len(FOLLOW_UPS)],
                )
                for text in texts:
                    t0 = time.perf_counter()
                    r = await client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
                    latencies.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    tracking = str(600000000000 + int(oid[-6:]))
                    if text == last4 and tracking in (r.json().get("reply") or ""):
                        verified += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return {"latencies": latencies, "verified": verified, "elapsed": time.monotonic() - started}


async def _open_load(
    base: str, people: list[tuple[str, str]], seconds: float, rate: float, seed: int = 7
) -> dict[str, Any]:
    """Conversations arriving at random at `rate` messages/s, each message after a random pause."""
    rng = random.Random(seed)
    latencies: list[float] = []
    verified = 0
    per_conversation = 3
    start = time.monotonic()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=300.0, limits=limits) as client:

        async def conversation(n: int, at: float) -> None:
            nonlocal verified
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            oid, last4 = people[n % len(people)]
            sid = (await client.post("/v1/chat/sessions", json={})).json()["session_id"]
            texts = (QUESTIONS[n % len(QUESTIONS)].format(oid=oid), last4, FOLLOW_UPS[n % len(FOLLOW_UPS)])
            for text in texts:
                await asyncio.sleep(rng.expovariate(1 / THINK_SECONDS))
                t0 = time.perf_counter()
                r = await client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
                latencies.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                if text == last4 and str(600000000000 + int(oid[-6:])) in (r.json().get("reply") or ""):
                    verified += 1

        tasks = []
        offset, n = 0.0, 0
        while True:
            offset += rng.expovariate(rate / per_conversation)
            if offset >= seconds:
                break
            tasks.append(asyncio.create_task(conversation(n, start + offset)))
            n += 1
        await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    return {"latencies": latencies, "verified": verified, "elapsed": elapsed}


async def _baseline(base: str, n: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            await client.get("/healthz")
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _nlu_throughput(seconds: float) -> float:
    from deliveryhub.chatbot.nlu.api import classify_many
    from deliveryhub.chatbot.nlu.model import DATA_DIR, read_jsonl

    texts = [r["text"] for r in read_jsonl(DATA_DIR / "intents_test.jsonl")][:2000]
    classify_many(texts[:50])  # load models outside the measurement
    done = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max(1.0, seconds / 3):
        classify_many(texts)
        done += len(texts)
    return done / (time.perf_counter() - t0)


def run(req: BenchRequest) -> dict[str, Any]:
    """Measure chat latency over HTTP at an offered load (p50/p99 ms), throughput at saturation, and batch
    NLU throughput (messages/s)."""
    orders, seconds, rate = req.orders, req.seconds, req.rate
    seconds = float(seconds or 15.0)
    rate = float(rate or 25.0)
    if rate <= 0:
        raise ValueError("rate: must be > 0 messages per second")
    with BenchEnv(req.db_url, req.bus_url) as env:
        hub = env.bootstrap()
        people = _seed(hub, int(orders or 2000))
        base = env.serve(timeout=180.0)
        # Measure a quiet hub: the served worker first applies the seeded events (monitors, KPIs) and sends
        # the notices they caused (seeding thousands of orders at once is a burst no shop produces).
        wait_for_quiet(hub, timeout=900.0)
        # Warm-up: the server loads the NLU models on its first message.
        asyncio.run(_conversations(base, people[:4], 1.0, 1))
        loaded = asyncio.run(_open_load(base, people, seconds, rate))
        wait_for_quiet(hub, timeout=600.0)
        saturated = asyncio.run(_conversations(base, people[::-1], max(5.0, seconds / 2), 4))
        baseline = asyncio.run(_baseline(base, 200))
        lat = loaded["latencies"]
        sat = saturated["latencies"]
        out = {
            "p50_ms": round(percentile(lat, 50) or 0.0, 2),
            "p99_ms": round(percentile(lat, 99) or 0.0, 2),
            "nlu_messages_per_s": round(_nlu_throughput(seconds), 1),
            "offered_messages_per_s": rate,
            "achieved_messages_per_s": round(len(lat) / max(loaded["elapsed"], 1e-9), 1),
            "messages": len(lat),
            "verified_answers": loaded["verified"],
            "saturated": {
                "concurrency": 4,
                "p50_ms": round(percentile(sat, 50) or 0.0, 2),
                "p99_ms": round(percentile(sat, 99) or 0.0, 2),
                "messages_per_s": round(len(sat) / saturated["elapsed"], 1),
            },
            "baseline_healthz_p50_ms": round(percentile(baseline, 50) or 0.0, 2),
            "baseline_healthz_p99_ms": round(percentile(baseline, 99) or 0.0, 2),
            "orders": len(people),
            "mode": env.mode,
        }
        return out
