"""What NHN Cloud Notification's SMS and 알림톡 APIs share: the secret-key header and the answer's shape.

    → {"header": {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": true}, <results>}

A provider-level failure (``isSuccessful: false``) and a per-recipient result code other than 0 are both
permanent for this message (e.g. the number is not a KakaoTalk user): retrying would not help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from deliveryhub.adapters.channels.base import (
    OutgoingMessage,
    SendResult,
    invalid_recipient,
    post,
    recipient_number,
)

Results = Callable[[dict[str, Any]], tuple[list[Any], Any]]
"""(answer body) -> (per-recipient results, request id)."""


def headers(secret_key: str) -> dict[str, str]:
    """Request headers of every NHN Cloud Notification call."""
    return {"Content-Type": "application/json;charset=UTF-8", "X-Secret-Key": secret_key}


def receipt(provider: str, resp: httpx.Response, results: Results) -> SendResult:
    """The outcome of a 2xx answer; ``results(body)`` finds (per-recipient results, request id) in it."""
    try:
        body = resp.json()
    except ValueError:
        return SendResult.failure(provider, "response is not JSON")
    header = body.get("header") or {}
    if not header.get("isSuccessful", False):
        detail = f": {str(header.get('resultMessage'))[:200]}" if header.get("resultMessage") else ""
        return SendResult.failure(provider, f"provider {header.get('resultCode')}{detail}", retryable=False)
    sent, request_id = results(body)
    first = (sent or [{}])[0]
    code = first.get("resultCode", 0)
    if code not in (0, "0", None):
        detail = f": {str(first.get('resultMessage'))[:200]}" if first.get("resultMessage") else ""
        return SendResult.failure(provider, f"recipient {code}{detail}", retryable=False)
    return SendResult(ok=True, provider=provider, status="sent", message_id=str(request_id or ""))


class NhnChannel:
    """An NHN Cloud Notification account (app key and secret key) sending as one sender: the 알림톡
    sender key or the SMS calling number."""

    name = ""
    provider = ""

    def __init__(
        self, base_url: str, appkey: str, secret_key: str, sender: str, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appkey = appkey
        self.secret_key = secret_key
        self.sender = sender
        self.timeout = timeout

    def _send(
        self, message: OutgoingMessage, path: str, body: dict[str, Any], results: Results
    ) -> SendResult:
        """POST ``body`` to ``path`` for a message whose number is Korean, and read the answer."""
        if recipient_number(message.to) is None:
            return invalid_recipient(self.provider)
        answer = post(
            self.provider,
            self.base_url + path,
            timeout=self.timeout,
            headers=headers(self.secret_key),
            json=body,
        )
        if isinstance(answer, SendResult):
            return answer
        return receipt(self.provider, answer, results)
