"""Outgoing webhooks signed with HMAC-SHA256.

Header: `X-Deliveryhub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
Receivers recompute the HMAC over the exact bytes received, compare in constant time, and reject
timestamps older than their tolerance (replay protection). See docs/NOTIFICATIONS.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult, post

SIGNATURE_HEADER = "X-Deliveryhub-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = 300) -> bool:
    """Whether `header` is a valid, fresh signature of `body` (for receivers and tests)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    expected = sign(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookSender:
    """POSTs a JSON document to one URL with the signature header."""

    name = "webhook"
    provider = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver `message.data` (plus the idempotency key); 2xx = delivered."""
        doc = {"id": message.idempotency_key, "template": message.template_code, **message.data}
        body = orjson.dumps(doc)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body, int(time.time())),
            "X-Deliveryhub-Delivery": message.idempotency_key,
        }
        answer = post(self.provider, self.url, timeout=self.timeout, headers=headers, content=body)
        if isinstance(answer, SendResult):
            return answer
        return SendResult(
            ok=True, provider=self.provider, status="delivered", message_id=message.idempotency_key
        )
