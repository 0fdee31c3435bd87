"""ASGI factory for multi-process serving (`deliveryhub serve --workers N`): settings from the env."""

from __future__ import annotations

from fastapi import FastAPI


def create_app_from_env() -> FastAPI:
    """Build a hub from environment settings and return its app."""
    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.entrypoints.api.app import create_app

    return create_app(bootstrap())
