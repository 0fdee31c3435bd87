"""Retry timing shared by the hub's outbound senders: exponential backoff that honours a Retry-After."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """`attempts` tries at most; the n-th failure waits `base_s * 2**(n-1)` (capped), or longer when the
    other side said when to come back (429/503 Retry-After)."""

    max_attempts: int = 8
    base_s: float = 30.0
    cap_s: float = 6 * 3600.0

    def exhausted(self, attempts: int) -> bool:
        """Whether `attempts` tries are all there may be."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed try."""
        wait = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return max(wait, min(retry_after or 0.0, self.cap_s))
