"""Kakao 알림톡 through NHN Cloud Notification — KakaoTalk Bizmessage.

Request format as documented by NHN Cloud ("AlimTalk API v2.3", send with a registered template):
https://docs.nhncloud.com/en/Notification/KakaoTalk%20Bizmessage/en/alimtalk-api-guide/
    POST {base}/alimtalk/v2.3/appkeys/{appkey}/messages
    Content-Type: application/json;charset=UTF-8
    X-Secret-Key: {secretKey}
    {"senderKey": "...", "templateCode": "...",
     "recipientList": [{"recipientNo": "01012345678", "templateParameter": {"주문번호": "..."},
                        "recipientGroupingKey": "..."}]}
    → {"header": {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": true},
       "message": {"requestId": "...", "sendResults": [{"recipientSeq": 1, "resultCode": 0, ...}]}}
The base URL is configurable (production: https://api-alimtalk.cloud.toast.com) so tests point it at a
local server. The provider's own SMS re-send is switched off: the dispatcher falls back to its SMS
channel itself, so the fallback is recorded and honours the customer's SMS opt-out.
"""

from __future__ import annotations

from typing import Any

import httpx

from deliveryhub.adapters.channels import nhn
from deliveryhub.adapters.channels.base import (
    OutgoingMessage,
    SendResult,
    invalid_recipient,
    post,
    recipient_number,
)

DEFAULT_BASE_URL = "https://api-alimtalk.cloud.toast.com"


class NhnAlimtalk:
    """알림톡 sender (informational templates only; 알림톡 may not carry advertising)."""

    name = "kakao"
    provider = "nhn-alimtalk"

    def __init__(
        self, base_url: str, appkey: str, secret_key: str, sender_key: str, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appkey = appkey
        self.secret_key = secret_key
        self.sender_key = sender_key
        self.timeout = timeout

    def request_body(self, message: OutgoingMessage) -> dict[str, Any]:
        """The documented JSON body for one recipient."""
        recipient: dict[str, Any] = {
            "recipientNo": recipient_number(message.to) or "",
            "templateParameter": dict(message.variables),
            "resendParameter": {"isResend": False},
        }
        if message.idempotency_key:
            recipient["recipientGroupingKey"] = message.idempotency_key[:100]
        return {
            "senderKey": self.sender_key,
            "templateCode": message.template_code or "",
            "recipientList": [recipient],
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST the message; provider-level and per-recipient result codes both count."""
        if recipient_number(message.to) is None:
            return invalid_recipient(self.provider)
        url = f"{self.base_url}/alimtalk/v2.3/appkeys/{self.appkey}/messages"
        answer = post(
            self.provider,
            url,
            timeout=self.timeout,
            headers=nhn.headers(self.secret_key),
            json=self.request_body(message),
        )
        if isinstance(answer, SendResult):
            return answer
        return nhn.receipt(self.provider, answer, _results)

    def delivery_status(self, request_id: str, recipient_seq: int = 1) -> str | None:
        """Final receipt of a sent message: "delivered", "failed", or None while still pending/unknown.

        NHN Cloud single-message query: GET {base}/alimtalk/v2.3/appkeys/{appkey}/messages/{requestId}/
        {recipientSeq} → message.messageStatus (READY | COMPLETED | FAILED | CANCEL) and message.resultCode
        ("1000" = delivered to the KakaoTalk user).
        """
        url = f"{self.base_url}/alimtalk/v2.3/appkeys/{self.appkey}/messages/{request_id}/{recipient_seq}"
        try:
            resp = httpx.get(url, headers={"X-Secret-Key": self.secret_key}, timeout=self.timeout)
            body = resp.json() if resp.status_code < 300 else {}
        except (httpx.HTTPError, ValueError):
            return None
        msg = body.get("message") or {}
        status = str(msg.get("messageStatus") or "")
        if status == "COMPLETED":
            return "delivered" if str(msg.get("resultCode") or "1000") == "1000" else "failed"
        if status in ("FAILED", "CANCEL"):
            return "failed"
        return None


def _results(body: dict[str, Any]) -> tuple[list[Any], Any]:
    msg = body.get("message") or {}
    return msg.get("sendResults") or [], msg.get("requestId")
