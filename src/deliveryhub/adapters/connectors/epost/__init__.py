"""우체국택배 connector."""

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.epost import mapper, proxy, settings

CONNECTOR = Connector(
    code="epost",
    name="우체국택배",
    kind="carrier",
    source="carrier:epost",
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
    validate_number=lambda tracking_no: numbers.is_valid("epost", tracking_no),
)
