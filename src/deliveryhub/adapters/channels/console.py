"""Development channel: appends each message as one JSON line to a file (and the log), with personal
values masked and tracking links redacted so nothing personal and no usable credential is written in
clear (a tracking link is a bearer credential for its order: it lives only in the message sent)."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult
from deliveryhub.pii import dlp

log = structlog.get_logger(__name__)
_lock = threading.Lock()

REDACTED = "[redacted]"
# /track/<token> and chat links carrying one (?t= / &token=), whatever the host.
_LINK_TOKEN = re.compile(r"(/track/)[^\s\"'<>?#]+|([?&](?:t|token)=)[^\s\"'<>&#]+")


def redact_links(text: str, link: str | None = None) -> str:
    """`text` with every tracking-link token replaced by a marker (the exact link first)."""
    if link:
        text = text.replace(link, _LINK_TOKEN.sub(_redact, link))
    return _LINK_TOKEN.sub(_redact, text)


def _redact(m: re.Match[str]) -> str:
    return (m.group(1) or m.group(2)) + REDACTED


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
        """Record the message locally (links redacted); always delivered."""
        text, subject = message.text, message.subject
        for value in sorted({v for v in message.personal if v}, key=len, reverse=True):
            text = text.replace(value, _mask(value))
            subject = subject.replace(value, _mask(value))
        line = {
            "at": datetime.now(UTC).isoformat(),
            "to": _mask(message.to) if message.to else None,
            "subject": redact_links(subject, message.link),
            "text": redact_links(text, message.link),
            "link": redact_links(message.link) if message.link else None,
            "template": message.template_code,
            "key": message.idempotency_key,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock:
            # 0600 like every file of the hub's data: notices are about customers.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "ab") as fh:
                fh.write(orjson.dumps(line) + b"\n")
        log.info("notification_console", template=message.template_code, key=message.idempotency_key)
        return SendResult(
            ok=True, provider=self.provider, status="delivered", message_id=message.idempotency_key
        )
