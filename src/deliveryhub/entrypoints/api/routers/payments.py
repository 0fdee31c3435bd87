"""Issue 16 (payments-webhook): placeholder until helper C fills it in."""

from __future__ import annotations

from fastapi import APIRouter

from deliveryhub.bootstrap import Hub


def build_router(hub: Hub) -> APIRouter | None:
    """None until built."""
    return None
