"""The one composition root: settings → adapters → core services → features → ports.

Every feature is imported here by name and wired in a fixed order by `wire_features`; each returns its
typed handle, which goes onto `Hub`, and each port of `Core` is pointed at the feature that provides it.
Nothing connects at import time, and no feature looks another up by a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from deliveryhub.adapters.connectors.statuses import normalize_status
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.aftersales import wiring as aftersales_wiring
from deliveryhub.aftersales.wiring import AftersalesFeature
from deliveryhub.chatbot import wiring as chatbot_wiring
from deliveryhub.chatbot.wiring import ChatFeature
from deliveryhub.config import Settings, load_settings
from deliveryhub.connectors import wiring as connectors_wiring
from deliveryhub.connectors.wiring import ConnectorsFeature
from deliveryhub.effects import wiring as effects_wiring
from deliveryhub.effects.wiring import EffectsFeature
from deliveryhub.kernel.clock import Clock, SystemClock
from deliveryhub.kpi import wiring as kpi_wiring
from deliveryhub.kpi.wiring import KpiFeature
from deliveryhub.monitors import wiring as monitors_wiring
from deliveryhub.monitors.service import MonitorService
from deliveryhub.notifications import wiring as notifications_wiring
from deliveryhub.notifications.wiring import NotificationsFeature
from deliveryhub.payments import wiring as payments_wiring
from deliveryhub.payments.wiring import PaymentsFeature
from deliveryhub.pii.cipher import KeyRing, MasterKeyProvider, load_master_key
from deliveryhub.security import wiring as security_wiring
from deliveryhub.security.wiring import SecurityFeature
from deliveryhub.service_layer.health import health_consumer
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ingest import IngestService
from deliveryhub.service_layer.metrics import Metrics
from deliveryhub.service_layer.ports import Bus

if TYPE_CHECKING:
    from deliveryhub.shops.hubs import ShopHubs
    from deliveryhub.shops.profile import ShopProfile


@dataclass
class Hub(Core):
    """The wired hub the entrypoints use: the core plus each feature's typed handle (None when the
    hub was built without features)."""

    security: SecurityFeature | None = None
    monitors: MonitorService | None = None
    connectors: ConnectorsFeature | None = None
    notifications: NotificationsFeature | None = None
    kpi: KpiFeature | None = None
    chat: ChatFeature | None = None
    effects: EffectsFeature | None = None
    payments_feature: PaymentsFeature | None = None
    aftersales: AftersalesFeature | None = None
    # Set on the platform hub (the `default` shop's) by create_platform_app: every shop of the hub.
    shops: ShopHubs | None = None
    # This hub's own shop in the platform directory (GET/PATCH /v1/shop); set by shops.profile.
    profile: ShopProfile | None = None

    def make_bus(self) -> Bus:
        """The bus named by the settings."""
        if self.settings.bus_url.startswith("nats://"):
            from deliveryhub.adapters.bus.nats_jetstream import NatsJetStreamBus

            return NatsJetStreamBus(
                self.settings.bus_url,
                self.db,
                partitions=self.settings.bus_partitions,
                stream=self.settings.bus_stream,
                replicas=self.settings.bus_replicas,
            )
        from deliveryhub.adapters.bus.inprocess import InProcessBus

        return InProcessBus(self.db)

    def close(self) -> None:
        """Release connections."""
        self.db.dispose()


def _load_keys(db: Database, keyring: KeyRing) -> None:
    with db.write() as conn:
        rows = conn.execute(sa.select(t.data_keys)).all()
        for r in rows:
            if r.status != "retired":
                keyring.load_kek(r.key_id, r.wrapped, active=r.status == "active")
        if keyring.active_kek_id is None:
            key_id, wrapped = keyring.new_kek()
            conn.execute(
                t.data_keys.insert().values(
                    key_id=key_id, wrapped=wrapped, status="active", created_at=datetime.now(UTC)
                )
            )


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    features: bool = True,
    master: MasterKeyProvider | None = None,
    **overrides: Any,
) -> Hub:
    """Build a hub: open the database (migrating if asked), load keys, wire services and features.

    `master` replaces the platform master key (a shop's hub gets its own root key, see shops/)."""
    settings = settings or load_settings(**overrides)
    db = Database(settings.db_url)
    if migrate:
        from deliveryhub.migrations.runner import upgrade

        upgrade(db)
    if master is None:
        master = load_master_key(
            settings.master_key, settings.master_key_file, settings.data_dir, create=settings.env != "prod"
        )
    keyring = KeyRing(master)
    _load_keys(db, keyring)
    clock = clock or SystemClock()
    metrics = Metrics()
    ingest = IngestService(
        db,
        keyring,
        clock=clock,
        partitions=settings.bus_partitions,
        derive_status=normalize_status,
        on_result=metrics.observe_ingest,
    )
    hub = Hub(settings=settings, db=db, keyring=keyring, clock=clock, ingest=ingest, metrics=metrics)
    hub.consumers.append(health_consumer(clock.now, also=hub.health_handlers))
    if features:
        wire_features(hub)
    return hub


def wire_features(hub: Hub) -> None:
    """Wire every feature in order, then point each port of `Core` at the feature that provides it.

    Features read ports at call time (`core.audit.record(...)`), never while wiring, so the order below
    only decides the order of consumers, jobs and order sections."""
    hub.connectors = connectors_wiring.register(hub)
    hub.security = security_wiring.register(hub)
    hub.monitors = monitors_wiring.register(hub)
    hub.notifications = notifications_wiring.register(hub)
    hub.chat = chatbot_wiring.register(hub)
    hub.kpi = kpi_wiring.register(hub)
    # Acting outside (issue 16): each sets the Core ports it provides (outside, payments adapter and
    # refunds, returns) inside register, since their providers are built from the hub's own config.
    hub.effects = effects_wiring.register(hub)
    hub.payments_feature = payments_wiring.register(hub)
    hub.aftersales = aftersales_wiring.register(hub)

    hub.audit = hub.security.audit
    hub.exceptions = hub.monitors.exceptions
    hub.ops_alerts = hub.notifications.ops_alerts
    hub.notice_facts = hub.notifications.notice_facts
    hub.links = hub.notifications.links
    hub.customer_files = hub.chat.files
    hub.claim_holds = hub.chat.claims
