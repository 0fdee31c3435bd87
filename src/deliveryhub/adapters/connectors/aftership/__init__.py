"""AfterShip connector (tracking aggregator; events have source ``carrier:aftership``)."""

from deliveryhub.adapters.connectors.aftership import mapper, proxy, settings
from deliveryhub.adapters.connectors.base import Connector

CONNECTOR = Connector(
    code="aftership",
    name="AfterShip",
    kind="aggregator",
    source=mapper.SOURCE,
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
)
