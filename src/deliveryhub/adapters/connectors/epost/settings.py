"""Settings for 우체국택배 (epost); environment variables prefixed ``DELIVERYHUB_EPOST_``."""

from pydantic_settings import SettingsConfigDict

from deliveryhub.adapters.connectors.base import ConnectorSettings


class Settings(ConnectorSettings):
    """Poll URL (``base_url``), optional API key / push-webhook secret, timeouts, rate limit."""

    model_config = SettingsConfigDict(env_prefix="DELIVERYHUB_EPOST_", extra="ignore")
