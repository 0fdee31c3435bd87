"""tracker.delivery tracking webhook: registration and renewal of each routed parcel, and the callback.

Registration: the job ``trackerdelivery.webhooks`` registers every in-flight parcel of a carrier routed to
tracker.delivery (``carriers``) with ``registerTrackWebhook`` (``callbackUrl`` = the configured
``callback_url`` plus ``?token=<callback_token>``, ``expirationTime`` = now + ``webhook_hours``) and
registers it again once less than ``renew_before_hours`` is left. Registration is idempotent at the
vendor (same parcel and URL: the expiry moves), so a restarted worker simply registers its parcels again.

Callback ``POST /v1/webhooks/trackerdelivery``: ``{"carrierId", "trackingNumber"}`` only. The per-hub
``callback_token`` must come back as ``?token=`` or the ``X-Deliveryhub-Token`` header (constant-time
compare; missing, wrong or not configured -> 401, nothing stored). The hub then queries ``track`` for the
parcel, maps it with the parcel's order and ingests (a replayed callback only re-sends duplicates).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors.base import ConnectorError, TrackingNotFound
from deliveryhub.adapters.connectors.payload import as_str
from deliveryhub.adapters.connectors.trackerdelivery.carriers import tracker_id
from deliveryhub.adapters.connectors.trackerdelivery.client import TrackerDeliveryClient
from deliveryhub.adapters.connectors.trackerdelivery.mapper import CODE, map_payload
from deliveryhub.adapters.connectors.trackerdelivery.scans import attach
from deliveryhub.adapters.connectors.trackerdelivery.settings import TrackerDeliverySettings, routed
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.writeback import connector_settings
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

JOB_NAME = "trackerdelivery.webhooks"
EVERY_S = 300.0
TERMINAL = ("delivered", "expired")


def settings_of(core: Core) -> TrackerDeliverySettings:
    """This hub's tracker.delivery settings (its config file over the environment)."""

    found = connector_settings(core, CODE)
    assert isinstance(found, TrackerDeliverySettings)
    return found


def callback_with_token(settings: TrackerDeliverySettings) -> str | None:
    """The callback URL handed to tracker.delivery (token included); None when not configured."""
    if not settings.callback_url or settings.callback_token is None:
        return None
    joiner = "&" if "?" in settings.callback_url else "?"
    return settings.callback_url + joiner + urlencode({"token": settings.callback_token.get_secret_value()})


@dataclass
class WebhookRenewer:
    """Registers routed in-flight parcels and renews them before they expire."""

    core: Core
    transport: Any = None
    batch: int = 200
    expires: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def run(self, now: datetime | None = None) -> int:
        """Register or renew the parcels that need it; how many were (re)registered."""
        settings = settings_of(self.core)
        callback = callback_with_token(settings)
        carriers = [c for c in routed(settings) if tracker_id(c)]
        if callback is None or not carriers or not settings.client_id:
            return 0
        wall = datetime.now(UTC)  # the vendor's clock, not the hub's (possibly simulated) one
        renew_at = wall + timedelta(hours=settings.renew_before_hours)
        p = t.parcels
        with self.core.db.read() as conn:
            rows = conn.execute(
                sa.select(p.c.carrier, p.c.tracking_no).where(
                    p.c.carrier.in_(carriers),
                    p.c.tracking_no.is_not(None),
                    sa.or_(p.c.status.is_(None), p.c.status.not_in(TERMINAL)),
                )
            ).all()
        client = TrackerDeliveryClient(settings, transport=self.transport)
        done = 0
        for row in rows:
            key = (str(row.carrier), str(row.tracking_no))
            known = self.expires.get(key)
            if known is not None and known > renew_at:
                continue
            if done >= self.batch:
                break
            expires = wall + timedelta(hours=settings.webhook_hours)
            try:
                client.register_webhook(str(tracker_id(key[0])), key[1], callback, expires)
            except ConnectorError as exc:
                log.warning("trackerdelivery_webhook_register_failed", carrier=key[0], error=str(exc))
                break  # the vendor is unhappy: the next run tries again
            self.expires[key] = expires
            done += 1
        return done


class Unauthorized(Exception):
    """The callback did not carry this hub's token."""


def check_token(settings: TrackerDeliverySettings, given: str | None) -> None:
    """Constant-time token check; raises Unauthorized when missing, wrong or not configured."""
    expected = settings.callback_token.get_secret_value() if settings.callback_token else ""
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("tracker.delivery callback token missing or wrong")


def receive_callback(
    core: Core, settings: TrackerDeliverySettings, body: Any, *, transport: Any = None
) -> dict[str, Any]:
    """Query ``track`` for the parcel a callback names and ingest what maps; a summary of the effect."""
    carrier_id = as_str(body.get("carrierId")) if isinstance(body, dict) else None
    number = as_str(body.get("trackingNumber")) if isinstance(body, dict) else None
    if not carrier_id or not number:
        return {"accepted": 0, "ignored": "body needs carrierId and trackingNumber"}
    p = t.parcels
    with core.db.read() as conn:
        parcels = conn.execute(
            sa.select(p.c.order_id, p.c.shipment_id).where(p.c.tracking_no == number)
        ).all()
    if not parcels:
        return {"accepted": 0, "ignored": "no parcel with this tracking number"}
    client = TrackerDeliveryClient(settings, transport=transport)
    try:
        answer = client.track(carrier_id, number)
    except TrackingNotFound:
        return {"accepted": 0, "ignored": "tracker.delivery has no track for it yet"}
    accepted = 0
    for parcel in parcels:
        mapped = attach(map_payload(answer, order_id=str(parcel.order_id)), str(parcel.shipment_id))
        if mapped.events:
            results = core.ingest.ingest(mapped.events, source_hint=f"carrier:{CODE}")
            accepted += sum(1 for r in results if r.status == "accepted")
    return {"accepted": accepted, "parcels": len(parcels)}


def register(core: Core) -> WebhookRenewer:
    """Add the registration/renewal job to ``core``'s scheduler."""
    renewer = WebhookRenewer(core)
    core.jobs.append(Job(JOB_NAME, EVERY_S, renewer.run))
    return renewer
