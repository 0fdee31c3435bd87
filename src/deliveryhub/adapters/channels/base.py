"""The Notifier port: one outgoing message in, one provider receipt out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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
