"""The returns policy: 청약철회 window by KST calendar days, fees by who paid shipping, reasons, SLAs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from deliveryhub.domain.returns import (
    ReturnPolicy,
    add_business_days,
    assess,
    classify_reason,
    items_value,
    load_return_policy,
    policy_facts,
    refund_amount,
    select_items,
    shipping_paid,
    step_due,
)
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.configfile import ConfigError

KST = timezone(timedelta(hours=9))
CAL = BusinessCalendar()
POLICY = ReturnPolicy()


def _assess(
    reason: str, delivered: datetime | None, now: datetime, *, kind: str = "return", paid: bool = False
):
    return assess(
        POLICY,
        kind=kind,
        reason_code=reason,
        delivered_at=delivered,
        now=now,
        shipping_paid=paid,
        calendar=CAL,
    )


def test_day_7_ok_and_day_8_refused_at_kst_midnight() -> None:
    delivered = datetime(2026, 3, 2, 23, 59, tzinfo=KST)  # Monday, late evening KST
    day7_last_minute = datetime(2026, 3, 9, 23, 59, 59, tzinfo=KST)
    day8_first_second = datetime(2026, 3, 10, 0, 0, tzinfo=KST)
    ok = _assess("change_of_mind", delivered, day7_last_minute)
    assert ok.ok and ok.day == 7 and ok.fee == 6000 and ok.fee_payer == "customer"
    assert "3월 9일까지" in ok.message_ko
    late = _assess("change_of_mind", delivered, day8_first_second)
    assert not late.ok and late.code == "window_passed" and late.day == 8
    assert "7일" in late.message_ko and "3월 9일" in late.message_ko
    assert "7 days" in late.message_en


def test_delivery_counted_in_kst_not_utc() -> None:
    # 1 March 00:30 KST is still 28 Feb in UTC: the KST date is the delivery day
    delivered = datetime(2026, 2, 28, 15, 30, tzinfo=UTC)
    assert _assess(
        "change_of_mind", delivered, datetime(2026, 3, 8, 14, 59, tzinfo=UTC)
    ).ok  # 8 Mar 23:59 KST
    assert not _assess("change_of_mind", delivered, datetime(2026, 3, 8, 15, 0, tzinfo=UTC)).ok  # 9 Mar 00:00


def test_month_end_and_leap_year() -> None:
    delivered = datetime(2028, 2, 25, 10, 0, tzinfo=KST)  # 2028 is a leap year: 25 Feb + 7 = 3 Mar
    assert _assess("change_of_mind", delivered, datetime(2028, 3, 3, 22, 0, tzinfo=KST)).ok
    assert not _assess("change_of_mind", delivered, datetime(2028, 3, 4, 0, 1, tzinfo=KST)).ok
    year_end = datetime(2026, 12, 28, 12, 0, tzinfo=KST)
    assert _assess("change_of_mind", year_end, datetime(2027, 1, 4, 23, 0, tzinfo=KST)).ok
    assert not _assess("change_of_mind", year_end, datetime(2027, 1, 5, 0, 0, tzinfo=KST)).ok


def test_shop_fault_on_day_8_is_accepted_at_shop_cost_until_90_days() -> None:
    delivered = datetime(2026, 3, 2, 12, 0, tzinfo=KST)
    for reason in ("damaged", "defective", "wrong_item", "not_as_described"):
        out = _assess(reason, delivered, datetime(2026, 3, 10, 9, 0, tzinfo=KST))
        assert out.ok and out.fee == 0 and out.fee_payer == "shop", reason
    assert _assess("damaged", delivered, delivered + timedelta(days=90)).ok
    late = _assess("damaged", delivered, delivered + timedelta(days=91))
    assert not late.ok and late.code == "defect_window_passed"


def test_fees_by_shipping_paid_and_kind() -> None:
    now = datetime(2026, 3, 3, 9, 0, tzinfo=KST)
    delivered = datetime(2026, 3, 2, 12, 0, tzinfo=KST)
    assert _assess("change_of_mind", delivered, now, paid=False).fee == 6000
    paid = _assess("change_of_mind", delivered, now, paid=True)
    assert paid.fee == 3000 and "반품 배송비 3,000원" in paid.message_ko
    assert _assess("change_of_mind", delivered, now, kind="exchange", paid=True).fee == 6000
    assert _assess("other", delivered, now).fee_payer == "customer"


def test_not_shipped_and_in_transit() -> None:
    now = datetime(2026, 3, 3, 9, 0, tzinfo=KST)
    out = _assess("change_of_mind", None, now)
    assert not out.ok and out.code == "not_shipped" and "취소" in out.message_ko
    handed = assess(
        POLICY,
        kind="return",
        reason_code="change_of_mind",
        delivered_at=None,
        handed_over_at=now - timedelta(days=1),
        now=now,
        shipping_paid=False,
        calendar=CAL,
    )
    assert handed.ok and handed.fee == 6000


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("상자가 파손되어 왔어요", "damaged"),
        ("컵이 깨져서 왔네요", "damaged"),
        ("제품 불량이에요, 전원이 안 켜져요", "defective"),
        ("주문한 것과 다른 상품이 왔어요", "wrong_item"),
        ("오배송 됐어요", "wrong_item"),
        ("상세페이지와 다르게 생겼어요", "not_as_described"),
        ("단순변심으로 반품할게요", "change_of_mind"),
        ("단순 변심이요", "change_of_mind"),
        ("사이즈가 안 맞아요", "change_of_mind"),
        ("The box arrived damaged", "damaged"),
        ("I changed my mind", "change_of_mind"),
        ("It is not working", "defective"),
        ("그냥요", "other"),
        ("", "other"),
    ],
)
def test_classify_reason(text: str, code: str) -> None:
    assert classify_reason(text) == code


def test_shipping_paid_from_order_data() -> None:
    assert shipping_paid(POLICY, {"shipping_fee": 3000, "total": 100000})
    assert not shipping_paid(POLICY, {"shipping_fee": 0, "total": 1000})
    assert shipping_paid(POLICY, {"items": [{"sku": "A", "qty": 1, "price": 12000}]})
    assert not shipping_paid(POLICY, {"items": [{"sku": "A", "qty": 3, "price": 12000}]})
    assert shipping_paid(POLICY, {"total": 29900})
    assert not shipping_paid(POLICY, {})


def test_items_and_refund_amount() -> None:
    ordered = [{"sku": "A", "qty": 2, "price": 10000}, {"sku": "B", "qty": 1, "price": 5000}]
    assert items_value(select_items(ordered, None)) == 25000
    assert select_items(ordered, ["B"]) == [{"sku": "B", "qty": 1, "price": 5000}]
    assert select_items(ordered, [{"sku": "A", "qty": 5}])[0]["qty"] == 2
    assert select_items(ordered, ["Z"]) == []
    assert refund_amount(ordered, 6000, "customer", 100000) == 19000
    assert refund_amount(ordered, 6000, "shop", 100000) == 25000
    assert refund_amount(ordered, 6000, "customer", 10000) == 10000
    assert refund_amount([{"sku": "C", "qty": 1, "price": 3000}], 6000, "customer", 100000) == 0


def test_business_day_slas_skip_weekends_and_holidays() -> None:
    # Fri 2 Oct 2026, then the weekend; 개천절 (Sat 3 Oct) is substituted on Mon 5 Oct: next is Tue 6 Oct
    friday = datetime(2026, 10, 2, 15, 0, tzinfo=KST)
    assert add_business_days(CAL, friday, 1) == datetime(2026, 10, 6, 18, 0, tzinfo=CAL.tz)
    # 18조: a refund is due 3 business days after the goods were received, whatever the inspection time
    received = datetime(2026, 10, 2, 10, 0, tzinfo=KST)
    due = step_due(POLICY, "return", "inspected", received + timedelta(days=4), CAL, received_at=received)
    assert due is not None and due.date() == date(2026, 10, 8)
    assert step_due(POLICY, "return", "refunded", received, CAL) is None
    assert step_due(POLICY, "exchange", "inspected", received, CAL) is not None
    # Saturday evening, a 0-day step: the close of Monday
    assert add_business_days(CAL, datetime(2026, 3, 7, 20, 0, tzinfo=KST), 0) == datetime(
        2026, 3, 9, 18, 0, tzinfo=CAL.tz
    )


def test_policy_facts_follow_config(tmp_path: Path) -> None:
    facts = policy_facts(POLICY)
    assert facts["return_fee_free_shipping"] == "6,000원"
    assert facts["return_fee_paid_shipping"] == "3,000원"
    assert facts["return_window_days"] == "7"
    assert facts["return_fee_paid_shipping_en"] == "3,000 won"
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "returns:\n  window_days: 14\n  fee_change_of_mind_free_shipping: 5000\n", encoding="utf-8"
    )
    policy = load_return_policy(cfg)
    assert policy.window_days == 14 and policy_facts(policy)["return_fee_free_shipping"] == "5,000원"
    assert load_return_policy(None) == ReturnPolicy()
    bad = tmp_path / "bad.yaml"
    bad.write_text("returns:\n  window_dayz: 14\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        load_return_policy(bad)
