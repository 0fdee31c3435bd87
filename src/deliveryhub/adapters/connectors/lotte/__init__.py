"""롯데택배 connector."""

from deliveryhub.adapters.connectors import numbers
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.lotte import mapper, proxy, settings

CONNECTOR = Connector(
    code="lotte",
    name="롯데택배",
    kind="carrier",
    source="carrier:lotte",
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
    proxy_cls=proxy.Proxy,
    validate_number=lambda tracking_no: numbers.is_valid("lotte", tracking_no),
)
