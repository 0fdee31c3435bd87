"""Notification settings beyond config.py (env prefix DELIVERYHUB_), typed by the one config loader."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from deliveryhub.kernel.configfile import EnvSettings, load_env, read_optional


class NotificationSettings(EnvSettings):
    """Channels, retry budget, deadlines; every field is DELIVERYHUB_<NAME> in the environment."""

    notification_rules: Path | None = Field(default=None, description="YAML rules replacing the defaults")
    shop_name: str = "딜리버리허브"
    # How customers reach the shop, shown on the page of an expired tracking link (e.g. "1588-0000").
    shop_contact: str = ""
    # Hard cap on a tracking link's life after it is sent, for orders never delivered (days).
    tracking_link_max_days: int = Field(default=180, ge=1, le=3650)
    mail_from: str = "deliveryhub <no-reply@deliveryhub.local>"
    ops_email: str | None = None
    ops_webhook_url: str | None = None
    # Ops alerts in the team chat: a Slack incoming webhook and/or a KakaoWork bot (app key + 채팅방 id).
    ops_slack_webhook_url: str | None = None
    ops_kakaowork_app_key: str | None = None
    ops_kakaowork_conversation_id: str | None = None
    ops_kakaowork_url: str = "https://api.kakaowork.com"
    # Outgoing webhook for the shop's own systems (every stage change and exception, signed).
    notify_webhook_url: str | None = None
    webhook_secret: str | None = None
    kakao_provider: Literal["nhn", "solapi"] = "nhn"
    kakao_url: str | None = None
    kakao_appkey: str | None = None
    kakao_secret_key: str = ""
    kakao_sender_key: str = ""
    sms_provider: Literal["nhn", "generic", "solapi"] = "nhn"
    sms_url: str | None = None
    sms_appkey: str | None = None
    sms_secret_key: str = ""
    sms_sender_no: str = ""
    sms_token: str | None = None
    # SOLAPI (DELIVERYHUB_SMS_PROVIDER=solapi / DELIVERYHUB_KAKAO_PROVIDER=solapi).
    solapi_url: str = "https://api.solapi.com"
    solapi_api_key: str | None = None
    solapi_api_secret: str = ""
    solapi_sender_no: str = ""  # registered calling number (발신번호); default: DELIVERYHUB_SMS_SENDER_NO
    solapi_pf_id: str = ""  # KakaoTalk channel id (pfId) for 알림톡
    # SOLAPI's own 알림톡 → SMS re-send (kakaoOptions.disableSms). Off by default: it cannot see a customer's
    # SMS opt-out, while the dispatcher's own fallback does.
    solapi_kakao_sms_fallback: bool = False
    # Shared secret of SOLAPI's delivery report webhook (POST /v1/webhooks/solapi?token=…, or the header
    # X-Deliveryhub-Token); SOLAPI signs nothing, so without it every report is refused with 401.
    solapi_webhook_secret: str | None = None
    console_notifications: bool | None = None  # default: on in dev when nothing else is configured
    notice_deadline_minutes: float = 10.0
    retry_budget: int = 8
    retry_base_seconds: float = 30.0
    retry_cap_seconds: float = 3600.0
    send_batch: int = 100
    lease_seconds: float = 300.0
    # Facts older than this when the hub learns of them (imports, back-fills) never notify anyone.
    max_event_age_hours: float = 72.0
    ad_opt_out_line: str = "무료수신거부 080-000-0000"


def load_notification_settings(**overrides: object) -> NotificationSettings:
    """The notification settings from the environment; a bad value raises ConfigError naming the variable."""
    return load_env(NotificationSettings, **overrides)


def file_overrides(config_file: Path | str | None) -> dict[str, object]:
    """The `notifications:` section of a hub's config file as settings that win over the environment: a
    shop's own 알림톡/SMS account, sender, templates (`notification_rules`) and brand live there. `${VAR}`
    values are read from the environment; an unknown key is a ConfigError naming its file and line."""
    return read_optional(config_file).overrides("notifications", NotificationSettings.model_fields)
