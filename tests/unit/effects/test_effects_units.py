"""Pure parts of acting outside: how an HTTP answer reads, Retry-After, several systems' answers combined,
backoff, the hub's own event ids, and the `outside:` settings with their environment fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from deliveryhub.adapters.outside.http import (
    OutsideSettings,
    build_ports,
    combine,
    read_answer,
    retry_after_seconds,
)
from deliveryhub.contracts.outside import OutsideResult
from deliveryhub.effects.backoff import Backoff
from deliveryhub.effects.driver import event_id, safe_ref
from deliveryhub.effects.reactions import action_key
from deliveryhub.effects.wiring import outside_settings
from deliveryhub.kernel.configfile import ConfigError
from deliveryhub.service_layer.hub import is_wired


def _resp(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "body", "outcome", "ref"),
    [
        (200, {"id": "PU-1", "tracking_no": "R1"}, "done", "PU-1"),
        (201, {"ref": "CPN-9"}, "done", "CPN-9"),
        (204, None, "done", None),
        (409, {"id": "PU-1"}, "done", "PU-1"),
        (500, {"message": "boom"}, "retry", None),
        (503, None, "retry", None),
        (408, None, "retry", None),
        (429, {"message": "slow down"}, "retry", None),
        (400, {"message": "주소가 올바르지 않아요"}, "refused", None),
        (404, {"error": {"message": "no such order"}}, "refused", None),
        (422, {"detail": "bad items"}, "refused", None),
    ],
)
def test_an_answer_reads_as_done_retry_or_refused(
    status: int, body: object, outcome: str, ref: str | None
) -> None:
    result = read_answer(_resp(status, body))
    assert (result.outcome, result.ref) == (outcome, ref)
    if outcome == "refused":
        assert str(status) in result.message and any(
            w in result.message for w in ("주소가", "no such order", "bad items")
        )


def test_done_keeps_the_scalar_fields_of_the_body() -> None:
    result = read_answer(_resp(200, {"id": 7, "carrier": "cj", "tracking_no": "R1", "items": [1]}))
    assert result.ref == "7" and dict(result.data) == {"id": 7, "carrier": "cj", "tracking_no": "R1"}


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert read_answer(_resp(429, {}, {"Retry-After": "120"})).retry_after == 120.0
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 01 Dec 2026 01:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Tue, 01 Dec 2026 00:59:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None) is None


def test_several_systems_combined() -> None:
    done_w = OutsideResult("done", ref="W1", data={"a": 1})
    done_t = OutsideResult("done", ref="T1", data={"b": 2})
    assert combine([done_w, done_t]) == OutsideResult("done", ref="W1", data={"a": 1, "b": 2})
    retry = combine([done_w, OutsideResult("retry", message="x", retry_after=5), OutsideResult("retry")])
    assert (retry.outcome, retry.retry_after) == ("retry", 5)
    refused = combine([OutsideResult("retry"), OutsideResult("refused", message="no")])
    assert (refused.outcome, refused.message) == ("refused", "no")


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    b = Backoff(max_attempts=4, base_s=30, cap_s=100)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]
    assert b.delay(1, retry_after=75) == 75
    assert b.delay(1, retry_after=10_000) == 100
    assert not b.exhausted(3) and b.exhausted(4)


def test_the_hubs_own_event_ids_are_deterministic_and_fit() -> None:
    assert event_id("act", "release:O-1") == "act:release:O-1"
    long = "address:" + "O" * 120 + ":evt"
    assert event_id("act", long) == event_id("act", long) and len(event_id("act", long)) <= 128
    assert event_id("act", long) != event_id("actfail", long)
    key = action_key("address", "O-1", "e" * 300)
    assert len(key) <= 200 and key.startswith("address:O-1:h")
    assert action_key("address", "O-1", "ev-1") == "address:O-1:ev-1"
    assert safe_ref("PU\u200b-1\n") == "PU-1" and safe_ref(None) is None and safe_ref("") is None


def test_null_ports_are_not_wired() -> None:
    from deliveryhub.service_layer import hub

    assert not is_wired(hub._NoFulfilment()) and not is_wired(hub._NoRewards())
    fulfilment = build_ports(OutsideSettings(wms_url="http://127.0.0.1:1"))[1]
    assert fulfilment is not None and is_wired(fulfilment)


def test_settings_from_the_file_with_the_environment_filling_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.setenv("WMS_SECRET", "s3cret-wms")
    monkeypatch.setenv("DELIVERYHUB_OUTSIDE_TMS_URL", "http://tms.local/api/")
    monkeypatch.setenv("DELIVERYHUB_OUTSIDE_WMS_URL", "http://ignored.local")
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "outside:\n  wms_url: https://wms.example/v1\n  wms_token: ${WMS_SECRET}\n  timeout_seconds: 4\n",
        encoding="utf-8",
    )
    s = outside_settings(cfg)
    assert s.wms_url == "https://wms.example/v1" and s.tms_url == "http://tms.local/api"
    assert s.wms_token is not None and s.wms_token.get_secret_value() == "s3cret-wms"
    assert "s3cret" not in repr(s) and s.timeout_seconds == 4 and s.pickup_url is None
    pickups, fulfilment, rewards = build_ports(s)
    assert pickups is None and rewards is None and fulfilment is not None
    assert "s3cret" not in repr(fulfilment.wms)


def test_a_bad_url_names_the_line(tmp_path: Path, clean_env: None) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("outside:\n  pickup_url: ftp://carrier\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hub.yaml:2 .*outside.pickup_url"):
        outside_settings(cfg)
