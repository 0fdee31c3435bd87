"""Development channel: appends each message as one JSON line to a file (and the log), with personal
values masked so nothing personal is written in clear."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult
from deliveryhub.security import dlp

log = structlog.get_logger(__name__)
_lock = threading.Lock()


def _mask(value: str) -> str:
    if "@" in value:
        local, _, domain = value.partition("@")
        return (local[:1] + "***@" + domain) if local else "***"
    if sum(ch.isdigit() for ch in value) >= 8:
        return dlp.mask_phone(value) or "****"
    return dlp.mask_name(value) or ""


class ConsoleChannel:
    """Writes messages to `path` (JSON lines)."""

    name = "console"
    provider = "console"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutgoingMessage) -> SendResult:
        """Record the message locally; always delivered."""
        text, subject = message.text, message.subject
        for value in sorted({v for v in message.personal if v}, key=len, reverse=True):
            text = text.replace(value, _mask(value))
            subject = subject.replace(value, _mask(value))
        line = {
            "at": datetime.now(UTC).isoformat(),
            "to": _mask(message.to) if message.to else None,
            "subject": subject,
            "text": text,
            "template": message.template_code,
            "key": message.idempotency_key,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, self.path.open("ab") as fh:
            fh.write(orjson.dumps(line) + b"\n")
        log.info("notification_console", template=message.template_code, key=message.idempotency_key)
        return SendResult(
            ok=True, provider=self.provider, status="delivered", message_id=message.idempotency_key
        )
