"""SOLAPI 알림톡/SMS and Slack/KakaoWork ops alerts against real local servers, through a wired hub:
signed and correctly shaped requests, an outage retried by the dispatcher, a lasting one dead-lettered,
and SOLAPI delivery receipts on the existing receipts job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from chat_sms_fakes import (
    API_KEY,
    API_SECRET,
    CONVERSATION,
    KAKAOWORK_KEY,
    PF_ID,
    Recorder,
)
from chat_sms_fakes import reset as _reset

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.service_layer.ports import OpsAlert
from dh_testkit import drain, make_hub
from notif_kit import lifecycle, send_all

START = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
CUSTOMER = {"name": "김민지", "phone": "010-2345-6789", "email": "minji@example.com"}


def _jobs(hub: Any, audience: str) -> list[Any]:
    with hub.db.read() as conn:
        return conn.execute(
            sa.select(jobs_t).where(jobs_t.c.audience == audience).order_by(jobs_t.c.id)
        ).all()


def _solapi_hub(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, base: str, **extra: str
) -> tuple[Any, ManualClock]:
    env = {
        "DELIVERYHUB_KAKAO_PROVIDER": "solapi",
        "DELIVERYHUB_SMS_PROVIDER": "solapi",
        "DELIVERYHUB_SOLAPI_URL": base,
        "DELIVERYHUB_SOLAPI_API_KEY": API_KEY,
        "DELIVERYHUB_SOLAPI_API_SECRET": API_SECRET,
        "DELIVERYHUB_SOLAPI_SENDER_NO": "02-1234-5678",
        "DELIVERYHUB_SOLAPI_PF_ID": PF_ID,
        "DELIVERYHUB_RETRY_BUDGET": "3",
        **extra,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    clock = ManualClock(START)
    return make_hub(tmp_path, master_key, clock=clock), clock


def test_solapi_alimtalk_signed_retried_dead_lettered_and_receipted(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, solapi: tuple[str, Recorder]
) -> None:
    base, state = solapi
    _reset(state)
    hub, clock = _solapi_hub(tmp_path, master_key, monkeypatch, base)
    events = lifecycle("O-SOL-1", START, CUSTOMER)
    # Outage: 알림톡 and the SMS fallback both get 503 once; the next attempt goes through.
    state.fail_remaining = 2
    hub.ingest.ingest(events[:1])
    drain(hub)
    send_all(hub)
    first = _jobs(hub, "customer")[0]
    assert first.status == "retry" and first.attempts == 1 and "http 503" in first.last_error
    kinds = [r["kind"] for r in state.requests]
    assert kinds[0] == "ATA" and kinds[1] in ("SMS", "LMS")  # ours: 알림톡 → SMS/LMS fallback
    clock.advance(timedelta(minutes=5))
    send_all(hub)
    first = _jobs(hub, "customer")[0]
    assert (first.status, first.attempts, first.channel, first.provider) == (
        "sent",
        2,
        "kakao",
        "solapi-alimtalk",
    )
    assert first.provider_message_id.startswith("G4V")
    sent = state.ok("ATA")
    assert len(sent) == 1
    msg = sent[0]["json"]["messages"][0]
    assert msg["to"] == "01023456789" and msg["from"] == "0212345678"
    opts = msg["kakaoOptions"]
    assert opts["pfId"] == PF_ID and opts["templateId"] == "order_received"
    # SOLAPI's own SMS re-send is off by default: it cannot see the customer's SMS opt-out (ours can)
    assert opts["disableSms"] is True
    assert opts["variables"] and all(k.startswith("#{") for k in opts["variables"])
    assert "#{주문번호}" in opts["variables"] and opts["variables"]["#{주문번호}"] == "O-SOL-1"

    # Delivery report: the receipts job reads /messages/v4/list (statusCode 4000 = 수신완료).
    assert hub.notifications.dispatcher.poll_receipts(clock.now()) == 1
    assert _jobs(hub, "customer")[0].status == "delivered"

    # A lasting outage: after the retry budget (3) the notice is dead-lettered, like NHN's.
    state.fail_always = True
    hub.ingest.ingest(events[1:2])
    drain(hub)
    for _ in range(10):
        send_all(hub)
        clock.advance(timedelta(minutes=30))
    paid = [j for j in _jobs(hub, "customer") if j.rule_id == "order_paid"][0]
    assert paid.status == "dead" and paid.attempts == 3
    assert len([r for r in state.requests if r["ok"]]) == 1
    assert not [r for r in state.requests if r["kind"] == "denied"]  # every request was signed right
    hub.close()


def test_solapi_sms_alone_and_lms_for_long_text(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, solapi: tuple[str, Recorder]
) -> None:
    base, state = solapi
    _reset(state)
    # SOLAPI for SMS only; no 알림톡 provider configured (nhn without credentials).
    hub, _clock = _solapi_hub(tmp_path, master_key, monkeypatch, base, DELIVERYHUB_KAKAO_PROVIDER="nhn")
    assert "kakao" not in hub.notifications.dispatcher.channels.customer
    sms = hub.notifications.dispatcher.channels.customer["sms"]
    from deliveryhub.adapters.channels.base import OutgoingMessage

    short = sms.send(OutgoingMessage(to="010-2345-6789", text="[딜리버리허브] 배송 출발"))
    long = sms.send(OutgoingMessage(to="010-2345-6789", text="배송 안내 " * 20, subject="배송 안내"))
    bad = sms.send(OutgoingMessage(to="12345", text="x"))
    assert short.ok and long.ok and not bad.ok and bad.retryable is False
    kinds = [r["json"]["messages"][0]["type"] for r in state.requests]
    assert kinds == ["SMS", "LMS"]
    hub.close()


def _ops_hub(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> tuple[Any, ManualClock]:
    for k, v in {"DELIVERYHUB_RETRY_BUDGET": "3", **env}.items():
        monkeypatch.setenv(k, v)
    clock = ManualClock(START)
    return make_hub(tmp_path, master_key, clock=clock), clock


def _lasting_outage_dead_letters(hub: Any, clock: ManualClock, chat: Recorder) -> None:
    """The team chat stays down: after the retry budget (3) the next alert is dead-lettered."""
    chat.fail_always = True
    _alert(hub, "T-2")
    for _ in range(10):
        send_all(hub)
        clock.advance(timedelta(minutes=30))
    second = _jobs(hub, "ops")[1]
    assert second.status == "dead" and second.attempts == 3
    hub.close()


def _alert(hub: Any, key: str) -> None:
    hub.ops_alerts.notify_ops(
        OpsAlert("sla", key, "CS 응답 SLA 초과", "티켓 T-1 이 30분 넘게 답을 기다립니다.", {"ticket": "T-1"})
    )


def test_slack_ops_alert_shape_outage_retried_and_dead_lettered(
    tmp_path: Path,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
    chat: tuple[str, Recorder, Recorder],
) -> None:
    base, slack, kakaowork = chat
    _reset(slack, kakaowork)
    hub, clock = _ops_hub(
        tmp_path,
        master_key,
        monkeypatch,
        {"DELIVERYHUB_OPS_SLACK_WEBHOOK_URL": base + "/services/T000/B000/XXXX"},
    )
    slack.fail_remaining = 1
    _alert(hub, "T-1")
    send_all(hub)
    job = _jobs(hub, "ops")[0]
    assert job.status == "retry" and "http 503" in job.last_error
    clock.advance(timedelta(minutes=5))
    send_all(hub)
    job = _jobs(hub, "ops")[0]
    assert (job.status, job.channel, job.attempts) == ("delivered", "slack", 2)
    body = slack.ok("slack")[0]["json"]
    assert "CS 응답 SLA 초과" in body["text"]
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
    assert "티켓 T-1" in body["blocks"][1]["text"]["text"]
    assert "sla" in body["blocks"][2]["elements"][0]["text"]

    _lasting_outage_dead_letters(hub, clock, slack)


def test_kakaowork_ops_alert_bearer_and_blocks_retried_and_dead_lettered(
    tmp_path: Path,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
    chat: tuple[str, Recorder, Recorder],
) -> None:
    base, slack, kakaowork = chat
    _reset(slack, kakaowork)
    hub, clock = _ops_hub(
        tmp_path,
        master_key,
        monkeypatch,
        {
            "DELIVERYHUB_OPS_KAKAOWORK_APP_KEY": KAKAOWORK_KEY,
            "DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID": CONVERSATION,
            "DELIVERYHUB_OPS_KAKAOWORK_URL": base,
        },
    )
    kakaowork.fail_remaining = 1
    _alert(hub, "T-1")
    send_all(hub)
    clock.advance(timedelta(minutes=5))
    send_all(hub)
    job = _jobs(hub, "ops")[0]
    assert (job.status, job.channel, job.attempts, job.provider_message_id) == (
        "delivered",
        "kakaowork",
        2,
        "9001",
    )
    body = kakaowork.ok("kakaowork")[0]["json"]
    assert body["conversation_id"] == CONVERSATION and body["text"]
    assert [b["type"] for b in body["blocks"]][:2] == ["header", "text"]
    assert body["blocks"][0]["style"] == "red"
    assert slack.requests == []

    _lasting_outage_dead_letters(hub, clock, kakaowork)


def test_kakaowork_wrong_app_key_is_permanent(
    tmp_path: Path,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
    chat: tuple[str, Recorder, Recorder],
) -> None:
    base, slack, kakaowork = chat
    _reset(slack, kakaowork)
    hub, _clock = _ops_hub(
        tmp_path,
        master_key,
        monkeypatch,
        {
            "DELIVERYHUB_OPS_KAKAOWORK_APP_KEY": "wrong",
            "DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID": CONVERSATION,
            "DELIVERYHUB_OPS_KAKAOWORK_URL": base,
        },
    )
    _alert(hub, "T-9")
    send_all(hub)
    job = _jobs(hub, "ops")[0]
    assert job.status == "dead" and job.attempts == 1 and "http 401" in job.last_error
    hub.close()


def test_an_alert_reaches_every_team_chat_once_when_a_shop_has_both(
    tmp_path: Path,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
    chat: tuple[str, Recorder, Recorder],
) -> None:
    base, slack, kakaowork = chat
    _reset(slack, kakaowork)
    hub, clock = _ops_hub(
        tmp_path,
        master_key,
        monkeypatch,
        {
            "DELIVERYHUB_OPS_SLACK_WEBHOOK_URL": base + "/services/T000/B000/XXXX",
            "DELIVERYHUB_OPS_KAKAOWORK_APP_KEY": KAKAOWORK_KEY,
            "DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID": CONVERSATION,
            "DELIVERYHUB_OPS_KAKAOWORK_URL": base,
        },
    )
    _alert(hub, "T-1")
    _alert(hub, "T-1")  # the same alert again (a retried job, a second worker): still once per chat
    kakaowork.fail_remaining = 1  # one team's outage does not hold the other's alert back
    send_all(hub)
    clock.advance(timedelta(minutes=5))
    send_all(hub)
    jobs = _jobs(hub, "ops")
    assert sorted((j.channel, j.status) for j in jobs) == [("kakaowork", "delivered"), ("slack", "delivered")]
    assert len(slack.ok("slack")) == 1 and len(kakaowork.ok("kakaowork")) == 1
    assert "CS 응답 SLA 초과" in slack.ok("slack")[0]["json"]["text"]
    assert kakaowork.ok("kakaowork")[0]["json"]["conversation_id"] == CONVERSATION
    hub.close()
