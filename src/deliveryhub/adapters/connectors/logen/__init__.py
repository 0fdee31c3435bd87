"""로젠택배 connector."""

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.logen import mapper, proxy, settings

CONNECTOR = Connector(
    code="logen",
    name="로젠택배",
    kind="carrier",
    source="carrier:logen",
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
    validate_number=lambda tracking_no: numbers.is_valid("logen", tracking_no),
)
