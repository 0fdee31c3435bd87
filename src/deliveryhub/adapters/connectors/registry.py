"""The connector registry: every outside system the hub maps, each one data plus one factory.

A Korean parcel carrier is an entry of ``carriers.yaml`` (name, tracking-number rule, status table); the
one factory below turns each entry into a ``Connector`` that maps with the shared Korean payload mapper,
validates numbers with the shared rule and polls with the shared ``TrackingProxy``. Adding a Korean
carrier is adding an entry there. The shop and the aggregators have their own payload shapes, so they
bring a mapper module; their status vocabularies are data in the same file.
"""

from __future__ import annotations

from functools import partial

from deliveryhub.adapters.connectors import aftership, easypost, numbers, tracking
from deliveryhub.adapters.connectors.base import Connector
from deliveryhub.adapters.connectors.cafe24 import Cafe24Settings
from deliveryhub.adapters.connectors.cafe24 import client as cafe24_client
from deliveryhub.adapters.connectors.cafe24 import mapper as cafe24
from deliveryhub.adapters.connectors.coupang import CoupangSettings
from deliveryhub.adapters.connectors.coupang import client as coupang_client
from deliveryhub.adapters.connectors.coupang import mapper as coupang
from deliveryhub.adapters.connectors.naver import NaverSettings
from deliveryhub.adapters.connectors.naver import client as naver_client
from deliveryhub.adapters.connectors.naver import mapper as naver
from deliveryhub.adapters.connectors.shopify import ShopifySettings
from deliveryhub.adapters.connectors.shopify import mapper as shopify
from deliveryhub.adapters.connectors.statuses import KoreanCarrier, vocabulary
from deliveryhub.adapters.connectors.sweettracker import SweetTrackerSettings
from deliveryhub.adapters.connectors.sweettracker import mapper as sweettracker
from deliveryhub.adapters.connectors.trackerdelivery import TrackerDeliverySettings
from deliveryhub.adapters.connectors.trackerdelivery import mapper as trackerdelivery


def korean_connector(carrier: KoreanCarrier) -> Connector:
    """The connector of one Korean parcel carrier, from its data."""
    return Connector(
        code=carrier.code,
        name=carrier.name,
        kind="carrier",
        source=f"carrier:{carrier.code}",
        map_payload=partial(tracking.map_korean_payload, carrier.code),
        polls=True,
        validate_number=partial(numbers.is_valid, carrier.code),
    )


# Tracking aggregators report for many carriers; their events carry the carrier they name.
AGGREGATORS = (
    (aftership.CODE, "AfterShip", aftership.map_payload),
    (easypost.CODE, "EasyPost", easypost.map_payload),
)


def _build() -> dict[str, Connector]:
    found = [
        Connector(
            code="shopify",
            name="Shopify",
            kind="shop",
            source=shopify.SOURCE,
            map_payload=shopify.map_payload,
            settings_cls=ShopifySettings,
        ),
        Connector(
            code="cafe24",
            name="Cafe24",
            kind="shop",
            source=cafe24.SOURCE,
            map_payload=cafe24.map_payload,
            settings_cls=Cafe24Settings,
            write_back=cafe24_client.write_back,
        ),
        Connector(
            code="coupang",
            name="쿠팡 Wing",
            kind="shop",
            source=coupang.SOURCE,
            map_payload=coupang.map_payload,
            settings_cls=CoupangSettings,
            write_back=coupang_client.write_back,
        ),
        Connector(
            code="naver",
            name="네이버 스마트스토어",
            kind="shop",
            source=naver.SOURCE,
            map_payload=naver.map_payload,
            settings_cls=NaverSettings,
            write_back=naver_client.write_back,
        ),
        *(korean_connector(carrier) for carrier in vocabulary().korean.values()),
        *(
            Connector(code, name, "aggregator", f"carrier:{code}", mapper, polls=True)
            for code, name, mapper in AGGREGATORS
        ),
        # Korean tracking sources: polled per routed carrier (connectors/tracking_sources.py), not by code.
        Connector(
            trackerdelivery.CODE,
            "tracker.delivery",
            "tracking_source",
            f"carrier:{trackerdelivery.CODE}",
            trackerdelivery.map_payload,
            settings_cls=TrackerDeliverySettings,
        ),
        Connector(
            sweettracker.CODE,
            "Sweet Tracker (스마트택배)",
            "tracking_source",
            f"carrier:{sweettracker.CODE}",
            sweettracker.map_payload,
            settings_cls=SweetTrackerSettings,
        ),
    ]
    return {c.code: c for c in found}


CONNECTORS: dict[str, Connector] = _build()
