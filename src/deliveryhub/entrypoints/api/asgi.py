"""ASGI factory for multi-process serving (`deliveryhub serve --workers N`): settings from the env."""

from __future__ import annotations

from typing import Any


def create_app_from_env() -> Any:
    """Build the platform hub from environment settings and return the app serving every shop."""
    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.entrypoints.api.app import create_platform_app

    return create_platform_app(bootstrap())


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """Options for every uvicorn run: proxy headers only when configured, redacted logs, no access log.

    uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; the hub trusts it only with
    DELIVERYHUB_TRUST_PROXY=true, and then only from DELIVERYHUB_FORWARDED_ALLOW_IPS."""
    from deliveryhub.logs import UVICORN_LOG_CONFIG

    trusted = bool(settings.trust_proxy)
    return {
        "proxy_headers": trusted,
        "forwarded_allow_ips": settings.forwarded_allow_ips if trusted else "",
        "log_config": UVICORN_LOG_CONFIG,
        "log_level": "warning",
        "access_log": False,
    }
