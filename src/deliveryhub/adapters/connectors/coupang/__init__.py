"""쿠팡 Wing (Coupang Open API): HMAC-signed ordersheet polling, mapper, 상품준비중 and 송장 write-back.

Events have source ``coupang``; the canonical order id is Coupang's ``orderId``; each ``shipmentBoxId`` is a
parcel (``shipment_id``). Its poller: ``deliveryhub.connectors.coupang_poll`` (marketplace_jobs.POLLERS).

A seller's keys (Wing > 판매자정보 > 추가판매정보 > OPEN API 키), in the shop's config file or the environment
(``DELIVERYHUB_COUPANG_VENDOR_ID`` …); they are never logged::

    connectors:
      coupang:
        vendor_id: A00012345
        access_key: ${COUPANG_ACCESS_KEY}
        secret_key: ${COUPANG_SECRET_KEY}
"""

from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import ConnectorSettings

CODE = "coupang"
SOURCE = "coupang"
DEFAULT_BASE_URL = "https://api-gateway.coupang.com"


class CoupangSettings(ConnectorSettings):
    """``DELIVERYHUB_COUPANG_*`` or the hub config's ``connectors.coupang``: the seller's Wing keys."""

    base_url: str = ""  # empty: Coupang's gateway (so doctor does not probe Coupang for a hub without it)
    vendor_id: str = ""
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    # The seller's Wing login id: Coupang's cancel API (상품준비중 취소 처리) asks for it as `userId`.
    wing_user_id: str = ""
    order_poll_s: int = 300  # how often the ordersheets are polled
    window_overlap_minutes: int = 10  # each window starts this much before the previous one ended
    first_window_hours: int = 24  # first poll looks back this far (Coupang's timeFrame allows 24 h)
    max_per_page: int = 50
    statuses: str = "ACCEPT,INSTRUCT,DEPARTURE,DELIVERING,FINAL_DELIVERY"
    return_statuses: str = "RU,UC"  # 출고중지요청, 반품접수 (empty: do not poll returns)
    cancels: bool = True  # poll buyers' cancels (return/cancel request list with cancelType=CANCEL)
    exchanges: bool = True  # poll exchange requests
    acknowledge: bool = True  # 상품준비중: acknowledge new (ACCEPT) shipment boxes when polled
    # Orders created before the window still change status (shipped from Wing itself, delivered): these
    # statuses are re-read per day over the last rescan_days, at most every rescan_s.
    rescan_statuses: str = "INSTRUCT,DEPARTURE,DELIVERING,FINAL_DELIVERY"
    rescan_days: int = 7
    rescan_s: int = 1800

    @property
    def configured(self) -> bool:
        """Vendor id and both keys are set."""
        return bool(self.vendor_id and self.access_key and self.secret_key)
