"""Automation config: the packaged defaults merged with the user's YAML file; invalid files are refused
with the line that is wrong."""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deliveryhub.domain.lifecycle import SIDE_STATES, STAGES
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.configfile import (
    SECTIONS,
    ConfigError,
    check_known,
    check_time_zone,
    merge,
    read_config,
    validate,
)

DEFAULT_FILE = Path(__file__).with_name("default_rules.yaml")
# Top-level sections of the one config file that belong to other features: accepted here and left for
# them to read and check (the list of every section is kernel/configfile.py SECTIONS).
OTHER_SECTIONS = tuple(name for name, owner in SECTIONS.items() if owner != "monitors")
__all__ = ["ConfigError", "load_config"]
EXCEPTION_TYPES = (
    "stock_shortage",
    "inventory_mismatch",
    "dispatch_delay",
    "waybill_missing",
    "handover_missing",
    "tracking_stale",
    "delay_risk",
    "delivery_delay",
    "delivery_failed",
    "pick_error",
    "duplicate_order",
    "notice_missing",
    # Opened by other features through the ExceptionOpener port (issue 16): an action in an outside
    # system that was refused or ran out of attempts (effects), a return step past its SLA (aftersales).
    "action_failed",
    "return_stalled",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 14:00 unquoted as a sexagesimal int
        return time(value // 60, value % 60)
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        raise ValueError(f'expected a time like "14:00", got {value!r}') from None


class BusinessHoursCfg(_Strict):
    start: time = time(9, 0)
    end: time = time(18, 0)
    cutoff: time = time(14, 0)
    workdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    extra_holidays: list[date] = Field(default_factory=list)

    @field_validator("start", "end", "cutoff", mode="before")
    @classmethod
    def _time(cls, value: Any) -> time:
        return _hhmm(value)

    @model_validator(mode="after")
    def _order(self) -> BusinessHoursCfg:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class MonitorCfg(BaseModel):
    """One monitor's switches and thresholds (known keys are checked, any others are kept)."""

    model_config = ConfigDict(extra="allow")
    enabled: bool = True
    minutes: float | None = Field(default=None, gt=0)
    hours: float | None = Field(default=None, gt=0)
    pack_business_hours: float | None = Field(default=None, gt=0)
    min_probability: float | None = Field(default=None, gt=0, le=1)
    grace_hours: float | None = Field(default=None, ge=0)
    window_minutes: float | None = Field(default=None, gt=0)
    tolerance_units: int | None = Field(default=None, ge=0)
    tolerance_pct: float | None = Field(default=None, ge=0, le=1)


class OverrideCfg(_Strict):
    match: dict[Literal["carrier", "warehouse", "channel"], str]
    monitors: dict[str, MonitorCfg]

    @field_validator("monitors")
    @classmethod
    def _known(cls, value: dict[str, MonitorCfg]) -> dict[str, MonitorCfg]:
        check_known(value, EXCEPTION_TYPES, "monitor")
        return value


class EtaCfg(_Strict):
    enabled: bool = True
    lower_quantile: float = Field(default=0.04, gt=0, lt=0.5)
    upper_quantile: float = Field(default=0.96, gt=0.5, lt=1)
    min_samples: int = Field(default=30, ge=3)
    history_days: int = Field(default=120, ge=1)
    refit_minutes: float = Field(default=60, gt=0)
    min_change_minutes: float = Field(default=60, ge=0)
    hint_margin_minutes: float = Field(default=60, ge=0)
    origin_regions: dict[str, str] = Field(default_factory=dict)


# Stages a shop's `stage_values` / `oms_stages` may name: the lifecycle and its side states.
OMS_STAGES = STAGES + SIDE_STATES
# Names of the fields we send to a shop's OMS (what `field_map` may rename).
OMS_FIELDS = (
    "order_id",
    "stage",
    "status",
    "previous",
    "occurred_at",
    "automatic",
    "tracking_no",
    "carrier",
    "cancelled",
    "shipment_id",
)
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


class ShopCfg(_Strict):
    """One shop's (channel's) endpoints: WMS reservation, TMS waybill, OMS order update."""

    wms_url: str | None = None
    tms_url: str | None = None
    oms_url: str | None = None  # may contain {order_id}, e.g. https://oms.example/orders/{order_id}/status
    oms_method: Literal["POST", "PUT", "PATCH"] = "POST"
    # "Header-Name: value"; ${ENV_VAR} references are read from the environment when sent (keep secrets
    # out of the file).
    auth_header: str | None = None
    field_map: dict[str, str] = Field(default_factory=dict)  # our field name → the shop's field name
    stage_values: dict[str, str] = Field(default_factory=dict)  # our stage → the shop's status value
    oms_stages: list[str] | None = None  # stages pushed to the OMS (default: every stage change)

    @field_validator("wms_url", "tms_url", "oms_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("auth_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        if value is None:
            return value
        name, sep, rest = value.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9-]+", name.strip()) or not rest.strip():
            raise ValueError('expected "Header-Name: value", e.g. "Authorization: Bearer ${OMS_TOKEN}"')
        return value

    @field_validator("field_map")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        check_known(value, OMS_FIELDS, "field")
        return value

    @field_validator("stage_values")
    @classmethod
    def _stage_keys(cls, value: dict[str, str]) -> dict[str, str]:
        check_known(value, OMS_STAGES, "stage")
        return value

    @field_validator("oms_stages")
    @classmethod
    def _stages(cls, value: list[str] | None) -> list[str] | None:
        check_known(value or (), OMS_STAGES, "stage")
        return value

    def headers(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """The auth header with ${ENV} references filled in (empty when none is configured)."""
        if not self.auth_header:
            return {}
        env = dict(os.environ) if environ is None else environ
        name, _, value = self.auth_header.partition(":")
        return {name.strip(): _ENV_REF.sub(lambda m: env.get(m.group(1), ""), value.strip())}

    def pushes(self, stage: str) -> bool:
        """Whether a change to `stage` is pushed to this shop's OMS."""
        return bool(self.oms_url) and (self.oms_stages is None or stage in self.oms_stages)


class OrchestrationCfg(_Strict):
    enabled: bool = True
    timeout_seconds: float = Field(default=5, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=50)
    backoff_seconds: list[float] = Field(default_factory=lambda: [30.0, 120.0, 600.0], min_length=1)
    shops: dict[str, ShopCfg] = Field(default_factory=dict)

    def shop(self, name: str | None) -> ShopCfg:
        """The endpoints of a shop (channel), falling back to `default`."""
        return self.shops.get(name or "") or self.shops.get("default") or ShopCfg()

    def has_oms(self) -> bool:
        """Whether any shop pushes order updates to an OMS."""
        return self.enabled and any(s.oms_url for s in self.shops.values())


class CompensationRule(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    trigger: Literal["delivery_delay", "claim"]
    kind: Literal["coupon", "refund", "points"]
    amount: float | Literal["claim"]
    min_days_late: int | None = Field(default=None, ge=0)
    claim_kind: Literal["delay", "damage", "wrong_item", "missing", "other"] | None = None
    min_claim_amount: float | None = Field(default=None, ge=0)
    max_claim_amount: float | None = Field(default=None, ge=0)
    auto_approve: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CompensationRule:
        if self.trigger == "delivery_delay" and self.min_days_late is None:
            raise ValueError("a delivery_delay rule needs min_days_late")
        if self.amount == "claim" and self.trigger != "claim":
            raise ValueError("amount: claim only works with trigger: claim")
        if isinstance(self.amount, float | int) and self.amount < 0:
            raise ValueError("amount must be >= 0")
        return self


class CapsCfg(_Strict):
    per_order: float = Field(default=50000, ge=0)
    per_day: float = Field(default=1_000_000, ge=0)


class CompensationCfg(_Strict):
    approval_threshold: float = Field(default=30000, ge=0)
    caps: CapsCfg = Field(default_factory=CapsCfg)
    rules: list[CompensationRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: list[CompensationRule]) -> list[CompensationRule]:
        names = [r.name for r in value]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        return value


class AutomationConfig(_Strict):
    """The whole automation config."""

    timezone: str = "Asia/Seoul"
    business_hours: BusinessHoursCfg = Field(default_factory=BusinessHoursCfg)
    monitors: dict[str, MonitorCfg] = Field(default_factory=dict)
    overrides: list[OverrideCfg] = Field(default_factory=list)
    eta: EtaCfg = Field(default_factory=EtaCfg)
    orchestration: OrchestrationCfg = Field(default_factory=OrchestrationCfg)
    compensation: CompensationCfg = Field(default_factory=CompensationCfg)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("monitors")
    @classmethod
    def _known(cls, value: dict[str, MonitorCfg]) -> dict[str, MonitorCfg]:
        check_known(value, EXCEPTION_TYPES, "monitor")
        return value

    def calendar(self) -> BusinessCalendar:
        """The shop's business calendar (Korean public holidays plus the configured extra closures)."""
        return BusinessCalendar.from_settings(self.business_hours, tz=self.timezone)

    def thresholds(
        self,
        type_: str,
        *,
        carrier: str | None = None,
        warehouse: str | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """A monitor's effective settings for an order's carrier, warehouse and channel."""
        base = self.monitors.get(type_)
        out: dict[str, Any] = base.model_dump(exclude_none=True) if base else {"enabled": True}
        facts = {"carrier": carrier, "warehouse": warehouse, "channel": channel}
        for ov in self.overrides:
            if type_ in ov.monitors and all(facts.get(k) == v for k, v in ov.match.items()):
                out.update(ov.monitors[type_].model_dump(exclude_unset=True))
        return out


# ---------------------------------------------------------------- loading with line numbers
def load_config(user_file: Path | str | None = None) -> AutomationConfig:
    """Defaults merged with `user_file`; raises ConfigError naming the file and line of the first error."""
    defaults = read_config(DEFAULT_FILE)
    if not user_file:
        return validate(AutomationConfig, defaults.data, defaults)
    doc = read_config(user_file)
    doc.check_sections()
    own = {k: v for k, v in doc.data.items() if k not in OTHER_SECTIONS}
    return validate(AutomationConfig, merge(defaults.data, own), doc)
