"""Runtime configuration of the wired connectors: per-connector settings, per-shop secrets, silence rules.

Sources, later wins:
    * each connector's ``DELIVERYHUB_<CODE>_*`` environment variables (``base.ConnectorSettings``);
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
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from deliveryhub.adapters.connectors.base import ConnectorSettings, get_connector

# Sources watched for silence unless configured otherwise; only once they have ever sent something.
DEFAULT_SILENCE: dict[str, dict[str, Any]] = {
    "wms": {"minutes": 30},
    "oms": {"minutes": 60},
    "tms": {"minutes": 60},
}


def load_config_file(path: Path | str | None) -> dict[str, Any]:
    """The parsed config file (YAML or JSON); {} when none is set. A broken file raises ValueError."""
    if not path:
        return {}
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"config file {file}: cannot read: {exc}") from exc
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear message
        raise ValueError(f"config file {file}: not valid YAML/JSON: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {file}: the top level must be a mapping")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_connectors_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``connectors:`` section of ``DELIVERYHUB_CONFIG_FILE`` merged with the file named by
    ``DELIVERYHUB_CONNECTORS_CONFIG`` (which wins); {} when neither is set."""
    source_env: Mapping[str, str] = os.environ if env is None else env
    merged: dict[str, Any] = {}
    main_file = source_env.get("DELIVERYHUB_CONFIG_FILE") or None
    if main_file:
        section = load_config_file(main_file).get("connectors")
        if section is not None and not isinstance(section, dict):
            raise ValueError(f"config file {main_file}: the connectors section must be a mapping")
        merged = dict(section or {})
    return _merge(merged, load_config_file(source_env.get("DELIVERYHUB_CONNECTORS_CONFIG") or None))


def connector_settings(code: str) -> ConnectorSettings:
    """Fresh settings of one connector from its environment variables."""
    connector = get_connector(code)
    cls = connector.settings_cls or ConnectorSettings
    settings: ConnectorSettings = cls()
    return settings


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
    """A source must send something at least every `minutes` during its business hours."""

    source: str
    minutes: int = 30
    start: time = time(9, 0)
    end: time = time(18, 0)
    tz: str = "Asia/Seoul"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    required: bool = False  # watched even before its first event
    extra: dict[str, Any] = field(default_factory=dict)


def _parse_hours(value: Any) -> tuple[time, time]:
    if not isinstance(value, str) or "-" not in value:
        raise ValueError(f"silence hours {value!r}: expected 'HH:MM-HH:MM'")
    a, b = (part.strip() for part in value.split("-", 1))
    start, end = time.fromisoformat(a), time.fromisoformat(b)
    if end <= start:
        raise ValueError(f"silence hours {value!r}: the end must be after the start")
    return start, end


def silence_rules(config: dict[str, Any], env: Mapping[str, str] | None = None) -> list[SilenceRule]:
    """Rules from defaults, the config file's ``silence:`` and ``DELIVERYHUB_CONNECTORS_SILENCE``."""
    source_env: Mapping[str, str] = os.environ if env is None else env
    merged: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_SILENCE.items()}
    layers: list[Any] = [config.get("silence")]
    raw_env = source_env.get("DELIVERYHUB_CONNECTORS_SILENCE")
    if raw_env:
        try:
            layers.append(json.loads(raw_env))
        except ValueError as exc:
            raise ValueError(f"DELIVERYHUB_CONNECTORS_SILENCE: not valid JSON: {exc}") from exc
    for layer in layers:
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
        days = tuple(int(d) for d in rule.get("days", (0, 1, 2, 3, 4)))
        rules.append(
            SilenceRule(
                source=source,
                minutes=minutes,
                start=start,
                end=end,
                tz=str(rule.get("tz", "Asia/Seoul")),
                days=days,
                required=bool(rule.get("required", False)),
            )
        )
    return rules
