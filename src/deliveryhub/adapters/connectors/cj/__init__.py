"""CJ대한통운 connector."""

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.cj import mapper, proxy, settings

CONNECTOR = Connector(
    code="cj",
    name="CJ대한통운",
    kind="carrier",
    source="carrier:cj",
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
    validate_number=lambda tracking_no: numbers.is_valid("cj", tracking_no),
)
