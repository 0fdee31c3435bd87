"""Shopify connector: order and fulfilment webhooks (events have source ``oms``)."""

from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import ConnectorSettings


class ShopifySettings(ConnectorSettings):
    """``DELIVERYHUB_SHOPIFY_*``; ``webhook_secret`` is the app's client secret for X-Shopify-Hmac-Sha256."""

    shop_domain: str = ""
    api_version: str = "2024-07"
    admin_token: SecretStr | None = None
