"""One retry policy (tenacity) for calls retried in place, and one backoff formula for retries whose
next attempt is stored (outbox, notices, polls) rather than slept."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Literal

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

Jitter = Literal["full", "equal"]


def backoff_delay(
    attempt: int, base_s: float, max_s: float, *, jitter: Jitter = "full", rand: float | None = None
) -> float:
    """Seconds before attempt `attempt + 1`: the step base_s·2^(attempt-1) capped at max_s, with "full"
    jitter (uniform in [0, step]) or "equal" jitter (step/2 fixed plus up to step/2); `rand` in [0, 1)
    makes it deterministic."""
    step = min(max_s, base_s * (2 ** max(0, attempt - 1)))
    r = random.random() if rand is None else rand  # noqa: S311 - jitter, not secrets
    if jitter == "equal":
        return step / 2 + (step / 2) * r
    return step * r


def _kwargs(
    attempts: int,
    base_s: float,
    max_s: float,
    retry_on: tuple[type[BaseException], ...],
    before_sleep: Callable[[RetryCallState], Any] | None,
    sleep: Callable[[float], Any] | None,
) -> dict[str, Any]:
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    kwargs: dict[str, Any] = {
        "stop": stop_after_attempt(attempts),
        "wait": wait_random_exponential(multiplier=base_s, max=max_s),
        "retry": retry_if_exception_type(retry_on),
        # The caller sees its own exception after the last attempt, as with the hand-written loops.
        "reraise": True,
        "before_sleep": before_sleep,
    }
    if sleep is not None:  # else tenacity's own (time.sleep / asyncio.sleep)
        kwargs["sleep"] = sleep
    return kwargs


def retrying(
    attempts: int = 3,
    base_s: float = 0.5,
    max_s: float = 30.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    *,
    sleep: Callable[[float], None] | None = None,
    before_sleep: Callable[[RetryCallState], Any] | None = None,
) -> Retrying:
    """A tenacity `Retrying` (use as `@retrying(...)`-style `.wraps(fn)`, call `r(fn, *args)` or iterate
    `for attempt in r: with attempt: ...`) retrying `retry_on` with full-jitter exponential waits."""
    return Retrying(**_kwargs(attempts, base_s, max_s, retry_on, before_sleep, sleep))


def async_retrying(
    attempts: int = 3,
    base_s: float = 0.5,
    max_s: float = 30.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    *,
    sleep: Callable[[float], Any] | None = None,
    before_sleep: Callable[[RetryCallState], Any] | None = None,
) -> AsyncRetrying:
    """The same policy for coroutines (`async for attempt in async_retrying(...)`)."""
    return AsyncRetrying(**_kwargs(attempts, base_s, max_s, retry_on, before_sleep, sleep))
