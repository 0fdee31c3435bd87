"""Silence rules from config and environment, on the kernel's business calendar (Korean holidays count)."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest

from deliveryhub.connectors.config import silence_rules
from deliveryhub.connectors.silence import _opening

KST = timezone(timedelta(hours=9))


def rule(source: str, config: dict | None = None, env: dict | None = None):  # type: ignore[no-untyped-def]
    return next(r for r in silence_rules(config or {}, env=env or {}) if r.source == source)


def test_defaults_config_and_environment_layer_in_that_order() -> None:
    assert {r.source: r.minutes for r in silence_rules({}, env={})} == {"wms": 30, "oms": 60, "tms": 60}
    config = {"silence": {"wms": {"minutes": 45, "hours": "08:00-20:00"}, "erp": 15, "oms": False}}
    env = {"DELIVERYHUB_CONNECTORS_SILENCE": json.dumps({"wms": {"minutes": 10}})}
    rules = {r.source: r for r in silence_rules(config, env=env)}
    assert set(rules) == {"wms", "tms", "erp"}
    assert rules["wms"].minutes == 10 and rules["wms"].calendar.start == time(8, 0)
    assert rules["wms"].hours == "08:00-20:00 Asia/Seoul"
    assert rules["erp"].minutes == 15


@pytest.mark.parametrize(
    ("silence", "words"),
    [
        ({"wms": {"hours": "18:00-09:00"}}, "the end must be after the start"),
        ({"wms": {"minutes": 0}}, "minutes must be positive"),
        ({"wms": {"tz": "Mars/Olympus"}}, "unknown time zone"),
        ({"wms": "often"}, "must be a mapping or minutes"),
    ],
)
def test_bad_rules_are_refused_with_the_source(silence: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=words):
        silence_rules({"silence": silence}, env={})


def test_a_source_is_not_silent_on_a_public_holiday() -> None:
    wms = rule("wms")
    chuseok = datetime(2026, 9, 25, 11, 0, tzinfo=KST)  # 추석, a Friday
    ordinary = datetime(2026, 9, 22, 11, 0, tzinfo=KST)  # the Tuesday before
    assert _opening(wms, chuseok) is None
    assert _opening(wms, ordinary) == datetime(2026, 9, 22, 9, 0, tzinfo=KST)
    assert _opening(wms, datetime(2026, 9, 22, 8, 59, tzinfo=KST)) is None  # before opening
    assert _opening(wms, datetime(2026, 9, 26, 11, 0, tzinfo=KST)) is None  # Saturday
    # A source that also works on holidays says so.
    always = rule("wms", {"silence": {"wms": {"country": None, "days": [0, 1, 2, 3, 4, 5, 6]}}})
    assert _opening(always, chuseok) is not None
