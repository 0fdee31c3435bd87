"""Pure logic of the monitors: Korean business calendar, rule functions, ETA quantiles, compensation."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from deliveryhub.domain.order import Order, Parcel
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.monitors import rules
from deliveryhub.monitors.eta import TransitModel, TransitSample, apply_hint, quantile

KST = ZoneInfo("Asia/Seoul")
CAL = BusinessCalendar()


def test_lunar_and_substitute_holidays_are_not_business_days():
    for day in (
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 2, 18),
        date(2025, 10, 8),
        date(2026, 5, 25),
        date(2027, 2, 9),
        date(2027, 12, 27),
        date(2026, 10, 5),
    ):
        assert not CAL.is_business_day(day), day
    assert CAL.is_business_day(date(2026, 2, 19))


def test_business_hours_skip_nights_weekends_and_chuseok():
    # Wednesday 2026-09-23 17:00 + 4 business hours: 1 h that day, then 추석 (24–26) and the weekend.
    due = CAL.add_business_hours(datetime(2026, 9, 23, 17, 0, tzinfo=KST), 4)
    assert due == datetime(2026, 9, 28, 12, 0, tzinfo=KST)
    assert CAL.business_hours_between(datetime(2026, 9, 23, 17, 0, tzinfo=KST), due) == 4


def test_cutoff_decides_same_day_or_next_business_day():
    assert CAL.ship_by(datetime(2026, 11, 24, 13, 59, tzinfo=KST)) == datetime(
        2026, 11, 24, 18, 0, tzinfo=KST
    )
    assert CAL.ship_by(datetime(2026, 11, 27, 14, 1, tzinfo=KST)) == datetime(2026, 11, 30, 18, 0, tzinfo=KST)


def test_handover_and_stale_rules_follow_their_thresholds():
    wb = datetime(2026, 11, 24, 10, 0, tzinfo=KST)
    o = Order(
        "O1",
        stage="waybill_created",
        stage_rank=3,
        stages={"waybill_created": wb},
        parcels=[Parcel("S1", carrier="cj", status="info_received", status_at=wb)],
    )
    assert rules.handover_missing(o, wb + timedelta(hours=23, minutes=59), {"hours": 24}, CAL) is None
    f = rules.handover_missing(o, wb + timedelta(hours=24), {"hours": 24}, CAL)
    assert (
        f is not None and f.due_at == wb + timedelta(hours=24) and f.evidence["parcels"][0]["carrier"] == "cj"
    )
    o.parcels[0] = Parcel("S1", status="in_transit", handed_over_at=wb, last_event_at=wb)
    assert rules.handover_missing(o, wb + timedelta(days=3), {"hours": 24}, CAL) is None
    assert rules.tracking_stale(o, wb + timedelta(hours=47), {"hours": 48}, CAL) is None
    assert rules.tracking_stale(o, wb + timedelta(hours=48), {"hours": 48}, CAL).type == "tracking_stale"
    o.cancelled_at = wb
    assert rules.tracking_stale(o, wb + timedelta(hours=48), {"hours": 48}, CAL) is None


def test_waybill_handover_and_stale_deadlines_run_on_business_time():
    # Packed Friday 17:30 before 설날 2027 (02-06..02-09 incl. 대체공휴일): 30 working minutes left that
    # day, the rest on Wednesday morning.
    packed = datetime(2027, 2, 5, 17, 30, tzinfo=KST)
    assert rules.waybill_deadline(packed, {"minutes": 60}, CAL) == datetime(2027, 2, 10, 9, 30, tzinfo=KST)
    # Waybill Friday 16:30: 7.5 h of Friday count, Saturday to Tuesday do not, 16.5 h of Wednesday do.
    wb = datetime(2027, 2, 5, 16, 30, tzinfo=KST)
    assert rules.handover_deadline(wb, {"hours": 24}, CAL) == datetime(2027, 2, 10, 16, 30, tzinfo=KST)
    # An ordinary week is unchanged: the night of a business day counts.
    tue = datetime(2026, 11, 24, 15, 0, tzinfo=KST)
    assert rules.handover_deadline(tue, {"hours": 24}, CAL) == tue + timedelta(hours=24)
    assert rules.stale_deadline(tue, {"hours": 48}, CAL) == tue + timedelta(hours=48)
    # A weekend stops the clock: Friday 20:00 + 48 h is Tuesday 20:00, not Sunday.
    fri = datetime(2026, 11, 27, 20, 0, tzinfo=KST)
    assert rules.stale_deadline(fri, {"hours": 48}, CAL) == datetime(2026, 12, 1, 20, 0, tzinfo=KST)
    # Starting on a closed day: the clock starts at the next business day's midnight.
    sat = datetime(2026, 11, 28, 11, 0, tzinfo=KST)
    assert rules.handover_deadline(sat, {"hours": 24}, CAL) == datetime(2026, 12, 1, 0, 0, tzinfo=KST)


def test_delay_risk_uses_the_share_of_the_window_after_the_promise():
    promise_end = CAL.end_of_day(date(2026, 11, 26))
    assert (
        rules.late_probability(
            promise_end - timedelta(hours=1), promise_end + timedelta(hours=3), promise_end
        )
        == 0.75
    )
    o = Order(
        "O2",
        promised_date=date(2026, 11, 26),
        parcels=[
            Parcel("S", eta_min=promise_end - timedelta(hours=3), eta_max=promise_end + timedelta(hours=1))
        ],
    )
    now = promise_end - timedelta(days=1)
    assert rules.delay_risk(o, now, {"min_probability": 0.5}, CAL) is None
    o.parcels[0].eta_max = promise_end + timedelta(hours=9)
    assert rules.delay_risk(o, now, {"min_probability": 0.5}, CAL).evidence["late_probability"] == 0.75


def test_inventory_mismatch_and_duplicates():
    out = rules.inventory_mismatches({"A": 10, "B": 7, "C": 1}, {"A": 10, "B": 9}, tolerance_units=1)
    assert out == [{"sku": "B", "counted": 7, "system": 9, "difference": -2}]
    assert rules.is_duplicate([{"sku": "A", "qty": 2}], 100, [{"sku": "A", "qty": 1}, {"sku": "A"}], 100)
    assert not rules.is_duplicate([{"sku": "A", "qty": 2}], 100, [{"sku": "A", "qty": 2}], 90)


def test_compensation_caps_and_approval():
    rule = SimpleNamespace(
        name="r",
        trigger="claim",
        kind="refund",
        amount="claim",
        claim_kind="damage",
        min_claim_amount=None,
        max_claim_amount=None,
        auto_approve=False,
        min_days_late=None,
    )
    d = rules.decide_compensation(
        rule,
        claim_kind="damage",
        claim_amount=60000,
        paid_for_order=20000,
        cap_per_order=50000,
        approval_threshold=25000,
    )
    assert d.amount == 30000 and d.status == "pending_approval" and d.evidence["capped_from"] == 60000
    assert rules.decide_compensation(rule, claim_kind="delay", claim_amount=1000) is None
    assert (
        rules.decide_compensation(
            rule, claim_kind="damage", claim_amount=1000, paid_for_order=50000, cap_per_order=50000
        )
        is None
    )


def test_quantile_model_conditions_on_elapsed_time_and_hints_tighten():
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    rng = random.Random(1)
    samples = [TransitSample("cj", "경기", "서울", 1, rng.uniform(20, 40)) for _ in range(500)]
    model = TransitModel(min_samples=30, lower=0.05, upper=0.95).fit(samples)
    ho = datetime(2026, 11, 24, 18, 0, tzinfo=KST)  # a Tuesday
    w0 = model.predict("cj", "경기", "서울", ho, ho)
    assert w0.basis == "carrier+origin+destination+weekday"
    assert 20 <= (w0.eta_min - ho).total_seconds() / 3600 <= 22
    assert 38 <= (w0.eta_max - ho).total_seconds() / 3600 <= 40
    w1 = model.predict("cj", "경기", "서울", ho, ho + timedelta(hours=35))
    assert (
        ho + timedelta(hours=35) <= w1.eta_min <= ho + timedelta(hours=36)
        and w1.eta_max - w1.eta_min < w0.eta_max - w0.eta_min
    )
    assert model.predict("cj", "경기", "부산", ho, ho).basis == "carrier"  # falls back to a wider group
    hint = apply_hint(w0, ho + timedelta(hours=32), ho + timedelta(hours=34), timedelta(minutes=60), ho)
    assert (hint.eta_min, hint.eta_max, hint.hint) == (
        ho + timedelta(hours=31),
        ho + timedelta(hours=35),
        True,
    )
