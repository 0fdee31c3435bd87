"""EasyPost Tracker ``status`` -> our tag, ``status_detail`` -> reason, as data.

Source: EasyPost Tracker object docs (status and status_detail enums).
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

TEXTS: StatusTable = {  # status
    "unknown": TrackingStatus("pending"),
    "pre_transit": TrackingStatus("info_received"),
    "in_transit": TrackingStatus("in_transit"),
    "out_for_delivery": TrackingStatus("out_for_delivery"),
    "delivered": TrackingStatus("delivered"),
    "available_for_pickup": TrackingStatus("available_for_pickup"),
    "return_to_sender": TrackingStatus("exception", "returned_to_sender"),
    "failure": TrackingStatus("exception"),
    "cancelled": TrackingStatus("exception", "cancelled"),
    "error": TrackingStatus("exception"),
}

# status_detail values that add a reason (or, for "expired", change the tag).
CODES: StatusTable = {
    "damaged": TrackingStatus("exception", "damaged"),
    "lost": TrackingStatus("exception", "lost"),
    "refused": TrackingStatus("exception", "refused"),
    "cancelled": TrackingStatus("exception", "cancelled"),
    "return": TrackingStatus("exception", "returning_to_sender"),
    "delayed": TrackingStatus("exception", "delayed"),
    "expired": TrackingStatus("expired"),
}

KNOWN_DETAILS: frozenset[str] = frozenset(
    {
        "address_correction",
        "arrived_at_destination",
        "arrived_at_facility",
        "arrived_at_pickup_location",
        "awaiting_information",
        "cancelled",
        "damaged",
        "delayed",
        "delivery_exception",
        "departed_facility",
        "departed_origin_facility",
        "expired",
        "failure",
        "held",
        "in_transit",
        "label_created",
        "lost",
        "missorted",
        "out_for_delivery",
        "received_at_destination_facility",
        "received_at_origin_facility",
        "refused",
        "return",
        "status_update",
        "transferred_by_incoming_carrier",
        "transferred_to_destination_carrier",
        "unknown",
    }
)

KEYWORDS: KeywordRules = ()


def lookup(raw_code: str | None, raw_status: str | None) -> TrackingStatus | None:
    """Tag from ``status``; a detail keeps that tag and adds its reason, except "expired"."""
    base = TEXTS.get(raw_status or "")
    detail = CODES.get(raw_code or "")
    if detail is not None and (base is None or detail.tag == "expired"):
        return detail
    if base is not None and detail is not None:
        return TrackingStatus(base.tag, base.reason or detail.reason)
    return base
