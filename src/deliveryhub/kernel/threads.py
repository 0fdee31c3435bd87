"""Blocking work (a consumer batch, a scheduled job) run from the worker's event loop in a daemon thread.

`asyncio.to_thread` uses the loop's executor, whose threads the interpreter joins at exit: one job stuck
on a lock would hold a stopping worker far past its grace period. A daemon thread is abandoned at exit
instead; its open transaction is rolled back by the database when the process goes, and everything the
worker applies is idempotent (tracking rows, committed positions), so that loses nothing."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():  # the awaiting task was cancelled (forced stop): nobody wants the outcome
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


async def in_daemon_thread(fn: Callable[..., T], *args: Any, name: str = "deliveryhub-job") -> T:
    """Await `fn(*args)` run in a new daemon thread (with the caller's context variables)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()
    ctx = contextvars.copy_context()

    def run() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = ctx.run(fn, *args)
        except BaseException as exc:  # handed to the awaiting task
            error = exc
        try:
            loop.call_soon_threadsafe(_settle, fut, result, error)
        except RuntimeError:  # the loop is gone: the worker stopped without waiting for this
            pass

    threading.Thread(target=run, name=name, daemon=True).start()
    return await fut
