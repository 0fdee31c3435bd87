"""The Notifier port: one outgoing message in, one provider receipt out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from deliveryhub.kernel.phone import format_kr, normalize_kr_phone


@dataclass
class OutgoingMessage:
    """A rendered message for one recipient on one channel; `to` is personal data (never logged)."""

    to: str
    text: str
    subject: str = ""
    html: str | None = None
    template_code: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    advertising: bool = False
    idempotency_key: str = ""
    link: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Personal values (name, phone, e-mail) a dev channel must mask before writing anything.
    personal: tuple[str, ...] = ()


@dataclass
class SendResult:
    """What the provider answered: accepted (`sent`/`delivered`) or `failed`, and whether to retry."""

    ok: bool
    provider: str
    status: str = "sent"  # sent | delivered | failed
    message_id: str | None = None
    error: str | None = None
    retryable: bool = True

    @classmethod
    def failure(cls, provider: str, error: str, *, retryable: bool = True) -> SendResult:
        """A failed attempt."""
        return cls(ok=False, provider=provider, status="failed", error=error[:500], retryable=retryable)


class Notifier(Protocol):
    """A channel plugin."""

    name: str
    provider: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


def http_error_retryable(status: int) -> bool:
    """5xx, 408 and 429 are worth retrying; other 4xx mean the request itself is wrong."""
    return status >= 500 or status in (408, 429)


def post(
    provider: str,
    url: str,
    *,
    timeout: float,
    headers: Mapping[str, str],
    json: Any = None,
    content: bytes | None = None,
) -> httpx.Response | SendResult:
    """POST once: the 2xx response, or the failed attempt (unreachable, or the HTTP status, retryable when
    it is worth retrying). Retries are the dispatcher's job: it stores the next attempt, it never sleeps."""
    try:
        resp = httpx.post(url, json=json, content=content, headers=dict(headers), timeout=timeout)
    except httpx.HTTPError as exc:
        return SendResult.failure(provider, f"unreachable: {type(exc).__name__}")
    if resp.status_code >= 300:
        return SendResult.failure(
            provider, f"http {resp.status_code}", retryable=http_error_retryable(resp.status_code)
        )
    return resp


def recipient_number(raw: str) -> str | None:
    """A Korean phone number as Korean SMS/알림톡 providers take it (national digits, ``01012345678``);
    None when it is not a valid Korean number."""
    e164 = normalize_kr_phone(raw)
    return format_kr(e164).replace("-", "") if e164 else None


def invalid_recipient(provider: str) -> SendResult:
    """The permanent failure of a message whose phone number is not a Korean number."""
    return SendResult.failure(provider, "recipient is not a valid Korean phone number", retryable=False)
