"""Request latency per route template for /metrics (`deliveryhub_http_request_duration_seconds`)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deliveryhub.entrypoints.api.middleware import HttpMiddleware
from deliveryhub.service_layer.metrics import Metrics

UNMATCHED = "<unmatched>"


class RequestMetrics(HttpMiddleware):
    """Times each HTTP request from its arrival to the end of its response, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router writes the matched route into the shared scope; the template, never the raw path.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.http_duration.labels(scope.get("method", ""), route, str(status)).observe(
                time.perf_counter() - started
            )
