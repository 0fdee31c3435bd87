"""Slack incoming-webhook and KakaoWork bot bodies for ops alerts, in each one's documented shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.adapters.channels.base import OutgoingMessage
from deliveryhub.adapters.channels.opschat import kakaowork_body, slack_body
from deliveryhub.adapters.channels.solapi import SolapiAlimtalk, SolapiSms
from deliveryhub.config import Settings
from deliveryhub.kernel.configfile import ConfigError
from deliveryhub.notifications.channels import build_channels
from deliveryhub.notifications.settings import NotificationSettings, load_notification_settings

ALERT = OutgoingMessage(
    to="",
    text="[운영 알림] 배송 지연 KPI 경보\n지연율 12% (기준 5%)",
    subject="[운영] 배송 지연 KPI 경보가 발생했습니다 — 오늘 출고분",
    data={"kind": "kpi", "key": "kpi:late_rate:today"},
)


def test_slack_body_is_text_plus_block_kit() -> None:
    body = slack_body(ALERT)
    assert body["text"].startswith("[운영] 배송 지연")
    header, section, context = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": ALERT.subject}}
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "지연율 12%" in section["text"]["text"]
    assert context["type"] == "context" and "kpi" in context["elements"][0]["text"]
    assert [b["type"] for b in slack_body(OutgoingMessage(to="", text="x"))["blocks"]] == [
        "header",
        "section",
    ]


def test_kakaowork_body_has_conversation_text_and_blocks() -> None:
    body = kakaowork_body("1234", ALERT)
    assert body["conversation_id"] == "1234" and body["text"]
    header, text, *details = body["blocks"]
    assert header["type"] == "header" and header["style"] == "red" and len(header["text"]) <= 20
    assert text == {"type": "text", "text": ALERT.text, "markdown": True}
    assert [(d["term"], d["content"]["text"]) for d in details] == [
        ("종류", "kpi"),
        ("키", "kpi:late_rate:today"),
    ]


def test_chat_channels_are_configured_from_settings(tmp_path: Path) -> None:
    hub = Settings(data_dir=tmp_path, env="test")
    ns = NotificationSettings(
        ops_slack_webhook_url="https://hooks.slack.com/services/T/B/X",
        ops_kakaowork_app_key="key",
        ops_kakaowork_conversation_id="42",
    )
    channels = build_channels(hub, ns)
    assert list(channels.ops)[:2] == ["slack", "kakaowork"]
    assert "kakaowork" not in build_channels(hub, NotificationSettings(ops_kakaowork_app_key="key")).ops


def test_solapi_selection_needs_its_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Settings(data_dir=tmp_path, env="test")
    with pytest.raises(ValueError, match="DELIVERYHUB_SOLAPI_API_KEY"):
        build_channels(hub, NotificationSettings(sms_provider="solapi"))

    def solapi(**more: str) -> NotificationSettings:
        return NotificationSettings(
            solapi_api_key="k",
            solapi_api_secret="s",
            sms_sender_no="15770000",
            **more,  # type: ignore[arg-type]
        )

    with pytest.raises(ValueError, match="DELIVERYHUB_SOLAPI_PF_ID"):
        build_channels(hub, solapi(kakao_provider="solapi"))
    both = build_channels(hub, solapi(kakao_provider="solapi", sms_provider="solapi", solapi_pf_id="KA01"))
    assert isinstance(both.customer["kakao"], SolapiAlimtalk)
    sms = both.customer["sms"]
    assert isinstance(sms, SolapiSms) and sms.sender_no == "15770000"
    monkeypatch.setenv("DELIVERYHUB_SMS_PROVIDER", "solpai")
    with pytest.raises(ConfigError, match="SMS_PROVIDER"):
        load_notification_settings()
