"""Rate limits per IP, account and chat key (login, chat); over a limit raises `RateLimited`.

The counting is the kernel's `RateLimiter` (moving windows on `limits`); the HTTP answer (429 with
Retry-After) is the entrypoints' job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deliveryhub.config import Settings
from deliveryhub.kernel.ratelimit import RateLimiter


class RateLimited(Exception):
    """A caller went over one of its limits; `retry_after` seconds until it may try again."""

    def __init__(self, what: str, retry_after: float) -> None:
        self.what = what
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The caller-facing text, in Korean and English."""
        return (
            f"요청이 너무 많습니다. {self.retry_after}초 후 다시 시도하세요 / "
            f"too many {self.what} requests; retry in {self.retry_after} s"
        )


def window(per_minute: int, burst: int) -> str:
    """A moving window with the same burst and long-run rate as a token bucket (per_minute, burst)."""
    seconds = max(1, math.ceil(burst * 60 / per_minute))
    return f"{burst} per {seconds} seconds"


def enforce(limiter: RateLimiter, key: str, what: str) -> None:
    """Count one request of `key`; raise `RateLimited` when it is over the limit."""
    if not limiter.hit(key):
        raise RateLimited(what, limiter.retry_after(key))


@dataclass
class RateLimits:
    """The rate limiters of one hub."""

    login_ip: RateLimiter
    login_account: RateLimiter
    chat_ip: RateLimiter
    chat_key: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """Login limits from `login_rate_limit_per_minute`, chat limits from `rate_limit_per_minute`."""
        login = max(1, int(settings.login_rate_limit_per_minute))
        general = max(1, int(settings.rate_limit_per_minute))
        return cls(
            login_ip=RateLimiter(window(login, login)),
            login_account=RateLimiter(window(max(1, login // 2), max(1, login // 2))),
            chat_ip=RateLimiter(window(general, max(30, general // 5))),
            chat_key=RateLimiter(window(max(1, general // 10), max(10, general // 20))),
        )

    def login(self, ip: str, account: str) -> None:
        """One login attempt from `ip` for `account` (raises `RateLimited`)."""
        enforce(self.login_ip, ip, "login")
        enforce(self.login_account, account.strip().lower(), "login")

    def chat(self, ip: str, key: str | None) -> None:
        """One chat write from `ip`, and from one caller/session `key` when known (raises `RateLimited`)."""
        enforce(self.chat_ip, ip, "chat")
        if key:
            enforce(self.chat_key, key, "chat")

    def reset(self) -> None:
        """Forget every count (tests, and an operator after a false alarm)."""
        for limiter in (self.login_ip, self.login_account, self.chat_ip, self.chat_key):
            limiter.reset()
