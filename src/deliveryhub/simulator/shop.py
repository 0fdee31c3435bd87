"""A realistic Korean online shop, as a seeded, reproducible stream of canonical events.

The shop has customers (Faker ko_KR names, 010 mobile numbers, addresses), a catalogue, three
warehouses, the five Korean carriers with their own scan vocabularies and transit-time distributions
by region, daily/weekly order curves with sales-event spikes, and the failure rates of the
operations study: stock-sync errors (~3.8 % of counted SKUs), tracking not updated (1–5 %, more during
sales events), wrong picks, damage, missing parcels, late deliveries against `promised_delivery_date`,
returns, exchanges, and customers who write to CS in Korean in every mood.

`ShopSimulator.stream(start)` yields `Emission`s in time order, day after day, so the same stream can
back-fill history and then continue live. Nothing here does I/O; `run.py` sends it over HTTP.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from deliveryhub.simulator.data import (
    CARRIER_BY_CODE,
    CARRIERS,
    CHANNELS,
    HOURLY,
    KST,
    PROMISE_DAYS,
    REGION_GROUP,
    SCANS,
    SOUTH_EAST,
    WAREHOUSES,
    WEEKDAY,
    CarrierProfile,
)
from deliveryhub.simulator.model import (
    Customer,
    Emission,
    SalesEvent,
    ShopConfig,
    SimOrder,
    add_business_days,
    business_day,
    day_start,
    default_sales_events,
    events_only,
    stamp,
    weighted,
)
from deliveryhub.simulator.parcels import ParcelJourney

__all__ = [
    "CARRIERS",
    "CARRIER_BY_CODE",
    "KST",
    "SCANS",
    "CarrierProfile",
    "Customer",
    "Emission",
    "SalesEvent",
    "ShopConfig",
    "ShopSimulator",
    "add_business_days",
    "business_day",
    "day_start",
    "default_sales_events",
    "events_only",
]


class ShopSimulator(ParcelJourney):
    """The shop: deterministic for a given seed, config and start."""

    def orders_on(self, day: date) -> int:
        """Expected orders on `day` (weekly curve × sales events)."""
        mult = WEEKDAY[day.weekday()]
        for ev in self.config.events_on(day):
            mult *= ev.multiplier
        return max(0, round(self.config.orders_per_day * mult))

    # ------------------------------------------------------------------------------ the stream
    def stream(self, start: datetime, end: datetime | None = None) -> Iterator[Emission]:
        """Every emission from `start` on (until `end`, if given), in time order, generated day by day."""
        day = start.astimezone(KST).date()
        while True:
            day_start = datetime(day.year, day.month, day.day, tzinfo=KST)
            if end is not None and day_start >= end:
                break
            self._generate_day(day, start, end)
            next_start = day_start + timedelta(days=1)
            while self._heap and self._heap[0].at < next_start:
                item = heapq.heappop(self._heap)
                if end is not None and item.at >= end:
                    continue
                if item.at >= start:
                    yield item
            day += timedelta(days=1)

    def generate(self, start: datetime, days: float, *, include_tail: bool = False) -> list[Emission]:
        """Orders placed in [start, start + days); with `include_tail`, their whole lifecycles."""
        end = start + timedelta(days=days)
        out = list(self.stream(start, end))
        if include_tail:
            tail = sorted(e for e in self._heap if e.at >= start)
            self._heap.clear()
            out.extend(tail)
        return out

    def _generate_day(self, day: date, start: datetime, end: datetime | None) -> None:
        n = self.orders_on(day)
        # Poisson-ish noise, reproducible.
        n = max(0, round(self.rng.gauss(n, n**0.5))) if n else 0
        hours = self.rng.choices(range(24), weights=HOURLY, k=n)
        times = sorted(
            datetime(day.year, day.month, day.day, h, tzinfo=KST)
            + timedelta(seconds=self.rng.uniform(0, 3599))
            for h in hours
        )
        in_event = bool(self.config.events_on(day))
        for i, at in enumerate(times):
            if at < start or (end is not None and at >= end):
                self.rng.random()  # keep the random sequence independent of the window
                continue
            self._order(at, i, in_event)
        for w in WAREHOUSES:
            self._snapshot(day, w)

    def _snapshot(self, day: date, warehouse: str) -> None:
        """Nightly cycle count: a rotating slice of SKUs; some disagree with the system (sync errors)."""
        k = self.config.skus_counted_per_day
        cursor = self.count_cursor[warehouse]
        chosen = [self.skus[(cursor + j) % len(self.skus)]["sku"] for j in range(k)]
        self.count_cursor[warehouse] = (cursor + k) % len(self.skus)
        counts: dict[str, int] = {}
        system: dict[str, int] = {}
        for sku in chosen:
            sys_qty = self.stock[(warehouse, sku)]
            system[sku] = sys_qty
            if self.rng.random() < self.config.stock_sync_error_rate:
                delta = self.rng.choice((-3, -2, -1, -1, 1, 2))
                counts[sku] = max(0, sys_qty + delta)
            else:
                counts[sku] = sys_qty
        at = self._clock_time(day, 22.5, 23.5)
        self._seq += 1
        ev = {
            "event_id": f"snap:{warehouse}:{day.isoformat()}",
            "source": "wms",
            "type": "inventory.snapshot",
            "occurred_at": stamp(at),
            "order_id": None,
            "data": {"warehouse": warehouse, "counts": counts, "system": system},
        }
        self._emit(at, ev)

    # ------------------------------------------------------------------------------ one order
    def _order(self, at: datetime, index: int, in_event: bool) -> None:
        cfg, rng = self.config, self.rng
        # Repeat buyers: a quarter of orders come from the first tenth of customers.
        pool = self.customers[: max(1, len(self.customers) // 10)] if rng.random() < 0.25 else self.customers
        cust = rng.choice(pool)
        n_items = weighted(rng, ((1, 0.62), (2, 0.26), (3, 0.09), (4, 0.03)))
        picked = rng.sample(self.skus, n_items)
        items = [
            {"sku": s["sku"], "qty": weighted(rng, ((1, 0.85), (2, 0.12), (3, 0.03))), "price": s["price"]}
            for s in picked
        ]
        total = sum(int(i["price"]) * int(i["qty"]) for i in items)
        shipping_fee = 0 if total >= 30000 else 3000
        group = REGION_GROUP[cust.region]
        carriers = [(c, c.share * (2.5 if c.code == "epost" and group == "jeju" else 1.0)) for c in CARRIERS]
        carrier = weighted(rng, carriers)
        warehouse = "WH-BUSAN" if cust.region in SOUTH_EAST else rng.choice(("WH-ICHEON", "WH-YONGIN"))
        local = at.astimezone(KST)
        ship_day = business_day(
            local.date() if local.hour < cfg.cutoff_hour else local.date() + timedelta(days=1)
        )
        promised = add_business_days(ship_day, PROMISE_DAYS[group])
        oid = f"ORD-{local:%y%m%d}-{self.tag}{index:04d}"
        order = SimOrder(
            oid,
            at,
            cust,
            items,
            picked[0]["category"],
            total + shipping_fee,
            weighted(rng, CHANNELS),
            warehouse,
            carrier,
            promised,
            in_event,
        )
        self._event(
            at,
            "order.created",
            "oms",
            order,
            {
                "customer": {"name": cust.name, "phone": cust.phone, "email": cust.email},
                "address": dict(cust.address),
                "items": items,
                "total": order.total,
                "channel": order.channel,
                "promised_delivery_date": promised.isoformat(),
                "warehouse": warehouse,
                "region": cust.region,
                "category": order.category,
                "shipping_fee": shipping_fee,
            },
        )
        paid = at + timedelta(seconds=rng.uniform(5, 600))
        self._event(
            paid,
            "order.paid",
            "oms",
            order,
            {
                "amount": order.total,
                "method": weighted(
                    rng, (("card", 0.55), ("naverpay", 0.2), ("kakaopay", 0.15), ("bank_transfer", 0.1))
                ),
            },
        )
        for it in items:
            self.stock[(warehouse, it["sku"])] = max(0, self.stock[(warehouse, it["sku"])] - int(it["qty"]))
        # Customer cancels before it ships.
        if rng.random() < cfg.cancel_rate:
            when = paid + timedelta(minutes=rng.uniform(10, 300))
            self._event(
                when,
                "order.cancelled",
                "oms",
                order,
                {
                    "reason": rng.choice(
                        ("단순 변심", "다른 상품으로 재주문", "배송 기간이 너무 길어요", "중복 주문")
                    )
                },
            )
            if rng.random() < 0.3:
                self._conversation(order, when - timedelta(minutes=2), "cancel_order", "calm")
            return
        ready = paid + timedelta(minutes=rng.uniform(5, 40))
        if rng.random() < cfg.address_change_rate:
            new_addr = dict(cust.address)
            new_addr["line2"] = self.fake.address_detail() + " (회사)"
            self._event(ready, "order.address_changed", "oms", order, {"address": new_addr})
            self._conversation(order, ready - timedelta(minutes=3), "change_address", "calm")
        # Stock: reserved, or short until a restock arrives.
        if rng.random() < cfg.shortage_rate:
            sku = items[0]["sku"]
            self._event(
                ready,
                "inventory.shortage",
                "wms",
                order,
                {"sku": sku, "requested": items[0]["qty"], "available": 0, "warehouse": warehouse},
            )
            if rng.random() < 0.3:
                self._event(
                    ready + timedelta(hours=rng.uniform(2, 20)),
                    "order.cancelled",
                    "oms",
                    order,
                    {"reason": "재고 부족으로 주문 취소"},
                )
                return
            ready += timedelta(hours=rng.uniform(20, 44))
            ship_day = business_day(ready.astimezone(KST).date() + timedelta(days=1))
        self._event(
            ready,
            "inventory.reserved",
            "wms",
            order,
            {"items": [{"sku": i["sku"], "qty": i["qty"]} for i in items], "warehouse": warehouse},
        )
        # Picking and packing happen on the shipping day's morning wave (or now, if that is later).
        wave = max(ready + timedelta(minutes=20), self._clock_time(ship_day, 9, 14.5))
        if rng.random() < cfg.caught_pick_error_rate:
            wrong = rng.choice(self.skus)["sku"]
            self._event(
                wave,
                "fulfillment.pick_error",
                "wms",
                order,
                {"expected_sku": items[0]["sku"], "scanned_sku": wrong, "caught": True},
            )
            wave += timedelta(minutes=rng.uniform(15, 60))
        self._event(wave, "fulfillment.picked", "wms", order, {"warehouse": warehouse})
        packed = wave + timedelta(minutes=rng.uniform(10, 60))
        self._event(
            packed,
            "fulfillment.packed",
            "wms",
            order,
            {
                "packaging": "green" if rng.random() < cfg.green_packaging_rate else "standard",
                "warehouse": warehouse,
            },
        )
        self._event(
            packed,
            "cost.recorded",
            "erp",
            order,
            {"kind": "logistics", "amount": 850 * len(items), "currency": "KRW"},
        )
        n_parcels = 2 if (len(items) > 1 and rng.random() < cfg.split_parcel_rate * 3) else 1
        outcome = self._draw_outcome(order)
        for p in range(n_parcels):
            self._parcel(order, p + 1, packed, ship_day, outcome if p == n_parcels - 1 else "ok")

    def _draw_outcome(self, order: SimOrder) -> str:
        cfg, rng = self.config, self.rng
        roll = rng.random()
        for name, rate in (
            ("missing", cfg.missing_rate),
            ("damage", cfg.damage_rate),
            ("wrong_item", cfg.wrong_item_rate),
            ("return", cfg.return_rate),
            ("exchange", cfg.exchange_rate),
        ):
            if roll < rate:
                return name
            roll -= rate
        return "ok"
