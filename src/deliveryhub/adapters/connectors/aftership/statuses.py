"""AfterShip delivery statuses (``tag``) and sub-statuses (``subtag``) -> our tag + reason, as data.

Source: AfterShip docs (enum/delivery-statuses, enum/delivery-sub-statuses),
quoted in guide/PRODUCT-ANCHORS.md section 1.
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

TEXTS: StatusTable = {  # tag
    "Pending": TrackingStatus("pending"),
    "InfoReceived": TrackingStatus("info_received"),
    "InTransit": TrackingStatus("in_transit"),
    "OutForDelivery": TrackingStatus("out_for_delivery"),
    "AttemptFail": TrackingStatus("attempt_fail"),
    "Delivered": TrackingStatus("delivered"),
    "AvailableForPickup": TrackingStatus("available_for_pickup"),
    "Exception": TrackingStatus("exception"),
    "Expired": TrackingStatus("expired"),
}

CODES: StatusTable = {  # subtag; the ones not listed fall back to their tag prefix
    "Exception_002": TrackingStatus("exception", "customer_moved"),
    "Exception_003": TrackingStatus("exception", "refused"),
    "Exception_004": TrackingStatus("exception", "customs"),
    "Exception_005": TrackingStatus("exception", "delayed"),
    "Exception_006": TrackingStatus("exception", "held_for_payment"),
    "Exception_007": TrackingStatus("exception", "address_not_found"),
    "Exception_008": TrackingStatus("exception", "pickup_missed"),
    "Exception_009": TrackingStatus("exception", "rejected_by_carrier"),
    "Exception_010": TrackingStatus("exception", "returning_to_sender"),
    "Exception_011": TrackingStatus("exception", "returned_to_sender"),
    "Exception_012": TrackingStatus("exception", "damaged"),
    "Exception_013": TrackingStatus("exception", "lost"),
    "AttemptFail_002": TrackingStatus("attempt_fail", "recipient_not_available"),
    "AttemptFail_003": TrackingStatus("attempt_fail", "business_closed"),
}

KEYWORDS: KeywordRules = ()


def lookup(raw_code: str | None, raw_status: str | None) -> TrackingStatus | None:
    """Subtag first (it carries the reason), then tag, then the subtag's tag prefix."""
    if raw_code and raw_code in CODES:
        return CODES[raw_code]
    if raw_status and raw_status in TEXTS:
        return TEXTS[raw_status]
    if raw_code and "_" in raw_code:
        return TEXTS.get(raw_code.split("_", 1)[0])
    return None
