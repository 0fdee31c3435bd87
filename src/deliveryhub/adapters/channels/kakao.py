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

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult, recipient_number
from deliveryhub.adapters.channels.nhn import NhnChannel

DEFAULT_BASE_URL = "https://api-alimtalk.cloud.toast.com"


class NhnAlimtalk(NhnChannel):
    """알림톡 sender (informational templates only; 알림톡 may not carry advertising); ``sender`` is the
    KakaoTalk channel's sender key."""

    name = "kakao"
    provider = "nhn-alimtalk"

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
            "senderKey": self.sender,
            "templateCode": message.template_code or "",
            "recipientList": [recipient],
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST the message; provider-level and per-recipient result codes both count."""
        path = f"/alimtalk/v2.3/appkeys/{self.appkey}/messages"
        return self._send(message, path, self.request_body(message), _results)

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
