"""Runtime configuration of the wired connectors: per-shop secrets and silence rules.

Sources, later wins:
    * each connector's ``DELIVERYHUB_<CODE>_*`` environment variables (``Connector.settings()``);
    * ``DELIVERYHUB_SHOPIFY_WEBHOOK_SECRET`` (the hub setting ``shopify_webhook_secret``);
    * the ``connectors:`` section of the hub's one config file (``DELIVERYHUB_CONFIG_FILE``, see
      docs/CONFIG.md), then the optional separate connectors file (``DELIVERYHUB_CONNECTORS_CONFIG``, YAML
      or JSON, same shape as that section; kept for existing installations, it wins key by key)::

        shopify:
          shops:
            my-shop.myshopify.com: {webhook_secret: "..."}
        silence:
          wms: {minutes: 30, hours: "09:00-18:00", tz: Asia/Seoul, days: [0, 1, 2, 3, 4]}

    * ``DELIVERYHUB_CONNECTORS_SILENCE`` (JSON, same shape as ``silence:`` above).

Both files are read through the kernel's one config loader, so a broken file is named with its line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.configfile import merge, read_optional

# Sources watched for silence unless configured otherwise; only once they have ever sent something.
DEFAULT_SILENCE: dict[str, dict[str, Any]] = {
    "wms": {"minutes": 30},
    "oms": {"minutes": 60},
    "tms": {"minutes": 60},
}


def load_connectors_config(
    env: Mapping[str, str] | None = None, config_file: Path | str | None = None
) -> dict[str, Any]:
    """The ``connectors:`` section of the hub's config file (``config_file``: a shop's own; else
    ``DELIVERYHUB_CONFIG_FILE``) merged with the file named by ``DELIVERYHUB_CONNECTORS_CONFIG`` (which
    wins); {} when neither is set. Broken files raise ``ConfigError`` (a ValueError) naming file and line."""
    source_env: Mapping[str, str] = os.environ if env is None else env
    main = config_file or source_env.get("DELIVERYHUB_CONFIG_FILE") or None
    section = read_optional(main).mapping("connectors") or {}
    extra = read_optional(source_env.get("DELIVERYHUB_CONNECTORS_CONFIG") or None).data
    merged: dict[str, Any] = merge(section, extra)
    return merged


def secret_value(settings: ConnectorSettings) -> str | None:
    """The connector's webhook secret in clear, or None."""
    return settings.webhook_secret.get_secret_value() if settings.webhook_secret is not None else None


def shop_secret(config: dict[str, Any], shop_domain: str | None) -> str | None:
    """The per-shop Shopify webhook secret from the config file, if the shop is listed."""
    if not shop_domain:
        return None
    shops = (config.get("shopify") or {}).get("shops") or {}
    entry = shops.get(shop_domain.strip().lower()) if isinstance(shops, dict) else None
    if isinstance(entry, dict) and entry.get("webhook_secret"):
        return str(entry["webhook_secret"])
    return None


@dataclass(frozen=True)
class SilenceRule:
    """A source must send something at least every `minutes` while its calendar is open.

    The calendar is the kernel's business calendar (Korean public and substitute holidays included unless
    the rule says ``country: null``), with the rule's own hours, days and time zone.
    """

    source: str
    minutes: int = 30
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    required: bool = False  # watched even before its first event

    @property
    def hours(self) -> str:
        """The rule's business hours in words, e.g. ``09:00-18:00 Asia/Seoul``."""
        return f"{self.calendar.start:%H:%M}-{self.calendar.end:%H:%M} {self.calendar.tz.key}"


def _parse_hours(value: Any) -> tuple[time, time]:
    if not isinstance(value, str) or "-" not in value:
        raise ValueError(f"silence hours {value!r}: expected 'HH:MM-HH:MM'")
    a, b = (part.strip() for part in value.split("-", 1))
    start, end = time.fromisoformat(a), time.fromisoformat(b)
    if end <= start:
        raise ValueError(f"silence hours {value!r}: the end must be after the start")
    return start, end


def _layers(config: dict[str, Any], env: Mapping[str, str]) -> list[Any]:
    layers: list[Any] = [config.get("silence")]
    raw_env = env.get("DELIVERYHUB_CONNECTORS_SILENCE")
    if raw_env:
        try:
            layers.append(json.loads(raw_env))
        except ValueError as exc:
            raise ValueError(f"DELIVERYHUB_CONNECTORS_SILENCE: not valid JSON: {exc}") from exc
    return layers


def silence_rules(config: dict[str, Any], env: Mapping[str, str] | None = None) -> list[SilenceRule]:
    """Rules from defaults, the config file's ``silence:`` and ``DELIVERYHUB_CONNECTORS_SILENCE``."""
    merged: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_SILENCE.items()}
    for layer in _layers(config, os.environ if env is None else env):
        if not layer:
            continue
        if not isinstance(layer, dict):
            raise ValueError("silence rules must map a source to its rule")
        for source, rule in layer.items():
            if rule is False or rule is None:  # `wms: false` switches the default off
                merged.pop(str(source), None)
                continue
            if isinstance(rule, int):
                rule = {"minutes": rule}
            if not isinstance(rule, dict):
                raise ValueError(f"silence rule for {source!r} must be a mapping or minutes")
            merged[str(source)] = {**merged.get(str(source), {}), **rule}
    rules = []
    for source, rule in merged.items():
        start, end = _parse_hours(rule.get("hours", "09:00-18:00"))
        minutes = int(rule.get("minutes", 30))
        if minutes <= 0:
            raise ValueError(f"silence rule for {source!r}: minutes must be positive")
        try:
            zone = ZoneInfo(str(rule.get("tz", "Asia/Seoul")))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"silence rule for {source!r}: unknown time zone {rule.get('tz')!r}") from None
        calendar = BusinessCalendar(
            tz=zone,
            start=start,
            end=end,
            workdays=frozenset(int(d) for d in rule.get("days", (0, 1, 2, 3, 4))),
            country=rule.get("country", "KR"),
        )
        rules.append(
            SilenceRule(
                source=source, minutes=minutes, calendar=calendar, required=bool(rule.get("required"))
            )
        )
    return rules
