"""Shopify connector (order and fulfillment webhooks; events have source ``oms``)."""

from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.shopify import mapper, settings

CONNECTOR = Connector(
    code="shopify",
    name="Shopify",
    kind="shop",
    source=mapper.SOURCE,
    map_payload=mapper.map_payload,
    settings_cls=settings.Settings,
)
