"""The channel plugins a hub is configured with, per audience (customer, ops, the shop's webhook)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deliveryhub.adapters.channels.base import Notifier
from deliveryhub.adapters.channels.console import ConsoleChannel
from deliveryhub.adapters.channels.email import SmtpEmail
from deliveryhub.adapters.channels.kakao import NhnAlimtalk
from deliveryhub.adapters.channels.opschat import KakaoWorkBot, SlackWebhook
from deliveryhub.adapters.channels.sms import GenericJsonSms, NhnSms
from deliveryhub.adapters.channels.solapi import SolapiAlimtalk, SolapiSms
from deliveryhub.adapters.channels.webhook import WebhookSender
from deliveryhub.config import Settings
from deliveryhub.notifications.settings import NotificationSettings

PHONE_CHANNELS = ("kakao", "sms")


@dataclass
class Channels:
    """The configured channel plugins, per audience."""

    customer: dict[str, Notifier]
    ops: dict[str, Notifier]
    webhook: Notifier | None
    console: Notifier | None

    def for_audience(self, audience: str) -> dict[str, Notifier]:
        """Channel name → plugin usable for `audience`."""
        if audience == "ops":
            return self.ops
        if audience == "webhook":
            return {"webhook": self.webhook} if self.webhook else {}
        return self.customer


def _solapi_account(ns: NotificationSettings, what: str) -> tuple[str, str, str, str]:
    if not ns.solapi_api_key or not ns.solapi_api_secret:
        raise ValueError(
            f"DELIVERYHUB_SOLAPI_API_KEY and DELIVERYHUB_SOLAPI_API_SECRET are required for {what}=solapi"
        )
    return ns.solapi_url, ns.solapi_api_key, ns.solapi_api_secret, ns.solapi_sender_no or ns.sms_sender_no


def _kakao(ns: NotificationSettings) -> Notifier | None:
    if ns.kakao_provider == "solapi":
        account = _solapi_account(ns, "DELIVERYHUB_KAKAO_PROVIDER")
        if not ns.solapi_pf_id:
            raise ValueError("DELIVERYHUB_SOLAPI_PF_ID is required for DELIVERYHUB_KAKAO_PROVIDER=solapi")
        return SolapiAlimtalk(*account, ns.solapi_pf_id, sms_fallback=ns.solapi_kakao_sms_fallback)
    if ns.kakao_url and ns.kakao_appkey:
        return NhnAlimtalk(ns.kakao_url, ns.kakao_appkey, ns.kakao_secret_key, ns.kakao_sender_key)
    return None


def _sms(ns: NotificationSettings) -> Notifier | None:
    if ns.sms_provider == "solapi":
        return SolapiSms(*_solapi_account(ns, "DELIVERYHUB_SMS_PROVIDER"))
    if not ns.sms_url:
        return None
    if ns.sms_provider == "generic":
        return GenericJsonSms(ns.sms_url, ns.sms_token)
    if ns.sms_appkey:
        return NhnSms(ns.sms_url, ns.sms_appkey, ns.sms_secret_key, ns.sms_sender_no)
    raise ValueError(
        "DELIVERYHUB_SMS_APPKEY is required for the nhn SMS provider "
        "(or set DELIVERYHUB_SMS_PROVIDER=generic)"
    )


def _signed_webhook(url: str | None, secret: str | None, name: str) -> WebhookSender | None:
    if not url:
        return None
    if not secret:
        raise ValueError(f"DELIVERYHUB_WEBHOOK_SECRET is required when DELIVERYHUB_{name} is set")
    return WebhookSender(url, secret)


def build_channels(hub_settings: Settings, ns: NotificationSettings) -> Channels:
    """Channel plugins from the settings (only what is configured)."""
    customer: dict[str, Notifier] = {}
    kakao = _kakao(ns)
    if kakao is not None:
        customer["kakao"] = kakao
    sms = _sms(ns)
    if sms is not None:
        customer["sms"] = sms
    email = SmtpEmail(hub_settings.smtp_url, ns.mail_from) if hub_settings.smtp_url else None
    if email is not None:
        customer["email"] = email
    console_path = Path(hub_settings.data_dir) / "notifications-console.jsonl"
    console_on = ns.console_notifications
    if console_on is None:
        console_on = hub_settings.env == "dev" and not customer
    console = ConsoleChannel(console_path) if console_on else None
    if console is not None:
        customer["console"] = console
    ops: dict[str, Notifier] = {}
    if ns.ops_slack_webhook_url:
        ops["slack"] = SlackWebhook(ns.ops_slack_webhook_url)
    if ns.ops_kakaowork_app_key and ns.ops_kakaowork_conversation_id:
        ops["kakaowork"] = KakaoWorkBot(
            ns.ops_kakaowork_app_key, ns.ops_kakaowork_conversation_id, ns.ops_kakaowork_url
        )
    if email is not None and ns.ops_email:
        ops["email"] = email
    ops_hook = _signed_webhook(ns.ops_webhook_url, ns.webhook_secret, "OPS_WEBHOOK_URL")
    if ops_hook is not None:
        ops["webhook"] = ops_hook
    # Ops alerts are never lost for lack of configuration: the console/file channel takes them.
    ops["console"] = console or ConsoleChannel(console_path)
    webhook = _signed_webhook(ns.notify_webhook_url, ns.webhook_secret, "NOTIFY_WEBHOOK_URL")
    return Channels(customer=customer, ops=ops, webhook=webhook, console=console)
