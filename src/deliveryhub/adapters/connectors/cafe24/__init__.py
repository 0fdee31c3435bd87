"""Cafe24 connector: Admin API order webhooks, catch-up polling of ``/api/v2/admin/orders`` and shipment
write-back. Events have source ``cafe24``; ``order_id`` is Cafe24's own order id (``20240101-0000001``).

Settings come from ``DELIVERYHUB_CAFE24_*`` overridden by the hub's (shop's) config file::

    connectors:
      cafe24:
        mall_id: myshop                     # the default mall (https://myshop.cafe24api.com)
        client_id: ...                      # the app's client id / secret (token refresh, Basic auth)
        client_secret: ${CAFE24_CLIENT_SECRET}
        access_token: ...                   # OAuth Bearer token; refreshed with refresh_token when expired
        refresh_token: ...
        malls:                              # per-mall values override the ones above
          myshop:
            webhook_secret: ${CAFE24_WEBHOOK_SECRET}   # sent by Cafe24 as the X-Cafe24-Webhook-Secret header
        carrier_codes: {cj: "0006"}         # hub carrier -> the mall's shipping_company_code (overrides)
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.kernel.configfile import expand_env

CODE = "cafe24"
SOURCE = "cafe24"


class Cafe24Settings(ConnectorSettings):
    """``DELIVERYHUB_CAFE24_*`` / ``connectors.cafe24``: one default mall plus per-mall overrides."""

    mall_id: str = ""
    shop_no: int = 1
    client_id: str = ""
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    api_version: str = "2024-06-01"
    malls: dict[str, dict[str, Any]] = {}
    carrier_codes: dict[str, str] = {}
    poll_date_type: str = "pay_date"
    catchup_days: int = 3
    page_limit: int = 100
    poll_interval_s: int = 600

    def mall(self, mall_id: str) -> Cafe24Settings:
        """These settings for one mall: its ``malls.<mall_id>`` entry over the common values."""
        own = self.malls.get(mall_id) or {}
        fields = type(self).model_fields
        values = {
            k: expand_env(v) if isinstance(v, str) else v
            for k, v in own.items()
            if k in fields and k != "malls"
        }
        merged = {**self.model_dump(), **values, "mall_id": mall_id, "malls": {}}
        return type(self).model_validate(merged)

    def mall_ids(self) -> list[str]:
        """Every mall configured: the default one first, then the ``malls`` entries."""
        found = [self.mall_id] if self.mall_id else []
        return found + [m for m in self.malls if m not in found]

    def api_base(self) -> str:
        """``base_url`` when set (tests, proxies), else ``https://{mall_id}.cafe24api.com``."""
        return self.base_url.rstrip("/") if self.base_url else f"https://{self.mall_id}.cafe24api.com"
