"""In-memory moving-window rate limits per key (on `limits`); deciding what to answer is the caller's job."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    """Rate limits like "20/minute" (or several: "20/minute;200/hour") counted per key."""

    def __init__(self, rate: str) -> None:
        self.rate = rate
        self.items: list[RateLimitItem] = parse_many(rate)
        if not self.items:
            raise ValueError(f"rate {rate!r}: expected e.g. '20/minute'")
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    def hit(self, key: str, cost: int = 1) -> bool:
        """Count one request of `key`; False (and nothing counted) when it is over any limit."""
        if len(self.items) == 1:  # a refused moving-window hit counts nothing, so one call is enough
            return bool(self._limiter.hit(self.items[0], key, cost=cost))
        if not all(self._limiter.test(item, key, cost=cost) for item in self.items):
            return False
        return all([self._limiter.hit(item, key, cost=cost) for item in self.items])

    def test(self, key: str, cost: int = 1) -> bool:
        """Whether a request of `key` would pass now (nothing is counted)."""
        return all(self._limiter.test(item, key, cost=cost) for item in self.items)

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may send again (0.0 when it may now)."""
        now = time.time()
        wait = 0.0
        for item in self.items:
            stats = self._limiter.get_window_stats(item, key)
            if stats.remaining <= 0:
                wait = max(wait, stats.reset_time - now)
        return max(0.0, wait)

    def reset(self, key: str | None = None) -> None:
        """Forget one key's hits (or every key's)."""
        if key is None:
            self._storage.reset()
            return
        for item in self.items:
            self._limiter.clear(item, key)
