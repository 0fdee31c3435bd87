"""Returns and exchanges policy (pure): who may return what until when, and who pays the return fee.

전자상거래법 17조①: a customer may withdraw (청약철회) within 7 days of receiving the goods, for any reason
("단순 변심"), paying the return shipping. 17조③: goods that are defective, damaged, the wrong item or not
as described may be returned within 3 months of receipt, at the seller's cost. 18조: the seller refunds
within 3 business days of getting the goods back.

Day counting (민법 157조, 초일 불산입): the delivery day is day 0 in the shop's zone (Asia/Seoul), so goods
delivered on 1 March may be returned for a change of mind until 8 March 24:00 KST (day 7); on 9 March
(day 8) they may not. Goods handed to the carrier but not yet delivered may be returned too (the window
has not started). Nothing handed over yet → not a return but a cancellation (`not_shipped`).

Fees: a change-of-mind return costs the round trip (`fee_change_of_mind_free_shipping`, 6,000원) when the
order shipped free, and only the return leg (`fee_change_of_mind_paid_shipping`, 3,000원) when the customer
already paid the outbound shipping. A change-of-mind exchange always costs the round trip (the goods go
back and a new parcel comes out). Whether the customer paid shipping is read from order.created: its
`shipping_fee` field when present (> 0 → paid); otherwise the items' value (Σ price×qty, else `total`)
below `free_shipping_threshold` (30,000원, as the FAQ says) → paid.

Config (the hub's config file; every key optional, the defaults shown):

    returns:
      window_days: 7                          # 청약철회, calendar days after the delivery day
      fee_change_of_mind_free_shipping: 6000  # round trip, the order shipped free
      fee_change_of_mind_paid_shipping: 3000  # return leg only, the customer paid shipping
      fee_exchange_change_of_mind: 6000
      free_shipping_threshold: 30000
      shop_pays: [defective, damaged, wrong_item, not_as_described]
      defect_window_days: 90
      refund_business_days: 3                 # 18조: refund due after the goods are received
      sla: {pickup_booked: 1, picked_up: 2, received: 3, inspected: 1, reshipped: 2, completed: 3}

Step SLAs are business days (the shop's `business_hours:` calendar, Korean public holidays closed): a
step is due at the close of the N-th business day after the previous step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deliveryhub.kernel import configfile
from deliveryhub.kernel.calendar import MIDNIGHT, BusinessCalendar

REASON_CODES: tuple[str, ...] = (
    "change_of_mind",
    "defective",
    "damaged",
    "wrong_item",
    "not_as_described",
    "other",
)
SHOP_FAULT: frozenset[str] = frozenset({"defective", "damaged", "wrong_item", "not_as_described"})
Kind = Literal["return", "exchange"]
FeePayer = Literal["customer", "shop"]

# Workflow statuses in order; a status never moves back to a lower rank (late or replayed events).
STATUSES: tuple[str, ...] = (
    "requested",
    "pickup_booked",
    "picked_up",
    "received",
    "inspected",
    "inspection_failed",
    "reshipped",
    "refunded",
    "completed",
)
STATUS_RANK: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
FINAL_STATUSES: frozenset[str] = frozenset({"refunded", "completed", "inspection_failed"})


class StepSlas(BaseModel):
    """Business days each step may take, counted from the previous step (end of that business day)."""

    model_config = ConfigDict(extra="forbid")

    pickup_booked: int = Field(default=1, ge=0, le=60)  # from requested
    picked_up: int = Field(default=2, ge=0, le=60)  # from pickup_booked
    received: int = Field(default=3, ge=0, le=60)  # from picked_up
    inspected: int = Field(default=1, ge=0, le=60)  # from received
    reshipped: int = Field(default=2, ge=0, le=60)  # from inspected (exchange)
    completed: int = Field(default=3, ge=0, le=60)  # from reshipped (exchange)


class ReturnPolicy(BaseModel):
    """The shop's return rules (config section `returns:`); the bot, the FAQ and the desk read the same."""

    model_config = ConfigDict(extra="forbid")

    window_days: int = Field(default=7, ge=1, le=365)
    fee_change_of_mind_free_shipping: int = Field(default=6000, ge=0)
    fee_change_of_mind_paid_shipping: int = Field(default=3000, ge=0)
    fee_exchange_change_of_mind: int = Field(default=6000, ge=0)
    free_shipping_threshold: int = Field(default=30000, ge=0)
    shop_pays: frozenset[str] = SHOP_FAULT
    defect_window_days: int = Field(default=90, ge=1, le=3650)
    refund_business_days: int = Field(default=3, ge=0, le=60)
    sla: StepSlas = Field(default_factory=StepSlas)


def load_return_policy(config_file: Path | str | None) -> ReturnPolicy:
    """The `returns:` section of the hub's config file (defaults when absent); errors name the line."""
    return configfile.load_section(config_file, "returns", ReturnPolicy)


# ---------------------------------------------------------------- reasons
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "damaged",
        (
            "파손",
            "깨져",
            "깨졌",
            "깨짐",
            "찌그러",
            "부서",
            "박살",
            "금이 가",
            "찢어",
            "터져",
            "터졌",
            "damaged",
            "broken",
            "crushed",
            "cracked",
            "smashed",
        ),
    ),
    (
        "wrong_item",
        (
            "오배송",
            "다른 상품이 왔",
            "다른 상품이 배송",
            "다른 제품이 왔",
            "다른 물건이 왔",
            "다른게 왔",
            "다른 게 왔",
            "잘못 왔",
            "잘못 배송",
            "잘못와",
            "주문한 것과 다른",
            "주문한 거랑 다른",
            "주문과 다른",
            "wrong item",
            "wrong product",
            "wrong size sent",
            "not what i ordered",
        ),
    ),
    (
        "defective",
        (
            "불량",
            "고장",
            "하자",
            "결함",
            "오작동",
            "작동이 안",
            "작동 안",
            "안 켜",
            "안켜",
            "defective",
            "faulty",
            "not working",
            "doesn't work",
            "does not work",
            "broken down",
        ),
    ),
    (
        "not_as_described",
        (
            "설명과 다",
            "상세페이지와 다",
            "상세 페이지와 다",
            "사진과 다",
            "광고와 다",
            "표기와 다",
            "not as described",
            "different from the description",
            "different from the picture",
            "different from the photo",
        ),
    ),
    (
        "change_of_mind",
        (
            "변심",
            "마음이 바뀌",
            "마음에 안",
            "마음에 들지 않",
            "필요 없",
            "필요없",
            "안 맞",
            "사이즈가 작",
            "사이즈가 커",
            "사이즈가 안",
            "생각과 달",
            "색상이 별로",
            "잘못 주문",
            "주문 실수",
            "changed my mind",
            "change of mind",
            "don't need",
            "no longer need",
            "don't like",
            "do not like",
            "doesn't fit",
            "does not fit",
            "ordered by mistake",
        ),
    ),
)


def classify_reason(text: str | None) -> str:
    """The reason code of a customer's words (Korean or English); `other` when nothing matched."""
    if not text:
        return "other"
    lowered = text.lower()
    compact = re.sub(r"\s+", "", lowered)
    for code, words in _KEYWORDS:
        for word in words:
            if word in lowered or word.replace(" ", "") in compact:
                return code
    return "other"


# ---------------------------------------------------------------- eligibility
@dataclass(frozen=True)
class Eligibility:
    """Whether a return/exchange may open, its fee and who pays, in words (Korean and English)."""

    ok: bool
    code: str  # eligible | window_passed | defect_window_passed | not_shipped | unknown_kind
    fee: int
    fee_payer: FeePayer | None
    message_ko: str
    message_en: str
    deadline: datetime | None = None
    day: int | None = None


def won(amount: int, lang: str = "ko") -> str:
    """6000 → "6,000원" / "6,000 won"."""
    return f"{amount:,}원" if lang != "en" else f"{amount:,} won"


def withdrawal_deadline(policy: ReturnPolicy, delivered_at: datetime, calendar: BusinessCalendar) -> datetime:
    """The end (midnight, shop's zone) of the last day a change-of-mind return may be asked."""
    return calendar.end_of_day(calendar.local_date(delivered_at) + timedelta(days=policy.window_days))


def days_since_delivery(delivered_at: datetime, now: datetime, calendar: BusinessCalendar) -> int:
    """Whole calendar days from the delivery date to `now`'s date, in the shop's zone (delivery day = 0)."""
    return (calendar.local_date(now) - calendar.local_date(delivered_at)).days


def assess(
    policy: ReturnPolicy,
    *,
    kind: str,
    reason_code: str | None,
    delivered_at: datetime | None,
    now: datetime,
    shipping_paid: bool,
    calendar: BusinessCalendar,
    handed_over_at: datetime | None = None,
) -> Eligibility:
    """Whether a return/exchange for `reason_code` may open at `now`, its fee and who pays it."""
    what_ko, what_en = ("교환", "exchange") if kind == "exchange" else ("반품", "return")
    if kind not in ("return", "exchange"):
        return Eligibility(
            False,
            "unknown_kind",
            0,
            None,
            "반품 또는 교환 중에서 골라 주세요.",
            "Choose a return or an exchange.",
        )
    code = reason_code if reason_code in REASON_CODES else "other"
    shop_fault = code in policy.shop_pays
    if delivered_at is None and handed_over_at is None:
        return Eligibility(
            False,
            "not_shipped",
            0,
            None,
            f"아직 출고 전이라 {what_ko} 대신 주문 취소로 도와드릴 수 있어요.",
            f"The order has not shipped yet, so it can be cancelled instead of a {what_en}.",
        )
    day = days_since_delivery(delivered_at, now, calendar) if delivered_at is not None else None
    if shop_fault:
        if delivered_at is not None and day is not None and day > policy.defect_window_days:
            last = calendar.end_of_day(
                calendar.local_date(delivered_at) + timedelta(days=policy.defect_window_days)
            )
            return Eligibility(
                False,
                "defect_window_passed",
                0,
                None,
                f"상품 문제로 인한 {what_ko}은 받으신 날부터 {policy.defect_window_days}일 안에 신청하실 수 "
                f"있는데, {_ko_date(last)}에 기간이 끝났어요. 상담원이 따로 확인해 드릴게요.",
                f"A {what_en} for a faulty item can be asked within {policy.defect_window_days} days of "
                f"delivery; that period ended on {_en_date(last)}. An agent will look into it.",
                last,
                day,
            )
        return Eligibility(
            True,
            "eligible",
            0,
            "shop",
            f"상품 문제로 인한 {what_ko}이라 배송비는 저희가 부담해요.",
            f"As the item is at fault, the {what_en} shipping is on us.",
            None,
            day,
        )
    deadline: datetime | None = (
        withdrawal_deadline(policy, delivered_at, calendar) if delivered_at is not None else None
    )
    if delivered_at is not None and day is not None and day > policy.window_days:
        return Eligibility(
            False,
            "window_passed",
            0,
            None,
            f"단순 변심 {what_ko}은 배송 완료일로부터 {policy.window_days}일 안에만 가능해요. "
            f"{_ko_date(calendar.local_date(delivered_at))}에 배송이 완료되어 "
            f"{_ko_date(deadline)}에 신청 기간이 끝났어요. 상품에 문제가 있다면 그 내용을 알려 주세요.",
            f"A {what_en} for a change of mind is possible within {policy.window_days} days of delivery. "
            f"The order was delivered on {_en_date(calendar.local_date(delivered_at))}, so the period ended "
            f"on {_en_date(deadline)}. If something is wrong with the item, please tell us what.",
            deadline,
            day,
        )
    fee = change_of_mind_fee(policy, kind=kind, shipping_paid=shipping_paid)
    until_ko = f" ({_ko_date(deadline)}까지 신청 가능)" if deadline is not None else ""
    until_en = f" (possible until {_en_date(deadline)})" if deadline is not None else ""
    leg_ko = "반품 배송비" if kind == "return" and shipping_paid else "왕복 배송비"
    leg_en = "return shipping" if kind == "return" and shipping_paid else "round-trip shipping"
    return Eligibility(
        True,
        "eligible",
        fee,
        "customer",
        f"단순 변심 {what_ko}이라 {leg_ko} {won(fee)}이 들어요{until_ko}.",
        f"A {what_en} for a change of mind costs {won(fee, 'en')} {leg_en}{until_en}.",
        deadline,
        day,
    )


def change_of_mind_fee(policy: ReturnPolicy, *, kind: str, shipping_paid: bool) -> int:
    """The customer's fee for a change-of-mind return or exchange."""
    if kind == "exchange":
        return policy.fee_exchange_change_of_mind
    return (
        policy.fee_change_of_mind_paid_shipping if shipping_paid else policy.fee_change_of_mind_free_shipping
    )


def _ko_date(when: datetime | date | None) -> str:
    if when is None:
        return ""
    if isinstance(when, datetime):  # a deadline is midnight after the last day: name the last day
        when = (when - timedelta(seconds=1)).date() if when.time() == MIDNIGHT else when.date()
    return f"{when.month}월 {when.day}일"


def _en_date(when: datetime | date | None) -> str:
    if when is None:
        return ""
    if isinstance(when, datetime):
        when = (when - timedelta(seconds=1)).date() if when.time() == MIDNIGHT else when.date()
    return when.strftime("%d %b %Y").lstrip("0")


# ---------------------------------------------------------------- order facts
def items_value(items: Sequence[Any] | None) -> int:
    """Σ price × qty of order items (mappings with price/qty; others count 0)."""
    total = 0.0
    for item in items or ():
        if isinstance(item, Mapping):
            try:
                total += float(item.get("price") or 0) * float(item.get("qty") or 1)
            except (TypeError, ValueError):
                continue
    return int(round(total))


def shipping_paid(policy: ReturnPolicy, order_data: Mapping[str, Any] | None) -> bool:
    """Whether the customer paid the outbound shipping, from order.created data (see the module doc)."""
    data = order_data or {}
    fee = data.get("shipping_fee")
    if fee is not None:
        try:
            return float(fee) > 0
        except (TypeError, ValueError):
            pass
    value = items_value(data.get("items"))
    if not value:
        try:
            value = int(float(data.get("total") or 0))
        except (TypeError, ValueError):
            value = 0
    return 0 < value < policy.free_shipping_threshold


def select_items(order_items: Sequence[Any] | None, asked: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The order's items a return covers: every item when none is named; named SKUs (strings or
    {sku, qty}) with the order's price, qty capped at what was ordered; unknown SKUs are dropped."""
    ordered = [dict(i) for i in (order_items or ()) if isinstance(i, Mapping)]
    if not asked:
        return ordered
    by_sku = {str(i.get("sku")): i for i in ordered}
    out: list[dict[str, Any]] = []
    for entry in asked:
        sku = str(entry.get("sku")) if isinstance(entry, Mapping) else str(entry)
        base = by_sku.get(sku)
        if base is None:
            continue
        qty = entry.get("qty") if isinstance(entry, Mapping) else None
        item = dict(base)
        if qty is not None:
            try:
                item["qty"] = max(1, min(int(qty), int(base.get("qty") or 1)))
            except (TypeError, ValueError):
                pass
        out.append(item)
    return out


def refund_amount(items: Sequence[Any], fee: int, fee_payer: str | None, refundable: int) -> int:
    """What a passed return gives back: the items' value less the customer's fee, capped by what is left."""
    value = items_value(items) - (fee if fee_payer == "customer" else 0)
    return max(0, min(value, refundable))


# ---------------------------------------------------------------- SLA
_NEXT_STEP: dict[tuple[str, str], str] = {
    ("return", "requested"): "pickup_booked",
    ("return", "pickup_booked"): "picked_up",
    ("return", "picked_up"): "received",
    ("return", "received"): "inspected",
    ("return", "inspected"): "refunded",
    ("exchange", "requested"): "pickup_booked",
    ("exchange", "pickup_booked"): "picked_up",
    ("exchange", "picked_up"): "received",
    ("exchange", "received"): "inspected",
    ("exchange", "inspected"): "reshipped",
    ("exchange", "reshipped"): "completed",
}


def next_step(kind: str, status: str) -> str | None:
    """The step the workflow waits for after `status` (None when finished or failed)."""
    return _NEXT_STEP.get((kind, status))


def add_business_days(calendar: BusinessCalendar, since: datetime, days: int) -> datetime:
    """The close of the `days`-th business day after `since`'s date (0 → the close of that day, or of
    the next business day when `since` falls on a closed day or after hours)."""
    day = calendar.local_date(since)
    if days == 0:
        day = calendar.business_day_on_or_after(day)
    for _ in range(days):
        day = calendar.next_business_day(day)
    close = calendar.end
    if close == MIDNIGHT:
        return calendar.end_of_day(day)
    out = datetime.combine(day, close, tzinfo=calendar.tz)
    if out <= since:  # after hours on a 0-day step: the next business day's close
        out = datetime.combine(calendar.next_business_day(day), close, tzinfo=calendar.tz)
    return out


def step_due(
    policy: ReturnPolicy,
    kind: str,
    status: str,
    since: datetime,
    calendar: BusinessCalendar,
    *,
    received_at: datetime | None = None,
) -> datetime | None:
    """When the step after `status` (reached at `since`) is due; None when nothing more is awaited.
    A refund is due `refund_business_days` after the goods were received (18조), not after inspection."""
    step = next_step(kind, status)
    if step is None:
        return None
    if step == "refunded":
        return add_business_days(calendar, received_at or since, policy.refund_business_days)
    return add_business_days(calendar, since, int(getattr(policy.sla, step)))


# ---------------------------------------------------------------- FAQ facts
def policy_facts(policy: ReturnPolicy) -> dict[str, str]:
    """Formatted policy values for FAQ/bot placeholders (`{return_fee_free_shipping}` …); `_en` keys too."""
    facts = {
        "return_fee_free_shipping": won(policy.fee_change_of_mind_free_shipping),
        "return_fee_paid_shipping": won(policy.fee_change_of_mind_paid_shipping),
        "exchange_fee": won(policy.fee_exchange_change_of_mind),
        "free_shipping_threshold": won(policy.free_shipping_threshold),
        "return_window_days": str(policy.window_days),
        "defect_window_days": str(policy.defect_window_days),
        "refund_business_days": str(policy.refund_business_days),
        "pickup_business_days": str(policy.sla.pickup_booked + policy.sla.picked_up),
    }
    for key in (
        "return_fee_free_shipping",
        "return_fee_paid_shipping",
        "exchange_fee",
        "free_shipping_threshold",
    ):
        amount = {
            "return_fee_free_shipping": policy.fee_change_of_mind_free_shipping,
            "return_fee_paid_shipping": policy.fee_change_of_mind_paid_shipping,
            "exchange_fee": policy.fee_exchange_change_of_mind,
            "free_shipping_threshold": policy.free_shipping_threshold,
        }[key]
        facts[f"{key}_en"] = won(amount, "en")
    return facts


__all__ = [
    "FINAL_STATUSES",
    "REASON_CODES",
    "SHOP_FAULT",
    "STATUSES",
    "STATUS_RANK",
    "Eligibility",
    "ReturnPolicy",
    "StepSlas",
    "add_business_days",
    "assess",
    "change_of_mind_fee",
    "classify_reason",
    "items_value",
    "load_return_policy",
    "next_step",
    "policy_facts",
    "refund_amount",
    "select_items",
    "shipping_paid",
    "step_due",
]
