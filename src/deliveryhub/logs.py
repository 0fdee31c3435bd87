"""Logging for every process: structlog + stdlib + uvicorn, with secrets redacted and no local variables.

structlog's default console renderer uses Rich tracebacks with `show_locals=True`: one failed request
printed the Bearer key and the session cookie hundreds of times (request scopes, headers and bodies are
local variables of every frame). Here tracebacks are plain (frames and source lines, never locals), and
every record, structured or stdlib, passes through `redact()` after it is formatted, so a secret inside
an exception message or a header dump is masked as well.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

# Field names whose values are secrets whatever they look like.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "set_cookie",
        "password",
        "passwd",
        "new_password",
        "totp",
        "otp",
        "token",
        "api_key",
        "apikey",
        "x-api-key",
        "secret",
        "csrf",
        "headers",
        "body",
        "master_key",
    }
)
MASK = "***"

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization / Cookie headers in any rendering: `authorization: …`, `(b'cookie', b'…')`, JSON.
    (
        re.compile(
            r"(?i)((?:proxy-)?authorization|set-cookie|cookie|x-api-key)(['\"]?\s*[:=,]\s*\(?\s*b?['\"]?)"
            r"[^'\"\r\n)]+"
        ),
        r"\1\2" + MASK,
    ),
    # Bearer credentials anywhere; Basic ones (base64, so not plain lower-case words: "basic validation").
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + MASK),
    (re.compile(r"\b([Bb]asic)\s+(?=[A-Za-z0-9+/=]*[A-Z0-9+/=])[A-Za-z0-9+/=]{8,}"), r"\1 " + MASK),
    # The hub's own secrets by their prefixes: API keys (dhk_), session tokens (dhs_).
    (re.compile(r"\b(dh[ks]_)[A-Za-z0-9_\-]{6,}"), r"\1" + MASK),
    # Our cookies by name (also inside a dumped Cookie header or a Set-Cookie line).
    (re.compile(r"(?i)\b(dh_session|dh_csrf|sessionid|session)=[^;,\s'\"&]+"), r"\1=" + MASK),
    # key=value / "key": "value" pairs that name a secret (form bodies, query strings, JSON, reprs).
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|passwd|new_password|totp|otp|secret|api_?key|token|csrf)\b[\"']?"
            r"\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;}]+)"
        ),
        r"\1" + MASK,
    ),
)


def redact(text: str) -> str:
    """`text` with tokens, keys, cookies, Authorization headers, passwords and TOTP codes masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def masking_processor(
    mask_text: Callable[[str], str], keys: frozenset[str], mask: str, *, skip: frozenset[str], max_depth: int
) -> Processor:
    """A structlog processor: values under a name in `keys` become `mask`; all other text goes through
    `mask_text`, inside dicts and lists too (up to `max_depth`); fields named in `skip` are left alone."""

    def walk(value: Any, depth: int = 0) -> Any:
        if depth > max_depth:
            return "…"
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            return mask_text(value)
        if isinstance(value, dict):
            return {
                k: mask if str(k).lower() in keys and v not in (None, "") else walk(v, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [walk(v, depth + 1) for v in value]
        return value

    def process(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            value = event_dict[key]
            if key.lower() in keys and value not in (None, ""):
                event_dict[key] = mask
            elif key not in skip:
                event_dict[key] = walk(value)
        return event_dict

    return process


# structlog processor: secret-named fields masked, secret-looking text masked in every value.
redact_processor = masking_processor(
    redact, SECRET_KEYS, MASK, skip=frozenset({"exc_info", "stack_info"}), max_depth=6
)


class _RedactedRenderer:
    """Renders with the console renderer (plain tracebacks) and redacts the finished line."""

    def __init__(self) -> None:
        self._inner = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        return redact(str(self._inner(logger, method, event_dict)))


class RedactingFormatter(logging.Formatter):
    """stdlib formatter whose whole output, traceback included, is redacted (used for uvicorn too)."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, secrets masked."""
        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802 - stdlib name
        """A plain traceback (stdlib tracebacks never print locals)."""
        return redact(super().formatException(ei))


class RewritingFilter(logging.Filter):
    """stdlib filter: the formatted message is rewritten by `rewrite` before any handler formats it."""

    def __init__(self, rewrite: Callable[[str], str]) -> None:
        super().__init__()
        self._rewrite = rewrite

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        masked = self._rewrite(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class RedactingFilter(RewritingFilter):
    """stdlib filter: secrets in the formatted message are redacted before any handler formats it."""

    def __init__(self) -> None:
        super().__init__(redact)


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# What `uvicorn.run(log_config=...)` gets: uvicorn's loggers write through the redacting formatter.
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "deliveryhub.logs.RedactingFilter"}},
    "formatters": {"redacting": {"()": "deliveryhub.logs.RedactingFormatter", "fmt": _FORMAT}},
    "handlers": {
        "default": {
            "class": "logging.StreamHandler",
            "formatter": "redacting",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False},
    },
}


_extra: list[Any] = []


def configure_logging(extra_processors: list[Any] | None = None) -> None:
    """Configure structlog and the stdlib root logger (idempotent; extra processors accumulate)."""
    for processor in extra_processors or []:
        if processor not in _extra:
            _extra.append(processor)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *_extra,
        redact_processor,
        _RedactedRenderer(),
    ]
    structlog.configure(processors=processors)
    root = logging.getLogger()
    if not any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(RedactingFormatter(_FORMAT))
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
