"""Rate limits answer in Python (RateLimited with a retry time), not HTTP; the moving windows keep the
burst and long-run rate the old token buckets had."""

from __future__ import annotations

import pytest

from deliveryhub.config import Settings
from deliveryhub.security.ratelimit import RateLimited, RateLimits, window


def test_window_keeps_burst_and_rate() -> None:
    assert window(20, 20) == "20 per 60 seconds"
    assert window(600, 120) == "120 per 12 seconds"  # 10/s on average, 120 at once
    assert window(60, 30) == "30 per 30 seconds"


def test_over_the_limit_raises_rate_limited_with_a_retry_time() -> None:
    limits = RateLimits.from_settings(Settings(login_rate_limit_per_minute=4))
    limits.login("10.0.0.1", "a@example.com")
    limits.login("10.0.0.1", "a@example.com")
    with pytest.raises(RateLimited) as caught:  # per account: half the per-IP limit
        limits.login("10.0.0.2", "A@example.com ")
    assert caught.value.what == "login" and caught.value.retry_after >= 1
    assert "요청이 너무 많습니다" in caught.value.message
    limits.login("10.0.0.1", "b@example.com")  # another account from the same address still passes
    limits.reset()
    limits.login("10.0.0.2", "a@example.com")


def test_chat_limits_per_address_and_per_session() -> None:
    limits = RateLimits.from_settings(Settings(rate_limit_per_minute=600))
    for _ in range(30):  # one session: a burst of 30
        limits.chat("10.0.0.1", "session:s1")
    with pytest.raises(RateLimited):
        limits.chat("10.0.0.1", "session:s1")
    limits.chat("10.0.0.1", "session:s2")
    limits.chat("10.0.0.1", None)
