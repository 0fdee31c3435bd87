"""The simulated shop's state and the primitives every part of it uses: customers, emitting events in
time order, carrier scans in each carrier's own vocabulary, and customer conversations with CS."""

from __future__ import annotations

import hashlib
import heapq
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker

from deliveryhub.kernel.labels import label
from deliveryhub.simulator.data import (
    CATALOGUE,
    CHAT_TEMPLATES,
    KST,
    REGIONS,
    SCANS,
    VOC_CATEGORY,
    WAREHOUSES,
)
from deliveryhub.simulator.model import Customer, Emission, ShopConfig, SimOrder, stamp, weighted


class ShopCore:
    """The shop's state (catalogue, customers, stock) and how it emits what it does."""

    def __init__(self, config: ShopConfig | None = None, seed: int = 7) -> None:
        self.config = config or ShopConfig()
        self.seed = seed
        self.rng = random.Random(seed)
        self.fake = Faker("ko_KR")
        self.fake.seed_instance(seed)
        self._seq = 0
        self._heap: list[Emission] = []
        self.skus: list[dict[str, Any]] = [
            {"sku": f"SKU-{cat[:3].upper()}-{i:03d}", "name": name, "price": price, "category": cat}
            for i, (cat, name, price) in enumerate(CATALOGUE)
        ]
        n_customers = self.config.customers or max(50, self.config.orders_per_day * 12)
        self.customers = [self._new_customer(i) for i in range(n_customers)]
        # System stock per (warehouse, sku): the WMS's belief, which drifts from the shelf.
        self.stock = {(w, s["sku"]): self.rng.randint(40, 400) for w in WAREHOUSES for s in self.skus}
        self.count_cursor = {w: i * 7 for i, w in enumerate(WAREHOUSES)}
        self.tag = hashlib.sha256(f"{seed}".encode()).hexdigest()[:3].upper()
        self.counters: dict[str, int] = {}

    # ------------------------------------------------------------------------------ building blocks
    def _new_customer(self, i: int) -> Customer:
        region, _share, _group, cities = weighted(self.rng, [(r, r[1]) for r in REGIONS])
        city = self.rng.choice(cities)
        phone = f"010-{self.rng.randint(2000, 9999):04d}-{self.rng.randint(0, 9999):04d}"
        address = {
            "zip": self.fake.postcode(),
            "line1": f"{region} {city} {self.fake.road_name()} {self.fake.building_number()}",
            "line2": self.fake.address_detail(),
        }
        return Customer(
            f"CUST-{i:06d}", self.fake.name(), phone, self.fake.free_email(), region, city, address
        )

    def _emit(
        self, at: datetime, payload: dict[str, Any], kind: str = "event", conversation: str | None = None
    ) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Emission(at.astimezone(UTC), self._seq, kind, payload, conversation))

    def _event(
        self,
        at: datetime,
        type_: str,
        source: str,
        order: SimOrder | None,
        data: dict[str, Any],
        shipment_id: str | None = None,
        conversation: str | None = None,
    ) -> None:
        key = order.order_id if order else "shop"
        n = self.counters[key] = self.counters.get(key, 0) + 1
        ev: dict[str, Any] = {
            "event_id": f"{key}:{n:03d}:{type_}",
            "source": source,
            "type": type_,
            "occurred_at": stamp(at),
            "order_id": order.order_id if order else None,
            "data": data,
        }
        if shipment_id:
            ev["shipment_id"] = shipment_id
        self._emit(at, ev, conversation=conversation)

    def _clock_time(self, day: date, hour_lo: float, hour_hi: float) -> datetime:
        """A random moment of `day` between two hours (KST)."""
        minutes = self.rng.uniform(hour_lo * 60, hour_hi * 60)
        return datetime(day.year, day.month, day.day, tzinfo=KST) + timedelta(minutes=minutes)

    def _scan(
        self,
        order: SimOrder,
        sid: str,
        code: str,
        step: str,
        at: datetime,
        location: str,
        message: str | None = None,
    ) -> None:
        raw_code, raw_status = SCANS[code][step]
        data: dict[str, Any] = {"raw_status": raw_status, "location": location}
        if raw_code is not None:
            data["raw_code"] = raw_code
        if step == "out":
            local = at.astimezone(KST)
            h = min(20, local.hour + self.rng.randint(2, 6))
            if code == "cj":
                # CJ's departure text carries the two-hour window, e.g. 배송출발 (14~16시).
                data["raw_status"] = f"{raw_status} ({h}~{h + 2}시)"
            data["message"] = (
                f"배송기사 {self.fake.last_name()}OO 010-{self.rng.randint(2000, 9999)}-"
                f"{self.rng.randint(0, 9999):04d} 배송 예정"
            )
        elif message:
            data["message"] = message
        # No "status": the hub derives it from the carrier's own code/text.
        self._event(at, "shipment.tracking", f"carrier:{code}", order, data, shipment_id=sid)

    def _conversation(self, order: SimOrder, at: datetime, intent: str, mood: str) -> None:
        """A customer writes in: a chat script for the hub's chatbot, and what a CRM would report instead."""
        rng = self.rng
        moods = CHAT_TEMPLATES[intent]
        mood = mood if mood in moods else rng.choice(list(moods))
        days = max(1, (at.astimezone(KST).date() - order.created.astimezone(KST).date()).days)
        fill = {
            "order": order.order_id,
            "last4": order.customer.phone[-4:],
            "days": days,
            "item": self.skus_by_id(order.items[0]["sku"])["name"],
        }
        text = rng.choice(moods[mood]).format(**fill)
        conv_id = f"CONV-{order.order_id}-{self.counters.get(order.order_id, 0) + 1}"
        messages = [text]
        if intent in ("delivery_delay", "missing_delivery") and mood == "angry" and rng.random() < 0.5:
            messages.append("상담원 연결해 주세요. 답변이 너무 늦어요.")
        self._emit(
            at,
            {
                "conversation_id": conv_id,
                "order_id": order.order_id,
                "intent": intent,
                "mood": mood,
                "messages": messages,
                "phone_last4": order.customer.phone[-4:],
            },
            kind="chat",
        )
        # Without a chatbot, the CRM reports the same contact as a ticket.
        ticket = "T-" + conv_id.removeprefix("CONV-")
        self._event(
            at,
            "ticket.created",
            "crm",
            order,
            {
                "ticket_id": ticket,
                "channel": rng.choice(("chat", "chat", "kakao", "phone", "email")),
                "subject": label("intent", intent),
                "text": " ".join(messages),
                "category": VOC_CATEGORY[intent],
                "intent": intent,
                "mood": mood,
            },
            conversation=conv_id,
        )
        escalate = mood == "angry" or intent in ("human_agent", "missing_delivery", "damaged_item")
        # An agent answers within the hour or so and takes longer to resolve; the bot answers in seconds.
        first = at + (
            timedelta(minutes=rng.uniform(3, 90)) if escalate else timedelta(seconds=rng.uniform(2, 20))
        )
        by = "agent" if escalate else "bot"
        self._event(
            first, "ticket.replied", "crm", order, {"ticket_id": ticket, "by": by}, conversation=conv_id
        )
        resolved = first + (
            timedelta(hours=rng.uniform(0.5, 30)) if escalate else timedelta(minutes=rng.uniform(1, 20))
        )
        self._event(resolved, "ticket.resolved", "crm", order, {"ticket_id": ticket}, conversation=conv_id)
        # About half the customers answer the CRM's CSAT survey (its own random draw: the rest of the
        # stream stays the same); angry ones rate low.
        survey = random.Random(f"{self.seed}:{ticket}:csat")
        if survey.random() < self.config.ticket_csat_rate:
            top = {"calm": 5, "upset": 4, "angry": 3}.get(mood, 4)
            score = max(1, top - weighted(survey, ((0, 0.6), (1, 0.3), (2, 0.1))))
            self._event(
                resolved + timedelta(minutes=survey.uniform(2, 180)),
                "survey.answered",
                "crm",
                order,
                {"ticket_id": ticket, "csat": score},
                conversation=conv_id,
            )

    def skus_by_id(self, sku: str) -> dict[str, Any]:
        """Catalogue entry of a SKU."""
        for s in self.skus:
            if s["sku"] == sku:
                return s
        raise KeyError(sku)
