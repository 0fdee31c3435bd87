"""`deliveryhub doctor`: the configured notification channels (SOLAPI, Slack and KakaoWork ops chats),
each probed without sending a message (adapters/channels/doctor.py); a SOLAPI report webhook without
its secret is named too. Settings: the environment over the config file's `notifications:` section."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deliveryhub.adapters.channels import doctor as probes
from deliveryhub.adapters.connectors.doctor import ConnectionProblem
from deliveryhub.notifications.settings import (
    NotificationSettings,
    file_overrides,
    load_notification_settings,
)
from deliveryhub.service_layer.doctor import Check


def _solapi(ns: NotificationSettings) -> Callable[[], str]:
    def check() -> str:
        if not ns.solapi_api_key or not ns.solapi_api_secret:
            raise ConnectionProblem(
                "SOLAPI is selected but DELIVERYHUB_SOLAPI_API_KEY / DELIVERYHUB_SOLAPI_API_SECRET "
                "are not set / SOLAPI API 키와 시크릿을 설정하세요"
            )
        line = probes.check_solapi(ns.solapi_url, ns.solapi_api_key, ns.solapi_api_secret)
        if not ns.solapi_webhook_secret:
            line += (
                "; delivery reports by polling only (no DELIVERYHUB_SOLAPI_WEBHOOK_SECRET for "
                "/v1/webhooks/solapi)"
            )
        return line

    return check


def channel_checks(ns: NotificationSettings) -> list[Check]:
    """One check per configured notification channel that talks to an outside service."""
    found: list[Check] = []
    if "solapi" in (ns.kakao_provider, ns.sms_provider):
        found.append(("notifications solapi", _solapi(ns)))
    if ns.ops_slack_webhook_url:
        url = ns.ops_slack_webhook_url
        found.append(("ops chat slack", lambda: probes.check_slack(url)))
    if ns.ops_kakaowork_app_key or ns.ops_kakaowork_conversation_id:
        key, room, base = ns.ops_kakaowork_app_key, ns.ops_kakaowork_conversation_id, ns.ops_kakaowork_url

        def kakaowork() -> str:
            if not key or not room:
                raise ConnectionProblem(
                    "KakaoWork needs both DELIVERYHUB_OPS_KAKAOWORK_APP_KEY and "
                    "DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID / 봇 앱 키와 채팅방 id를 모두 설정하세요"
                )
            return probes.check_kakaowork(base, key, room)

        found.append(("ops chat kakaowork", kakaowork))
    return found


def notification_checks(config_file: Path | str | None) -> list[Check]:
    """The channel checks of the hub configured by the environment and ``config_file``."""
    try:
        ns = load_notification_settings(**file_overrides(config_file))
    except Exception as exc:  # noqa: BLE001 - a bad setting is the diagnosis
        message = f"notification settings: {exc}"

        def broken() -> str:
            raise ConnectionProblem(message)

        return [("notifications config", broken)]
    return channel_checks(ns)
