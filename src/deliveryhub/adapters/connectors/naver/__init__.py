"""네이버 스마트스토어 (Naver Commerce API) connector: polled product orders, 발송처리 write-back.

auth.py    client_secret_sign (bcrypt + base64) and the cached OAuth token (type SELF)
codes.py   Naver's status, claim and delivery-company codes as data
mapper.py  product-order details (+ last-changed statuses) -> canonical events (pure)
client.py  httpx transport: token, last-changed-statuses with `more` paging, detail query, dispatch
poller.py  the polling job (cursor in connector_cursors) and ``register(core)``
"""

from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import ConnectorSettings

CODE = "naver"
SOURCE = "naver"
DEFAULT_BASE_URL = "https://api.commerce.naver.com"


class NaverSettings(ConnectorSettings):
    """``DELIVERYHUB_NAVER_*``: the seller application's client id/secret (커머스API센터 애플리케이션)."""

    # Empty = Naver's own gateway (DEFAULT_BASE_URL); set it only for a proxy or a test server. Left empty
    # so `doctor` does not probe Naver for a hub that has no Naver account.
    base_url: str = ""
    client_id: str = ""
    client_secret: SecretStr | None = None
    poll_interval_s: int = 300
    # First poll of a new shop looks back this far (Naver allows at most 24 hours per request).
    initial_lookback_hours: int = 24
    # Re-read this much before the cursor: changes are committed out of order around the boundary.
    overlap_s: int = 60


__all__ = ["CODE", "DEFAULT_BASE_URL", "SOURCE", "NaverSettings"]
