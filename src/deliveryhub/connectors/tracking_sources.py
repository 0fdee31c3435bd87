"""The hub picks the configured tracking source per carrier.

``connectors.trackerdelivery.carriers: "cj,lotte"`` and ``connectors.sweettracker.carriers: "hanjin,unknown"``
(or ``DELIVERYHUB_<SOURCE>_CARRIERS``) route those carriers' parcels to that source: the poller gets one
``PolledCarrier`` per routed carrier, keyed by the hub's carrier code, whose proxy asks the aggregator (the
carrier's own rate limit, backoff and leases apply unchanged). A carrier routed to both is tracked by
tracker.delivery (the first in SOURCES). A source without credentials routes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors.base import ConnectorSettings, TrackingProxy
from deliveryhub.adapters.connectors.sweettracker import SweetTrackerSettings
from deliveryhub.adapters.connectors.sweettracker.client import SweetTrackerProxy
from deliveryhub.adapters.connectors.trackerdelivery.client import TrackerDeliveryProxy
from deliveryhub.adapters.connectors.trackerdelivery.scans import Resolve
from deliveryhub.adapters.connectors.trackerdelivery.settings import TrackerDeliverySettings, routed
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.polling import PolledCarrier
from deliveryhub.connectors.writeback import connector_settings
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

SOURCES: tuple[str, ...] = ("trackerdelivery", "sweettracker")


def _proxy(
    source: str, carrier: str, settings: ConnectorSettings, transport: object, resolve: Resolve | None
) -> TrackingProxy | None:
    if source == "trackerdelivery" and isinstance(settings, TrackerDeliverySettings):
        if not settings.client_id or settings.client_secret is None:
            return None
        return TrackerDeliveryProxy(carrier, settings, transport=transport, resolve=resolve)  # type: ignore[arg-type]
    if source == "sweettracker" and isinstance(settings, SweetTrackerSettings):
        if settings.api_key is None:
            return None
        return SweetTrackerProxy(carrier, settings, transport=transport, resolve=resolve)  # type: ignore[arg-type]
    return None


def routed_carriers(
    settings_of: Callable[[str], ConnectorSettings],
    *,
    transport: object = None,
    resolve: Resolve | None = None,
) -> dict[str, PolledCarrier]:
    """Hub carrier code -> the poller's entry for the source it is routed to."""
    found: dict[str, PolledCarrier] = {}
    for source in SOURCES:
        settings = settings_of(source)
        for carrier in routed(settings):
            if carrier in found:
                log.warning(
                    "tracking_source_conflict", carrier=carrier, kept=found[carrier].proxy, skipped=source
                )
                continue
            try:
                proxy = _proxy(source, carrier, settings, transport, resolve)
            except ValueError as exc:
                log.warning("tracking_source_unusable", source=source, carrier=carrier, error=str(exc))
                continue
            if proxy is not None:
                found[carrier] = PolledCarrier(carrier, settings, proxy)
    return found


def tracking_sources(core: Core, *, transport: object = None) -> dict[str, PolledCarrier]:
    """The routed carriers of this hub (each shop's own config file and credentials)."""

    return routed_carriers(
        lambda code: connector_settings(core, code), transport=transport, resolve=shipment_resolver(core)
    )


def shipment_resolver(core: Core) -> Resolve:
    """(order id, tracking no.) -> the parcel's shipment id in this hub (the poller's events attach to it)."""

    def resolve(order_id: str | None, tracking_no: str) -> str | None:
        p = t.parcels
        query = sa.select(p.c.shipment_id).where(p.c.tracking_no == tracking_no)
        if order_id:
            query = query.where(p.c.order_id == order_id)
        with core.db.read() as conn:
            rows = conn.execute(query.limit(2)).all()
        return str(rows[0].shipment_id) if len(rows) == 1 else None

    return resolve


def source_of(carriers: dict[str, PolledCarrier], carrier: str) -> str | None:
    """Which tracking source polls ``carrier`` (None: its own API or nobody)."""
    entry = carriers.get(carrier)
    if entry is None:
        return None
    if isinstance(entry.proxy, TrackerDeliveryProxy):
        return "trackerdelivery"
    if isinstance(entry.proxy, SweetTrackerProxy):
        return "sweettracker"
    return carrier
