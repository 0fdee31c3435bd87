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


class AfterShutdown:
    """Runs `hook` once the app's lifespan has shut down (requests drained, in-process workers stopped),
    before uvicorn reports the shutdown complete: `serve --worker-process` stops its child there, since
    uvicorn re-raises SIGTERM after shutdown and code after `uvicorn.run` never runs."""

    def __init__(self, app: Any, hook: Any) -> None:
        self.app = app
        self.hook = hook

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """ASGI entry."""
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                import asyncio

                await asyncio.to_thread(self.hook)
            await send(message)

        await self.app(scope, receive, sending)
