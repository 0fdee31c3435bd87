"""tracker.delivery settings: env ``DELIVERYHUB_TRACKERDELIVERY_*``, config ``connectors.trackerdelivery``."""

from __future__ import annotations

from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import ConnectorSettings

DEFAULT_URL = "https://apis.tracker.delivery/graphql"


class TrackerDeliverySettings(ConnectorSettings):
    """Credentials, the carriers routed here, and the tracking webhook (callback URL, token, lifetime)."""

    base_url: str = ""  # empty: DEFAULT_URL (left empty so the generic doctor probe skips it)
    client_id: str = ""
    client_secret: SecretStr | None = None
    # Hub carrier codes this source tracks (comma-separated, e.g. "cj,lotte"); empty: none.
    carriers: str = ""
    # The hub's public callback, e.g. https://hub.example.com/v1/webhooks/trackerdelivery; the token is
    # added as ?token=… and checked on every callback (also accepted as X-Deliveryhub-Token).
    callback_url: str = ""
    callback_token: SecretStr | None = None
    webhook_hours: int = 48  # expirationTime = now + this (the vendor recommends 48 h)
    renew_before_hours: int = 12  # re-register when less than this is left


def routed(settings: ConnectorSettings) -> list[str]:
    """The hub carrier codes configured to use this source."""
    text = str(getattr(settings, "carriers", "") or "")
    return [c.strip() for c in text.split(",") if c.strip()]
