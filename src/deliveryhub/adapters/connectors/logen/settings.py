"""Settings for 로젠택배 (logen); environment variables prefixed ``DELIVERYHUB_LOGEN_``."""

from pydantic_settings import SettingsConfigDict

from deliveryhub.adapters.connectors.base import ConnectorSettings


class Settings(ConnectorSettings):
    """Poll URL (``base_url``), optional API key / push-webhook secret, timeouts, rate limit."""

    model_config = SettingsConfigDict(env_prefix="DELIVERYHUB_LOGEN_", extra="ignore")
