"""Token-bucket rate limits per key and per IP (login, chat); over the limit answers 429 with Retry-After."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from deliveryhub.entrypoints.api.errors import ApiError


class TokenBucket:
    """Many small token buckets, one per key: `burst` tokens, refilled at `per_minute` per minute."""

    def __init__(self, per_minute: float, burst: int | None = None, *,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens of `key`: 0.0 when allowed, else the seconds until it would be."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.max_keys:
                self._evict(now)
            return (cost - tokens) / self.rate

    def _evict(self, now: float) -> None:
        # Buckets that would be full again carry no information: drop them.
        full_after = self.burst / self.rate
        for k in [k for k, (_, last) in self._buckets.items() if now - last > full_after]:
            del self._buckets[k]

    def reset(self, key: str | None = None) -> None:
        """Forget one key (or all)."""
        with self._lock:
            if key is None:
                self._buckets.clear()
            else:
                self._buckets.pop(key, None)


def enforce(bucket: TokenBucket, key: str, what: str) -> None:
    """Raise the 429 error when `key` is over its limit."""
    wait = bucket.take(key)
    if wait > 0:
        raise ApiError(429, "rate_limited", f"too many {what} requests; retry in {math.ceil(wait)} s / "
                       f"요청이 너무 많습니다. {math.ceil(wait)}초 후 다시 시도하세요",
                       headers={"Retry-After": str(max(1, math.ceil(wait)))})
