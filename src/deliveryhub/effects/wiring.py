"""Plug the effects feature into the core: the outside-action ledger (`core.outside`), its driver job, the
reactions consumer, and the HTTP ports of the shop's outside systems (`core.pickups`, `core.fulfilment`,
`core.rewards`) when the config names them; on `Hub.effects`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_settings import SettingsConfigDict

from deliveryhub.adapters.outside.http import OutsideSettings, build_ports
from deliveryhub.connectors.writeback import connector_settings
from deliveryhub.effects import ledger as ledger_mod
from deliveryhub.effects import marketplace_cancel
from deliveryhub.effects.driver import EVERY_S, JOB_NAME, Driver
from deliveryhub.effects.ledger import Ledger
from deliveryhub.effects.marketplace_cancel import MarketplaceCancels
from deliveryhub.effects.pickups import RoutedPickups
from deliveryhub.effects.reactions import TOPICS, Reactions
from deliveryhub.kernel.configfile import EnvSettings, expand_env, load_env, load_section
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.messaging import Consumer
from deliveryhub.service_layer.ports import ActionState
from deliveryhub.service_layer.scheduler import Job

CONSUMER = "effects.reactions"


class OutsideEnv(EnvSettings):
    """DELIVERYHUB_OUTSIDE_* variables: the fallback for every key the config file's `outside:` leaves out."""

    model_config = SettingsConfigDict(env_prefix="DELIVERYHUB_OUTSIDE_", extra="ignore")

    pickup_url: str | None = None
    pickup_token: str | None = None
    wms_url: str | None = None
    wms_token: str | None = None
    tms_url: str | None = None
    tms_token: str | None = None
    rewards_url: str | None = None
    rewards_token: str | None = None
    timeout_seconds: float | None = None


def outside_settings(config_file: Any) -> OutsideSettings:
    """The `outside:` section of the hub's config file, each missing key from DELIVERYHUB_OUTSIDE_*, and
    `${VAR}` values read from the environment."""
    from_file = load_section(config_file, "outside", OutsideSettings)
    env = load_env(OutsideEnv)
    values: dict[str, Any] = {}
    for name in OutsideSettings.model_fields:
        given = name in from_file.model_fields_set
        value = getattr(from_file, name) if given else getattr(env, name)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        values[name] = expand_env(value) if isinstance(value, str) else value
    return OutsideSettings.model_validate(values)


@dataclass
class EffectsFeature:
    """What the rest of the hub uses of the effects feature."""

    core: Core
    ledger: Ledger
    driver: Driver
    reactions: Reactions
    settings: OutsideSettings

    def retry(self, key: str, actor: Any) -> ActionState | None:
        """An operator sends a failed action again (not a refund: ask that through core.refunds); audited.
        The action's state after, or None when it is not a failed pickup/WMS/TMS/coupon action."""
        with self.core.db.write() as conn:
            if not ledger_mod.retry_failed(conn, key, self.core.clock.now()):
                return None
            state = self.ledger.state(conn, key)
        self.core.audit.record(actor, "outside_action.retry", f"outside_action:{key}", {"key": key})
        return state


def register(core: Core) -> EffectsFeature:
    """Wire the ledger, its driver and reactions, and the configured outside ports."""
    settings = outside_settings(core.settings.config_file)
    pickups, fulfilment, rewards = build_ports(settings)
    # Marketplace orders' returns are registered at the marketplace too (Naver) or refused with the
    # seller centre to use; the others go to the carrier port alone.
    core.pickups = RoutedPickups(core, pickups, lambda code: connector_settings(core, code))
    if fulfilment is not None:
        core.fulfilment = fulfilment
    if rewards is not None:
        core.rewards = rewards
    ledger = Ledger(core.clock.now)
    core.outside = ledger
    driver = Driver(core)
    cancels = MarketplaceCancels(lambda code: connector_settings(core, code))
    driver.senders[(marketplace_cancel.SYSTEM, marketplace_cancel.ACTION)] = cancels.carry_out
    reactions = Reactions(core)
    core.consumers.append(Consumer(CONSUMER, reactions.handle, topics=TOPICS))
    core.jobs.append(Job(JOB_NAME, EVERY_S, driver.run))
    core.order_sections["outside_actions"] = ledger_mod.order_section

    def backlog() -> int:
        with core.db.read() as conn:
            return ledger_mod.due_count(conn, core.clock.now())

    core.backlogs["effects"] = backlog
    return EffectsFeature(core, ledger, driver, reactions, settings)
