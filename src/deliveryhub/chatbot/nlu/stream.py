"""Line-in, JSON-line-out batch runner shared by the intent and VOC classifiers' CLI streams."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

ClassifyMany = Callable[[Sequence[str]], list[dict[str, Any]]]


def run_stream(
    inp: TextIO, out: TextIO, classify_many: ClassifyMany, *, batch: int, interactive: bool
) -> int:
    """One text per input line -> one JSON line each (blank lines skipped), `batch` texts per model call;
    returns the count. `interactive` answers at once when no more input is buffered (a person typing)."""
    count = 0
    pending: list[str] = []

    def flush() -> None:
        for res in classify_many(pending):
            out.write(json.dumps(res, ensure_ascii=False) + "\n")
        out.flush()
        pending.clear()

    for line in inp:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        pending.append(text)
        count += 1
        if len(pending) >= batch or (interactive and not _has_buffered_input(inp)):
            flush()
    if pending:
        flush()
    return count


def _has_buffered_input(inp: TextIO) -> bool:
    """For interactive use: answer each line at once unless more input is already buffered."""
    buffer = getattr(inp, "buffer", None)
    peek = getattr(buffer, "peek", None)
    if peek is None:
        return True  # in-memory streams: batch freely
    try:
        return bool(peek(1))
    except (OSError, ValueError):
        return False
