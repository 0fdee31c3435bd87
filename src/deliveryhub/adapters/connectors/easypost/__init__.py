"""EasyPost connector (tracking aggregator; events have source ``carrier:easypost``)."""

from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.easypost import mapper, proxy, settings

CONNECTOR = Connector(
    code="easypost",
    name="EasyPost",
    kind="aggregator",
    source=mapper.SOURCE,
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
)
