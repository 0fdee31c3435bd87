"""Ops alerts in the team chat: Slack incoming webhooks and KakaoWork bots (the `ops` audience).

Slack incoming webhook (api.slack.com/messaging/webhooks, Block Kit):
    POST {webhook url}   {"text": "<fallback/notification text>", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "..."}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "..."}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "..."}]}]}
    → 200 "ok"; 400 invalid_payload / 403 / 404 no_service / 410 channel_is_archived are permanent,
      429 and 5xx are retried.

KakaoWork bot (Web API ``messages.send``; KakaoWork has no per-URL incoming webhook):
    POST {base}/v1/messages.send
    Authorization: Bearer {Bot App Key}
    {"conversation_id": "...", "text": "<push/preview text>", "blocks": [
        {"type": "header", "text": "...", "style": "red"},
        {"type": "text", "text": "...", "markdown": true},
        {"type": "description", "term": "종류", "content": {"type": "text", "text": "..."}, "accent": true}]}
    → {"success": true, "message": {...}} or {"success": false, "error": {"code", "message"}}.

Both send one alert per call and never sleep: retries and dead letters are the dispatcher's.
"""

from __future__ import annotations

from typing import Any

import orjson

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult, post

KAKAOWORK_BASE_URL = "https://api.kakaowork.com"
KAKAOWORK_SEND_PATH = "/v1/messages.send"
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
KAKAOWORK_HEADER_MAX = 20
KAKAOWORK_TEXT_MAX = 500
# KakaoWork error codes worth another try (the rest mean the request or the bot is misconfigured).
KAKAOWORK_RETRYABLE = frozenset({"too_many_requests", "internal_error", "service_unavailable"})


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(message: OutgoingMessage) -> str:
    return message.subject or (message.text.splitlines() or ["알림"])[0]


def _details(message: OutgoingMessage) -> list[tuple[str, str]]:
    """(label, value) lines about the alert: its kind and key when the job carried them."""
    out: list[tuple[str, str]] = []
    for label, key in (("종류", "kind"), ("키", "key")):
        value = message.data.get(key)
        if value:
            out.append((label, str(value)))
    return out


def slack_body(message: OutgoingMessage) -> dict[str, Any]:
    """The incoming-webhook body: ``text`` (notification fallback) and Block Kit ``blocks``."""
    title = _title(message)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(message.text, SLACK_SECTION_MAX)}},
    ]
    details = _details(message)
    if details:
        text = "  ".join(f"*{label}*: {value}" for label, value in details)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, 300)}]})
    return {"text": _cut(f"{title}\n{message.text}", SLACK_SECTION_MAX), "blocks": blocks}


def kakaowork_body(conversation_id: str, message: OutgoingMessage) -> dict[str, Any]:
    """The ``messages.send`` body: conversation, preview ``text`` and KakaoWork ``blocks``."""
    title = _title(message)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _cut(title, KAKAOWORK_HEADER_MAX), "style": "red"},
        {"type": "text", "text": _cut(message.text, KAKAOWORK_TEXT_MAX), "markdown": True},
    ]
    for label, value in _details(message):
        blocks.append(
            {
                "type": "description",
                "term": label,
                "content": {"type": "text", "text": _cut(value, 100)},
                "accent": True,
            }
        )
    return {"conversation_id": conversation_id, "text": _cut(title, 200), "blocks": blocks}


class SlackWebhook:
    """Posts ops alerts to one Slack incoming-webhook URL."""

    name = "slack"
    provider = "slack"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST the alert; 2xx = delivered into the channel."""
        body = orjson.dumps(slack_body(message))
        headers = {"Content-Type": "application/json; charset=utf-8"}
        answer = post(self.provider, self.url, timeout=self.timeout, headers=headers, content=body)
        if isinstance(answer, SendResult):
            return answer
        return SendResult(ok=True, provider=self.provider, status="delivered", message_id=None)


class KakaoWorkBot:
    """Posts ops alerts as a KakaoWork bot into one conversation (채팅방)."""

    name = "kakaowork"
    provider = "kakaowork"

    def __init__(
        self, app_key: str, conversation_id: str, base_url: str = KAKAOWORK_BASE_URL, timeout: float = 10.0
    ) -> None:
        self.app_key = app_key
        self.conversation_id = conversation_id
        self.base_url = (base_url or KAKAOWORK_BASE_URL).rstrip("/")
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST messages.send with the bot's app key; ``success: false`` is read as the error it names."""
        body = orjson.dumps(kakaowork_body(self.conversation_id, message))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self.app_key}",
        }
        url = self.base_url + KAKAOWORK_SEND_PATH
        answer = post(self.provider, url, timeout=self.timeout, headers=headers, content=body)
        if isinstance(answer, SendResult):
            return answer
        try:
            doc = answer.json()
        except ValueError:
            doc = {}
        if isinstance(doc, dict) and doc.get("success") is False:
            error = doc.get("error") or {}
            code = str(error.get("code") or "unknown")
            return SendResult.failure(
                self.provider,
                f"kakaowork {code}: {str(error.get('message') or '')[:200]}",
                retryable=code in KAKAOWORK_RETRYABLE,
            )
        msg = doc.get("message") if isinstance(doc, dict) else None
        mid = msg.get("id") if isinstance(msg, dict) else None
        return SendResult(
            ok=True, provider=self.provider, status="delivered", message_id=str(mid) if mid else None
        )
