"""SMS/LMS: NHN Cloud Notification SMS (same provider family as the 알림톡 channel) and a generic JSON
HTTP provider.

NHN Cloud SMS API v3.0 (https://docs.nhncloud.com/en/Notification/SMS/en/api-guide/):
    POST {base}/sms/v3.0/appKeys/{appKey}/sender/sms     (≤ 90 bytes EUC-KR)
    POST {base}/sms/v3.0/appKeys/{appKey}/sender/mms     (LMS: long text, needs "title")
    X-Secret-Key: {secretKey}
    {"body": "...", "sendNo": "15771234", "recipientList": [{"recipientNo": "01012345678"}]}
    → {"header": {"isSuccessful": true, "resultCode": 0, ...},
       "body": {"data": {"requestId": "...", "sendResultList": [{"resultCode": 0, ...}]}}}

Generic provider: POST {url} with `Authorization: Bearer {token}`, `Idempotency-Key: {key}` and
{"to", "text", "advertising", "idempotency_key"} → any 2xx JSON, message id taken from "id" or
"message_id".
"""

from __future__ import annotations

from typing import Any

from deliveryhub.adapters.channels.base import (
    OutgoingMessage,
    SendResult,
    invalid_recipient,
    post,
    recipient_number,
)
from deliveryhub.adapters.channels.nhn import NhnChannel

DEFAULT_BASE_URL = "https://api-sms.cloud.toast.com"
SMS_MAX_BYTES = 90  # EUC-KR bytes of a short SMS; longer texts go as LMS


def sms_bytes(text: str) -> int:
    """Length as Korean carriers count it (EUC-KR, 2 bytes per Hangul syllable)."""
    return len(text.encode("euc-kr", errors="replace"))


class NhnSms(NhnChannel):
    """NHN Cloud SMS/LMS sender; ``sender`` is the registered calling number."""

    name = "sms"
    provider = "nhn-sms"

    def request(self, message: OutgoingMessage) -> tuple[str, dict[str, Any]]:
        """(path, body) for one recipient: SMS when short, LMS otherwise."""
        body: dict[str, Any] = {
            "body": message.text,
            "sendNo": self.sender,
            "recipientList": [{"recipientNo": recipient_number(message.to) or ""}],
        }
        if message.idempotency_key:
            body["recipientList"][0]["recipientGroupingKey"] = message.idempotency_key[:100]
        if sms_bytes(message.text) <= SMS_MAX_BYTES:
            return f"/sms/v3.0/appKeys/{self.appkey}/sender/sms", body
        body["title"] = (message.subject or message.text.splitlines()[0])[:20]
        return f"/sms/v3.0/appKeys/{self.appkey}/sender/mms", body

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST and read the provider's result codes."""
        path, body = self.request(message)
        return self._send(message, path, body, _results)


def _results(payload: dict[str, Any]) -> tuple[list[Any], Any]:
    data = (payload.get("body") or {}).get("data") or {}
    return data.get("sendResultList") or [], data.get("requestId")


class GenericJsonSms:
    """Any HTTP SMS gateway that takes a small JSON body."""

    name = "sms"
    provider = "generic-sms"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST {to, text, advertising, idempotency_key}."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if message.idempotency_key:
            headers["Idempotency-Key"] = message.idempotency_key
        to = recipient_number(message.to)
        if to is None:
            return invalid_recipient(self.provider)
        body = {
            "to": to,
            "text": message.text,
            "advertising": message.advertising,
            "idempotency_key": message.idempotency_key,
        }
        answer = post(self.provider, self.url, timeout=self.timeout, headers=headers, json=body)
        if isinstance(answer, SendResult):
            return answer
        try:
            data = answer.json()
        except ValueError:
            data = {}
        mid = data.get("id") or data.get("message_id") if isinstance(data, dict) else None
        return SendResult(
            ok=True, provider=self.provider, status="sent", message_id=str(mid) if mid else None
        )
