"""Issue 16 (order-actions): placeholder until helper D fills it in."""

from __future__ import annotations

from fastapi import APIRouter

from deliveryhub.bootstrap import Hub


def build_router(hub: Hub) -> APIRouter | None:
    """None until built."""
    return None
