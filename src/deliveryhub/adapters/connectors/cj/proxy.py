"""CJ대한통운 polling client (I/O only): GET {base_url}/tracking/{tracking_no}, parsed with the mapper."""

from __future__ import annotations

import httpx

from deliveryhub.adapters.connectors.base import TrackingProxy
from deliveryhub.adapters.connectors.cj import mapper
from deliveryhub.adapters.connectors.cj.settings import Settings


class Proxy(TrackingProxy):
    carrier = mapper.CARRIER

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            settings, mapper=mapper.map_payload, transport=transport, async_transport=async_transport
        )
