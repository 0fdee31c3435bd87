"""Hub carrier code <-> tracker.delivery carrier id, as data.

The ids are the carrier directories of the open-source tracker.delivery core (see the data folder's
``tracker_delivery__carrier_ids.md``); only carriers the hub names get a hub code, the rest map to the
tracker.delivery id itself (e.g. ``jp.yamato``) so nothing is lost.
"""

from __future__ import annotations

# Source (every id below): the carrier directories of github.com/shlee322/delivery-tracker
# packages/core/src/carriers/ @ 3b3d63b4a754a6939c0f9eaee08c04c164ddb582, listed in the data folder's
# tracker_delivery__carrier_ids.md; kr.cjlogistics is also the id of the vendor's own track example
# (tracker_delivery__track_query_request_example.md) and kr.lotte the one of its webhook docs excerpt.
# All ids checked present there; none changed. The old v1 ids kr.cupost / kr.hdexp are not in the
# current core, so CU편의점택배 and 합동택배 have no tracker.delivery id (the hub must not invent one).
HUB_TO_TRACKER: dict[str, str] = {
    "cj": "kr.cjlogistics",
    "lotte": "kr.lotte",
    "hanjin": "kr.hanjin",
    "epost": "kr.epost",
    "post": "kr.epost",
    "logen": "kr.logen",
    "coupang": "kr.coupangls",
    "cvsnet": "kr.cvsnet",
    "daesin": "kr.daesin",
    "ilyang": "kr.ilyanglogis",
    "kdexp": "kr.kdexp",
    "chunil": "kr.chunilps",
    "kunyoung": "kr.kunyoung",
    "honam": "kr.honamlogis",
    "epost_ems": "kr.epost.ems",
    "lotte_global": "kr.lotte.global",
    "dhl": "de.dhl",
    "fedex": "us.fedex",
    "ups": "us.ups",
    "usps": "us.usps",
}

# One hub code per tracker id (epost wins over its alias "post": it is the hub's carriers.yaml code).
TRACKER_TO_HUB: dict[str, str] = {}
for _hub, _tracker in HUB_TO_TRACKER.items():
    TRACKER_TO_HUB.setdefault(_tracker, _hub)


def tracker_id(carrier: str) -> str | None:
    """The tracker.delivery carrier id of a hub carrier code (or an id given as is); None if unknown."""
    if carrier in HUB_TO_TRACKER:
        return HUB_TO_TRACKER[carrier]
    return carrier if "." in carrier else None


def hub_carrier(carrier_id: str) -> str:
    """The hub's carrier code of a tracker.delivery id; the id itself when the hub has no code for it."""
    return TRACKER_TO_HUB.get(carrier_id, carrier_id)
