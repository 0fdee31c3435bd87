"""The monthly report's words: values and targets in their units, change against last month, evidence."""

from __future__ import annotations

from typing import Any

from deliveryhub.kpi.catalog import KpiDef, Target
from deliveryhub.kpi.report import _change, _evidence, _industry, _note, _target, fmt_value


def _kpi(unit: str, direction: str = "lower", target: Target | None = None, industry: Any = None) -> KpiDef:
    return KpiDef("k", "지표", "KPI", "ratio", unit, direction, target=target, industry_avg=industry)


def test_values_targets_and_industry_averages_in_the_values_unit() -> None:
    rate = _kpi("rate", target=Target(op="<", threshold=0.03), industry=0.055)
    assert fmt_value(rate, 0.6667) == "66.7%" and _target(rate) == "3% 미만" and _industry(rate) == "5.5%"
    assert _industry(_kpi("rate", industry=(0.01, 0.05))) == "1%–5%"
    assert _target(_kpi("count", target=Target(change_vs_previous=-0.4))) == "직전 기간 대비 40% 감소"
    assert _target(_kpi("rate", "higher", Target(threshold=0.98))) == "98% 이상"  # a bare number: direction
    assert fmt_value(_kpi("hours"), 9.014) == "9.01시간" and fmt_value(_kpi("count"), 2) == "2건"


def test_change_against_last_month_says_better_or_worse() -> None:
    assert _change(_kpi("rate"), 0.05, 0.03) == "전월 대비 2.0%p 악화"
    assert _change(_kpi("rate", "higher"), 0.97, 0.95) == "전월 대비 2.0%p 개선"
    assert _change(_kpi("count"), 2, 0) == "전월 대비 2건 악화"
    assert _change(_kpi("rate"), 0.05, None) == ""


def test_evidence_names_the_worst_carrier_or_the_exceptions_behind_a_breach() -> None:
    late = {"count": 5, "by_carrier": [{"carrier": "CJ대한통운", "count": 2}]}
    exc = {"by_type": [{"type": "tracking_stale", "name": "배송 추적 정체", "count": 7}]}
    assert (
        _evidence("delivery_delay_rate", late, exc)
        == "이번 달 약속일보다 늦게 도착한 주문 5건 중 CJ대한통운 2건"
    )
    assert _evidence("tracking_stale_rate", late, exc) == "이번 달 예외: 배송 추적 정체 7건"
    assert _evidence("csat", late, exc) == ""


def test_notes_say_too_few_and_what_was_left_out() -> None:
    cur = {
        "status": "low_sample",
        "sample": 3,
        "min_sample": 30,
        "excluded": {"count": 6, "reason_ko": "과거 이력"},
    }
    assert _note(cur) == "표본 3건(최소 30건) · 제외 6건: 과거 이력"
    assert _note({"status": "ok"}) == ""


def test_advice_follows_what_is_the_case_not_the_catalog_alone() -> None:
    from deliveryhub.kpi.report import action_for

    unnotified = KpiDef(
        "delay_unnotified_rate",
        "지연 미고지율",
        "Unnotified delay rate",
        "ratio",
        "rate",
        "lower",
        action_ko="지연 위험 감지 시 자동 지연 안내(알림톡/문자)를 켜세요.",
        action_en="Turn on automatic delay notices when a delay risk is detected.",
    )
    already_on = action_for(unnotified, 37)
    assert "켜세요" not in already_on["action_ko"] and "37건 발송" in already_on["action_ko"]
    assert "already on (37 sent" in already_on["action_en"]
    # No delay notice went out this month, or no notifications feature: the catalog's advice stands.
    assert action_for(unnotified, 0)["action_ko"].endswith("켜세요.")
    assert action_for(unnotified, None)["action_en"].startswith("Turn on")
