"""Sweet Tracker (스마트택배): trackingInfo polling, carrier recommendation, company list."""

from __future__ import annotations

from deliveryhub.adapters.connectors.base import ConnectorSettings

DEFAULT_URL = "https://info.sweettracker.co.kr"


class SweetTrackerSettings(ConnectorSettings):
    """``api_key`` is the ``t_key``; ``carriers`` the hub carrier codes routed here ("unknown" included:
    a parcel without a known carrier is tracked through ``/api/v1/recommend``)."""

    base_url: str = ""  # empty: DEFAULT_URL (left empty so the generic doctor probe skips it)
    carriers: str = ""


__all__ = ["DEFAULT_URL", "SweetTrackerSettings"]
