"""Korean phone numbers, the retry policy and the rate limiter."""

from __future__ import annotations

import pytest

from deliveryhub.kernel.phone import format_kr, is_mobile, is_safe_number, normalize_kr_phone
from deliveryhub.kernel.ratelimit import RateLimiter
from deliveryhub.kernel.retry import backoff_delay, retrying


@pytest.mark.parametrize(
    ("raw", "e164", "mobile", "shown"),
    [
        ("010-1234-5678", "+821012345678", True, "010-1234-5678"),
        ("+82 10 1234 5678", "+821012345678", True, "010-1234-5678"),
        ("821012345678", "+821012345678", True, "010-1234-5678"),
        ("01012345678", "+821012345678", True, "010-1234-5678"),
        ("0504-1234-5678", "+8250412345678", False, "0504-1234-5678"),
        ("070-1234-5678", "+827012345678", False, "070-1234-5678"),
        ("02-123-4567", "+8221234567", False, "02-123-4567"),
        ("031-123-4567", "+82311234567", False, "031-123-4567"),
    ],
)
def test_korean_numbers(raw: str, e164: str, mobile: bool, shown: str):
    assert normalize_kr_phone(raw) == e164
    assert is_mobile(e164) is mobile
    assert format_kr(e164) == shown


def test_invalid_and_foreign_numbers():
    for bad in (None, "", "abc", "12", "010-123-456"):
        assert normalize_kr_phone(bad) is None
    assert normalize_kr_phone("+1 650 253 0000") is None
    assert normalize_kr_phone("+1 650 253 0000", allow_foreign=True) == "+16502530000"
    assert is_safe_number("+8250412345678") and not is_safe_number("+821012345678")


def test_backoff_delay():
    assert backoff_delay(1, 2.0, 60.0, rand=0.5) == 1.0
    assert backoff_delay(4, 2.0, 60.0, rand=0.999) == pytest.approx(16 * 0.999)
    assert backoff_delay(30, 2.0, 60.0, rand=1.0) == 60.0
    assert backoff_delay(3, 2.0, 60.0, jitter="equal", rand=0.0) == 4.0
    for attempt in range(1, 12):
        assert 0 <= backoff_delay(attempt, 1.0, 10.0) <= 10.0


def test_retrying_retries_then_reraises():
    slept: list[float] = []
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("down")
        return "ok"

    assert retrying(5, 0.1, 1.0, (ConnectionError,), sleep=slept.append)(flaky) == "ok"
    assert calls["n"] == 3 and len(slept) == 2 and all(0 <= s <= 1.0 for s in slept)

    def always() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        retrying(3, 0.1, 1.0, (ConnectionError,), sleep=slept.append)(always)

    def wrong() -> None:
        raise KeyError("not retried")

    calls["n"] = 0
    with pytest.raises(KeyError):
        retrying(3, 0.1, 1.0, (ConnectionError,), sleep=slept.append)(wrong)


def test_retrying_as_iterator():
    attempts = 0
    for attempt in retrying(3, 0.0, 0.0, (ValueError,), sleep=lambda _s: None):
        with attempt:
            attempts += 1
            if attempts < 2:
                raise ValueError
    assert attempts == 2


def test_rate_limiter():
    limiter = RateLimiter("3/minute")
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert 0 < limiter.retry_after("a") <= 60
    assert limiter.hit("b") and limiter.retry_after("b") == 0.0
    limiter.reset("a")
    assert limiter.hit("a")
    both = RateLimiter("2/second;3/minute")
    assert [both.hit("k") for _ in range(3)] == [True, True, False]
    with pytest.raises(ValueError):
        RateLimiter("lots")
