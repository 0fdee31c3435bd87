"""Settings for the Shopify webhook connector; environment variables prefixed ``DELIVERYHUB_SHOPIFY_``."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from deliveryhub.adapters.connectors.base import ConnectorSettings


class Settings(ConnectorSettings):
    """``webhook_secret`` is the app's client secret used for X-Shopify-Hmac-Sha256."""

    model_config = SettingsConfigDict(env_prefix="DELIVERYHUB_SHOPIFY_", extra="ignore")

    shop_domain: str = ""
    api_version: str = "2024-07"
    admin_token: SecretStr | None = None
