"""Shopify fulfillment ``shipment_status`` / FulfillmentEvent ``status`` -> our tag + reason, as data.

Source: Shopify Admin REST FulfillmentEvent status enum.
"""

from deliveryhub.adapters.connectors.base import KeywordRules, StatusTable, TrackingStatus

TEXTS: StatusTable = {
    "label_printed": TrackingStatus("info_received"),
    "label_purchased": TrackingStatus("info_received"),
    "confirmed": TrackingStatus("info_received"),
    "carrier_picked_up": TrackingStatus("in_transit"),
    "in_transit": TrackingStatus("in_transit"),
    "out_for_delivery": TrackingStatus("out_for_delivery"),
    "attempted_delivery": TrackingStatus("attempt_fail"),
    "ready_for_pickup": TrackingStatus("available_for_pickup"),
    "picked_up": TrackingStatus("delivered"),  # picked up by the customer
    "delivered": TrackingStatus("delivered"),
    "delayed": TrackingStatus("exception", "delayed"),
    "failure": TrackingStatus("exception"),
}

CODES: StatusTable = {}
KEYWORDS: KeywordRules = ()

# Shopify ``tracking_company`` (free text) -> our carrier code. Compared lower-cased, whitespace removed.
CARRIER_ALIASES: dict[str, str] = {
    "cj": "cj",
    "cj대한통운": "cj",
    "cjlogistics": "cj",
    "cjkoreaexpress": "cj",
    "대한통운": "cj",
    "롯데택배": "lotte",
    "롯데글로벌로지스": "lotte",
    "lotte": "lotte",
    "lottegloballogistics": "lotte",
    "한진택배": "hanjin",
    "hanjin": "hanjin",
    "우체국택배": "epost",
    "우체국": "epost",
    "koreapost": "epost",
    "epost": "epost",
    "로젠택배": "logen",
    "logen": "logen",
}
