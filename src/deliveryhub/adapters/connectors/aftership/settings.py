"""Settings for AfterShip; environment variables prefixed ``DELIVERYHUB_AFTERSHIP_``."""

from pydantic_settings import SettingsConfigDict

from deliveryhub.adapters.connectors.base import ConnectorSettings


class Settings(ConnectorSettings):
    """API base URL and key for polling, webhook secret for signed pushes, timeouts, rate limit."""

    model_config = SettingsConfigDict(env_prefix="DELIVERYHUB_AFTERSHIP_", extra="ignore")
