"""한진택배 connector."""

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.hanjin import mapper, proxy, settings

CONNECTOR = Connector(
    code="hanjin",
    name="한진택배",
    kind="carrier",
    source="carrier:hanjin",
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
    validate_number=lambda tracking_no: numbers.is_valid("hanjin", tracking_no),
)
