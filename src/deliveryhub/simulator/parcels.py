"""A parcel's journey through the carrier network (scans, ETAs, delays, failed attempts, losses) and
what the customer does after delivery (surveys, reviews, claims, returns, exchanges)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from deliveryhub.simulator.base import ShopCore
from deliveryhub.simulator.data import (
    CHAT_TEMPLATES,
    HUBS,
    KST,
    ORDINARY_INTENTS,
    PROMISE_DAYS,
    REGION_GROUP,
    SURVEY_COMMENTS,
)
from deliveryhub.simulator.model import (
    SimOrder,
    add_business_days,
    business_day,
    carrier_days,
    stamp,
    weighted,
)


class ParcelJourney(ShopCore):
    """Parcels from pickup to the doorstep, and the customer afterwards."""

    def _parcel(self, order: SimOrder, n: int, packed: datetime, ship_day: date, outcome: str) -> None:
        cfg, rng = self.config, self.rng
        carrier = order.carrier
        code = carrier.code
        src = f"carrier:{code}"
        sid = f"{order.order_id}-{n}"
        tracking_no = f"{rng.randint(10**11, 10**12 - 1)}"
        group = REGION_GROUP[order.customer.region]
        waybill_at = packed + timedelta(minutes=rng.uniform(1, 15))
        self._event(
            waybill_at,
            "shipment.waybill_created",
            "tms",
            order,
            {"carrier": code, "tracking_no": tracking_no},
            shipment_id=sid,
        )
        self._scan(
            order, sid, code, "info", waybill_at + timedelta(minutes=rng.uniform(1, 30)), order.warehouse
        )
        pickup = max(waybill_at + timedelta(minutes=30), self._clock_time(ship_day, 16.5, 19.5))
        self._event(pickup, "shipment.handed_over", src, order, {"carrier": code}, shipment_id=sid)
        self._scan(
            order, sid, code, "pickup", pickup + timedelta(minutes=rng.uniform(1, 10)), order.warehouse
        )
        self._event(
            pickup,
            "cost.recorded",
            "erp",
            order,
            {"kind": "shipping", "amount": carrier.cost, "currency": "KRW", "carrier": code},
            shipment_id=sid,
        )
        # When does it arrive? On the promise, a day early sometimes, late with the carrier's odds.
        delay_p = cfg.delay_rate * carrier.factor(group) * (cfg.sales_delay_factor if order.in_event else 1.0)
        stale_p = min(0.05, cfg.tracking_stale_rate * (cfg.sales_stale_factor if order.in_event else 1.0))
        stale = rng.random() < stale_p
        # delay_rate is the total late share; silent-tracking parcels are late too, so they count in it.
        late = rng.random() < min(0.5, max(0.0, delay_p - stale_p))
        target = order.promised
        if stale:
            # Tracking goes silent for more than 48 h: the parcel sits at a hub, usually ending up late.
            target = add_business_days(pickup.astimezone(KST).date(), 3 + rng.choice((0, 0, 1)))
        elif late:
            target = add_business_days(order.promised, weighted(rng, ((1, 0.7), (2, 0.22), (3, 0.08))))
        elif PROMISE_DAYS[group] > 1 and rng.random() < carrier.early_share:
            target = add_business_days(ship_day, PROMISE_DAYS[group] - 1)
        target = business_day(target, carrier.sunday)
        self._event(
            pickup + timedelta(minutes=20),
            "shipment.eta_updated",
            "tms",
            order,
            {
                "eta_min": stamp(
                    datetime(order.promised.year, order.promised.month, order.promised.day, 9, tzinfo=KST)
                ),
                "eta_max": stamp(
                    datetime(order.promised.year, order.promised.month, order.promised.day, 21, tzinfo=KST)
                ),
            },
            shipment_id=sid,
        )
        hub = HUBS[code]
        linehaul_out = pickup + timedelta(hours=rng.uniform(3, 6))
        out_day_start = self._clock_time(target, 7.0, 12.5)
        if not stale:
            self._scan(order, sid, code, "linehaul_out", linehaul_out, hub)
            self._scan(
                order,
                sid,
                code,
                "linehaul_in",
                linehaul_out + timedelta(hours=rng.uniform(3, 8)),
                f"{order.customer.city} 서브터미널",
            )
            # A parcel that waits is scanned again each working day it moves between terminals, so only
            # the configured share of parcels (the `stale` ones) goes silent for more than 48 hours.
            day = linehaul_out.astimezone(KST).date() + timedelta(days=1)
            while day < target:
                if carrier_days(carrier.sunday).is_business_day(day):
                    self._scan(order, sid, code, "linehaul_in", self._clock_time(day, 5, 10), f"{hub} 재분류")
                day += timedelta(days=1)
        if target > order.promised or stale:
            # The carrier knows the morning of the promised day; a new ETA goes out (delay notice).
            notice = datetime(
                order.promised.year, order.promised.month, order.promised.day, 8, tzinfo=KST
            ) + timedelta(minutes=rng.uniform(0, 120))
            if target > order.promised and not stale:
                self._event(
                    notice,
                    "shipment.eta_updated",
                    "tms",
                    order,
                    {
                        "eta_min": stamp(datetime(target.year, target.month, target.day, 9, tzinfo=KST)),
                        "eta_max": stamp(datetime(target.year, target.month, target.day, 21, tzinfo=KST)),
                        "reason": "물량 증가로 인한 지연" if order.in_event else "간선 지연",
                    },
                    shipment_id=sid,
                )
            if rng.random() < 0.35:
                mood = weighted(rng, (("calm", 0.3), ("upset", 0.45), ("angry", 0.25)))
                self._conversation(
                    order, notice + timedelta(hours=rng.uniform(4, 12)), "delivery_delay", mood
                )
        if outcome == "missing" and rng.random() < 0.5:
            # Lost in the network: tracking stops after the sub-terminal, then a loss scan days later.
            lost_at = out_day_start + timedelta(days=3)
            self._scan(order, sid, code, "lost", lost_at, hub)
            self._conversation(order, out_day_start + timedelta(days=1, hours=3), "missing_delivery", "angry")
            self._event(lost_at + timedelta(hours=2), "claim.opened", "crm", order, {"kind": "missing"})
            self._event(
                lost_at + timedelta(hours=5),
                "compensation.issued",
                "crm",
                order,
                {"kind": "refund", "amount": order.total, "rule": "lost_parcel_full_refund"},
            )
            self._event(
                lost_at + timedelta(hours=5), "return.refunded", "oms", order, {"amount": order.total}
            )
            return
        out_at = out_day_start
        if rng.random() < cfg.attempt_fail_rate:
            self._scan(order, sid, code, "out", out_at, f"{order.customer.city} 집배점")
            fail_at = out_at + timedelta(hours=rng.uniform(3, 8))
            self._scan(
                order, sid, code, "fail", fail_at, f"{order.customer.city}", message="폐문부재 - 재방문 예정"
            )
            out_at = self._clock_time(
                business_day(fail_at.astimezone(KST).date() + timedelta(days=1), carrier.sunday), 7.0, 12.0
            )
        self._scan(order, sid, code, "out", out_at, f"{order.customer.city} 집배점")
        delivered_at = out_at + timedelta(hours=rng.uniform(1.5, 8.5))
        self._scan(
            order,
            sid,
            code,
            "delivered",
            delivered_at,
            f"{order.customer.city}",
            message=rng.choice(("문 앞 배송", "경비실 보관", "무인택배함", "직접 수령")),
        )
        self._event(
            delivered_at + timedelta(seconds=30),
            "shipment.delivered",
            src,
            order,
            {"proof": {"kind": "photo" if code in ("cj", "logen") else "signature"}},
            shipment_id=sid,
        )
        self._after_delivery(order, delivered_at, outcome, target > order.promised or stale)

    def _after_delivery(self, order: SimOrder, delivered: datetime, outcome: str, was_late: bool) -> None:
        rng = self.rng
        if outcome in ("damage", "wrong_item", "missing"):
            intent = {"damage": "damaged_item", "wrong_item": "wrong_item", "missing": "missing_delivery"}[
                outcome
            ]
            mood = weighted(rng, (("upset", 0.6), ("angry", 0.3), ("calm", 0.1)))
            said = delivered + timedelta(hours=rng.uniform(1, 30))
            self._conversation(
                order, said, intent, mood if intent != "wrong_item" or mood != "angry" else "upset"
            )
            kind = {"damage": "damage", "wrong_item": "wrong_item", "missing": "missing"}[outcome]
            self._event(
                said + timedelta(minutes=rng.uniform(5, 90)), "claim.opened", "crm", order, {"kind": kind}
            )
            if outcome == "missing":
                self._event(
                    said + timedelta(hours=rng.uniform(20, 50)),
                    "compensation.issued",
                    "crm",
                    order,
                    {"kind": "refund", "amount": order.total, "rule": "missing_after_delivery"},
                )
                return
            if rng.random() < 0.6:
                self._exchange(order, said + timedelta(hours=1), "파손" if outcome == "damage" else "오배송")
            else:
                self._return(
                    order, said + timedelta(hours=1), "파손 환불" if outcome == "damage" else "오배송 환불"
                )
            if outcome == "damage" and rng.random() < 0.5:
                self._event(
                    said + timedelta(hours=3),
                    "compensation.issued",
                    "crm",
                    order,
                    {"kind": "coupon", "amount": 5000, "rule": "damage_apology_coupon"},
                )
            return
        if outcome == "return":
            self._return(
                order,
                delivered + timedelta(days=rng.uniform(1, 5)),
                rng.choice(("단순 변심", "사이즈가 맞지 않음", "상품이 설명과 다름")),
            )
            if rng.random() < 0.3:
                self._conversation(order, delivered + timedelta(days=1), "return_request", "calm")
        elif outcome == "exchange":
            self._exchange(order, delivered + timedelta(days=rng.uniform(1, 4)), "사이즈 교환")
            if rng.random() < 0.4:
                self._conversation(order, delivered + timedelta(days=1), "exchange_request", "calm")
        elif rng.random() < self.config.chat_rate:
            intent = weighted(rng, ORDINARY_INTENTS)
            moods = list(CHAT_TEMPLATES[intent])
            self._conversation(
                order, order.created + timedelta(hours=rng.uniform(2, 40)), intent, rng.choice(moods)
            )
        if rng.random() < self.config.survey_rate:
            base = 5 if not was_late else 3
            if outcome in ("damage", "wrong_item"):
                base = 2
            csat = max(1, min(5, base - weighted(rng, ((0, 0.55), (1, 0.3), (2, 0.12), (3, 0.03)))))
            nps = max(0, min(10, csat * 2 + rng.choice((-1, 0, 0, 1))))
            data: dict[str, Any] = {"csat": csat, "nps": nps}
            if rng.random() < 0.5:
                data["comment"] = rng.choice(SURVEY_COMMENTS[csat])
            self._event(
                delivered + timedelta(hours=rng.uniform(3, 48)), "survey.answered", "crm", order, data
            )

    def _return(self, order: SimOrder, at: datetime, reason: str) -> None:
        rng = self.rng
        items = [{"sku": i["sku"], "qty": i["qty"]} for i in order.items[:1]]
        self._event(at, "return.requested", "oms", order, {"items": items, "reason": reason})
        picked = at + timedelta(days=rng.uniform(0.8, 2.5))
        self._event(picked, "return.picked_up", f"carrier:{order.carrier.code}", order, {})
        received = picked + timedelta(days=rng.uniform(0.8, 2.0))
        self._event(received, "return.received", "wms", order, {"warehouse": order.warehouse})
        refund = int(order.items[0]["price"]) * int(order.items[0]["qty"])
        self._event(
            received + timedelta(hours=rng.uniform(2, 30)),
            "return.refunded",
            "oms",
            order,
            {"amount": refund},
        )

    def _exchange(self, order: SimOrder, at: datetime, reason: str) -> None:
        items = [{"sku": i["sku"], "qty": i["qty"]} for i in order.items[:1]]
        self._event(at, "exchange.requested", "oms", order, {"items": items, "reason": reason})
        self._event(at + timedelta(days=self.rng.uniform(2.5, 6)), "exchange.completed", "oms", order, {})
