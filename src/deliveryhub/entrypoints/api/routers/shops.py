"""Shops over HTTP (issue 20): the platform's list and overview, a shop's own settings and checklist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub


def build_router(hub: Hub) -> APIRouter | None:
    """The shops routes (none yet)."""
    return None
