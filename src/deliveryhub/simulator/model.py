"""The simulated shop's model: its configuration and sales calendar, the emissions it produces, its
customers and orders, and the working days of the warehouse and the carriers (the kernel's business
calendar, so 설날 and 추석 stop parcels in the simulation as they do in Korea)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.timefmt import iso
from deliveryhub.simulator.data import KST, CarrierProfile

# The warehouse and the carriers work Monday to Saturday; a carrier with 7-day delivery (CJ) on Sundays
# too. Nobody works on Korean public holidays.
SHOP_DAYS = BusinessCalendar(workdays=frozenset(range(6)))
SEVEN_DAYS = BusinessCalendar(workdays=frozenset(range(7)))


@dataclass(frozen=True)
class SalesEvent:
    """A sales day: orders multiply, carriers strain (more stale tracking, more delays)."""

    name: str
    start: date
    days: int
    multiplier: float

    def covers(self, day: date) -> bool:
        """Whether `day` is inside the event."""
        return self.start <= day < self.start + timedelta(days=self.days)


def default_sales_events(year: int) -> tuple[SalesEvent, ...]:
    """The Korean shopping calendar: 11.11, Black Friday week (코리아세일페스타), 12.12, New Year sale."""
    nov1 = date(year, 11, 1)
    fridays = [nov1 + timedelta(days=i) for i in range(30) if (nov1 + timedelta(days=i)).weekday() == 4]
    return (
        SalesEvent("빼빼로데이 11.11 특가", date(year, 11, 11), 1, 2.4),
        SalesEvent("블랙프라이데이", fridays[3], 3, 2.8),
        SalesEvent("12.12 연말 특가", date(year, 12, 12), 1, 2.0),
        SalesEvent("신년 세일", date(year, 1, 2), 3, 1.6),
        SalesEvent("월급날 쿠폰데이", date(year, 10, 25), 1, 1.3),
    )


@dataclass
class ShopConfig:
    """Everything that shapes the shop; rates are per order unless named otherwise."""

    orders_per_day: int = 300
    customers: int = 0  # 0 = orders_per_day * 12
    delay_rate: float = 0.05  # share of delivered orders later than promised (industry average 5.5 %)
    sales_delay_factor: float = 1.6
    tracking_stale_rate: float = 0.02  # parcels whose tracking goes silent > 48 h (1–5 %)
    sales_stale_factor: float = 2.2
    stock_sync_error_rate: float = 0.038  # counted SKUs whose physical count differs from the system
    skus_counted_per_day: int = 12  # per warehouse (cycle counting)
    shortage_rate: float = 0.012
    cancel_rate: float = 0.02
    address_change_rate: float = 0.01
    caught_pick_error_rate: float = 0.008
    wrong_item_rate: float = 0.005  # wrong pick that reaches the customer
    damage_rate: float = 0.004
    missing_rate: float = 0.003
    attempt_fail_rate: float = 0.015
    return_rate: float = 0.012
    exchange_rate: float = 0.006
    split_parcel_rate: float = 0.08
    green_packaging_rate: float = 0.35
    survey_rate: float = 0.15
    chat_rate: float = 0.05  # orders whose customer writes in with an ordinary question
    notice_failure_rate: float = 0.01  # back-filled stage notices that failed (the study: 알림 누락 ~1 %)
    delay_unnotified_rate: float = 0.04  # back-filled late orders the shop's notifier never warned
    ticket_csat_rate: float = 0.5  # resolved CRM tickets whose customer answers the CSAT survey
    cutoff_hour: int = 15  # orders before this ship the same business day
    sales_events: tuple[SalesEvent, ...] | None = None  # None = the Korean calendar of the years simulated

    def events_on(self, day: date) -> list[SalesEvent]:
        """Sales events running on `day`."""
        events = self.sales_events
        if events is None:
            events = default_sales_events(day.year) + default_sales_events(day.year - 1)
        return [e for e in events if e.covers(day)]


@dataclass(order=True)
class Emission:
    """One thing the shop does at a moment: an event to post, or a customer conversation to hold."""

    at: datetime
    seq: int
    kind: str = field(compare=False)  # "event" | "chat"
    payload: dict[str, Any] = field(compare=False)
    conversation: str | None = field(default=None, compare=False)  # events a chatbot would produce itself


@dataclass
class Customer:
    """A shopper (personal data only ever leaves the simulator inside order.created)."""

    customer_id: str
    name: str
    phone: str
    email: str
    region: str
    city: str
    address: dict[str, str]


@dataclass
class SimOrder:
    """One order as the shop knows it while generating its lifecycle."""

    order_id: str
    created: datetime
    customer: Customer
    items: list[dict[str, Any]]
    category: str
    total: int
    channel: str
    warehouse: str
    carrier: CarrierProfile
    promised: date
    in_event: bool


def weighted(rng: random.Random, pairs: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
    """One value drawn by weight from (value, weight) pairs."""
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


def stamp(at: datetime) -> str:
    """An event time as the shop's systems write it: Korean time, whole seconds."""
    return str(iso(at.astimezone(KST).replace(microsecond=0)))


def carrier_days(sunday: bool) -> BusinessCalendar:
    """The working days of a carrier (with or without Sunday delivery)."""
    return SEVEN_DAYS if sunday else SHOP_DAYS


def business_day(day: date, sunday_ok: bool = False) -> date:
    """`day`, or the next day a parcel can move (no Sunday work unless the carrier delivers Sundays,
    no work on public holidays)."""
    return carrier_days(sunday_ok).business_day_on_or_after(day)


def add_business_days(day: date, n: int) -> date:
    """`n` working days (Mon–Sat, public holidays excluded) after `day`."""
    for _ in range(n):
        day = SHOP_DAYS.next_business_day(day)
    return day


def events_only(emissions: list[Emission], *, with_conversation_events: bool = True) -> list[dict[str, Any]]:
    """The canonical events of a list of emissions (optionally without the CRM's view of chats)."""
    return [
        e.payload
        for e in emissions
        if e.kind == "event" and (with_conversation_events or e.conversation is None)
    ]


def day_start(day: date) -> datetime:
    """Midnight of `day` in Korea."""
    return datetime(day.year, day.month, day.day, tzinfo=KST)
