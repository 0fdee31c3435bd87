"""The one composition root: settings → adapters → services → consumers, jobs and routes.

Feature packages plug in through a `wiring.register(hub)` function; nothing connects at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.config import Settings, load_settings
from deliveryhub.kernel.clock import Clock, SystemClock
from deliveryhub.pii.cipher import KeyRing, load_master_key
from deliveryhub.service_layer.health import health_consumer
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ingest import IngestService
from deliveryhub.service_layer.metrics import Metrics
from deliveryhub.service_layer.ports import Bus

FEATURES = (
    "deliveryhub.adapters.connectors.wiring",
    "deliveryhub.security.wiring",
    "deliveryhub.monitors.wiring",
    "deliveryhub.notifications.wiring",
    "deliveryhub.chatbot.wiring",
    "deliveryhub.kpi.wiring",
)

OrderSection = Callable[[Any, str, Any], Any]


@dataclass
class Hub(Core):
    """The wired hub the entrypoints use: the core plus each feature's typed handle."""

    routers: list[Any] = field(default_factory=list)
    # Transitional: the string registry issue 14 removes; nothing new may be added to it.
    services: dict[str, Any] = field(default_factory=dict)

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
    **overrides: Any,
) -> Hub:
    """Build a hub: open the database (migrating if asked), load keys, wire services and features."""
    settings = settings or load_settings(**overrides)
    db = Database(settings.db_url)
    if migrate:
        from deliveryhub.migrations.runner import upgrade

        upgrade(db)
    master = load_master_key(
        settings.master_key, settings.master_key_file, settings.data_dir, create=settings.env != "prod"
    )
    keyring = KeyRing(master)
    _load_keys(db, keyring)
    clock = clock or SystemClock()
    metrics = Metrics()
    derive = None
    if importlib.util.find_spec("deliveryhub.adapters.connectors.tracking"):
        tracking = importlib.import_module("deliveryhub.adapters.connectors.tracking")
        derive = getattr(tracking, "normalize_status", None)
    ingest = IngestService(
        db,
        keyring,
        clock=clock,
        partitions=settings.bus_partitions,
        derive_status=derive,
        on_result=metrics.observe_ingest,
    )
    hub = Hub(settings=settings, db=db, keyring=keyring, clock=clock, ingest=ingest, metrics=metrics)
    hub.consumers.append(health_consumer(clock.now))
    if features:
        for name in FEATURES:
            if importlib.util.find_spec(name.rsplit(".", 1)[0]) and importlib.util.find_spec(name):
                importlib.import_module(name).register(hub)
    return hub
