"""Shop pages (issue 20): the platform's cross-shop overview and each shop's onboarding checklist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub


def build_router(hub: Hub) -> APIRouter | None:
    """The shop pages (none yet)."""
    return None
