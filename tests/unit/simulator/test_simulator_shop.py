"""Unit tests of the simulated shop: reproducible, Korean, valid canonical events, realistic rates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime

import pytest

from deliveryhub.adapters.connectors.tracking import normalize_status
from deliveryhub.contracts.events import parse_event
from deliveryhub.simulator.shop import (
    CARRIERS,
    KST,
    SCANS,
    ShopConfig,
    ShopSimulator,
    add_business_days,
    events_only,
)

START = datetime(2026, 11, 2, tzinfo=KST)


def week(seed: int = 5, **cfg: object) -> list:
    config = ShopConfig(orders_per_day=150, sales_events=(), **cfg)  # type: ignore[arg-type]
    return ShopSimulator(config, seed=seed).generate(START, 7, include_tail=True)


@pytest.fixture(scope="module")
def emissions() -> list:
    return week()


def test_same_seed_same_stream_different_seed_different_stream() -> None:
    a = [e.payload for e in ShopSimulator(ShopConfig(orders_per_day=40), seed=1).generate(START, 2)]
    b = [e.payload for e in ShopSimulator(ShopConfig(orders_per_day=40), seed=1).generate(START, 2)]
    c = [e.payload for e in ShopSimulator(ShopConfig(orders_per_day=40), seed=2).generate(START, 2)]
    assert a == b
    assert a != c


def test_every_event_is_a_valid_canonical_event_with_unique_ids(emissions: list) -> None:
    events = events_only(emissions)
    for ev in events:
        parse_event(ev)  # raises ContractError naming the field if the shop sends anything malformed
    keys = Counter((e["source"], e["event_id"]) for e in events)
    assert keys.most_common(1)[0][1] == 1
    times = [e.at for e in emissions]
    assert times == sorted(times)


def test_customers_are_korean(emissions: list) -> None:
    created = [e.payload for e in emissions if e.kind == "event" and e.payload["type"] == "order.created"]
    hangul = re.compile(r"^[가-힣]{2,4}$")
    assert all(hangul.match(o["data"]["customer"]["name"]) for o in created)
    assert all(re.match(r"^010-\d{4}-\d{4}$", o["data"]["customer"]["phone"]) for o in created)
    regions = Counter(o["data"]["region"] for o in created)
    assert {"서울특별시", "경기도"} <= set(regions) and len(regions) >= 12
    assert all(o["data"]["address"]["line1"].startswith(o["data"]["region"]) for o in created)


def test_carrier_tracking_uses_raw_vocabulary_the_hub_understands(emissions: list) -> None:
    tracking = [
        e.payload for e in emissions if e.kind == "event" and e.payload["type"] == "shipment.tracking"
    ]
    sources = Counter(t["source"] for t in tracking)
    assert set(sources) == {f"carrier:{c.code}" for c in CARRIERS}
    for t in tracking:
        assert "status" not in t["data"]  # the hub derives it
        tag, _reason, known = normalize_status(
            t["source"].split(":")[1], t["data"].get("raw_code"), t["data"]["raw_status"]
        )
        assert known and tag, t
    cj_out = [t for t in tracking if t["source"] == "carrier:cj" and t["data"].get("raw_code") == "82"]
    assert cj_out and all(re.search(r"\(\d{1,2}~\d{1,2}시\)", t["data"]["raw_status"]) for t in cj_out)
    assert SCANS["lotte"]["delivered"] == ("41", "배달완료")


def test_failure_rates_match_the_configuration(emissions: list) -> None:
    events = events_only(emissions)
    types = Counter(e["type"] for e in events)
    orders = types["order.created"]
    assert 900 <= orders <= 1300
    assert 0.008 <= types["order.cancelled"] / orders <= 0.05
    assert 0.003 <= types["inventory.shortage"] / orders <= 0.03
    # Late deliveries against promised_delivery_date.
    promised = {
        e["order_id"]: date.fromisoformat(e["data"]["promised_delivery_date"])
        for e in events
        if e["type"] == "order.created"
    }
    delivered: dict[str, date] = {}
    for e in events:
        if e["type"] == "shipment.delivered":
            day = datetime.fromisoformat(e["occurred_at"]).astimezone(KST).date()
            delivered[e["order_id"]] = max(delivered.get(e["order_id"], day), day)
    late = sum(1 for o, d in delivered.items() if d > promised[o]) / len(delivered)
    assert 0.03 <= late <= 0.08, late
    # Stock sync errors: counted SKUs whose physical count differs from the system's.
    snaps = [e["data"] for e in events if e["type"] == "inventory.snapshot"]
    counted = sum(len(s["counts"]) for s in snaps)
    wrong = sum(1 for s in snaps for sku, q in s["counts"].items() if q != s["system"][sku])
    assert counted >= 200 and 0.01 <= wrong / counted <= 0.08


def test_sales_events_raise_volume_and_stale_tracking() -> None:
    sim = ShopSimulator(ShopConfig(orders_per_day=100), seed=9)
    assert sim.orders_on(date(2026, 11, 11)) > 2 * sim.orders_on(date(2026, 11, 4))
    assert sim.orders_on(date(2026, 11, 27)) > 2 * sim.orders_on(date(2026, 11, 20))  # Black Friday


def test_customers_write_in_korean_in_many_moods(emissions: list) -> None:
    chats = [e.payload for e in emissions if e.kind == "chat"]
    assert len({c["intent"] for c in chats}) >= 8
    assert len({c["mood"] for c in chats}) >= 3
    assert all(re.search(r"[가-힣]", m) for c in chats for m in c["messages"])
    # Each conversation has its CRM ticket twin, marked so a chatbot-backed run can skip it.
    conv_ids = {c["conversation_id"] for c in chats}
    twins = {e.conversation for e in emissions if e.kind == "event" and e.conversation}
    assert twins == conv_ids


def test_business_days_skip_sunday() -> None:
    assert add_business_days(date(2026, 11, 7), 1) == date(2026, 11, 9)  # Sat + 1 → Mon
    assert add_business_days(date(2026, 11, 4), 2) == date(2026, 11, 6)


def test_parcels_rest_on_korean_public_holidays() -> None:
    """추석 2026 (Thu 24 – Sat 26 Sep): nothing is packed, picked up or delivered on those days, and a
    promise made before the holiday skips it (the simulator uses the kernel's business calendar)."""
    start = datetime(2026, 9, 21, tzinfo=KST)
    emissions = ShopSimulator(ShopConfig(orders_per_day=120, sales_events=()), seed=3).generate(
        start, 5, include_tail=True
    )
    holiday = {date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26)}
    moving = ("fulfillment.packed", "shipment.handed_over", "shipment.delivered")
    for e in events_only(emissions):
        if e["type"] in moving:
            day = datetime.fromisoformat(e["occurred_at"]).astimezone(KST).date()
            assert day not in holiday, e
    assert add_business_days(date(2026, 9, 23), 1) == date(2026, 9, 28)  # Wed → Mon after 추석
    assert add_business_days(date(2027, 2, 5), 1) == date(2027, 2, 10)  # Fri → Wed after 설날
