"""The `chatbot:` section of the one config file: SLA policies and what a breach does, business hours for
the SLA clocks, the bot's thresholds, and the optional LLM rephraser. Checked strictly at start: an unknown
key or a bad value refuses the file, naming its line. Environment variables (DELIVERYHUB_CHAT_LLM_URL, ...)
still work and win over the file.

```yaml
chatbot:
  sla:                       # minutes (business minutes when business_hours is set)
    urgent: {first_response: 5, next_response: 30, resolution: 240}
    normal: {first_response: 10, next_response: 120, resolution: 1440}
  on_breach: {first_response: alert, resolution: reassign}   # alert | reassign | both
  business_hours: {timezone: Asia/Seoul, workdays: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
                             # SLA clocks never run on Korean public holidays; extra_closures: ["2026-12-31"]
  confidence_threshold: 0.45 # below: clarify once, then hand off
  auto_approval_amount: 50000
  vip_min_spend: 1000000
  repeat_contact_days: 7
  max_verify_failures: 3
  llm: {url: "https://llm.example/v1", model: gpt-4o-mini, api_key: "${LLM_KEY}", timeout: 3}
```
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deliveryhub.chatbot.settings import BusinessHours, CsConfig, SlaPolicy
from deliveryhub.kernel import configfile
from deliveryhub.kernel.calendar import WEEKDAYS, BusinessCalendar
from deliveryhub.kernel.configfile import ConfigError, expand_env

__all__ = ["ChatbotCfg", "ConfigError", "apply", "load_section", "shop_closed_days", "sla_calendar"]
Priority = Literal["urgent", "high", "normal", "low"]
Clock = Literal["first_response", "next_response", "resolution"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as the sexagesimal integer 540.
        raise ValueError('write times quoted, e.g. "09:00"')
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not m:
        raise ValueError(f'expected "HH:MM", got {value!r}')
    return time(int(m.group(1)), int(m.group(2)))


class SlaCfg(_Strict):
    """Targets of one priority, in minutes."""

    first_response: float = Field(gt=0)
    next_response: float = Field(gt=0)
    resolution: float = Field(gt=0)


class BusinessHoursCfg(_Strict):
    """When the SLA clocks run."""

    timezone: str = "Asia/Seoul"
    workdays: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], min_length=1)
    start: time = time(9, 0)
    end: time = time(18, 0)
    # Days the desk is closed besides weekends and Korean public holidays (e.g. a company holiday).
    extra_closures: list[date] = Field(default_factory=list)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: Any) -> time:
        return _hhmm(value)

    @field_validator("workdays")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown day {bad[0]!r}; use {', '.join(WEEKDAYS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return configfile.check_time_zone(value)

    @model_validator(mode="after")
    def _order(self) -> BusinessHoursCfg:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def calendar(self) -> BusinessCalendar:
        """The SLA clocks' business calendar (these hours, Korean public holidays closed)."""
        return BusinessCalendar.from_settings(self)


class LlmCfg(_Strict):
    """The optional rephrasing backend (OpenAI-compatible); off unless `url` is set."""

    url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout: float = Field(default=3.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value


class ChatbotCfg(_Strict):
    """The whole `chatbot:` section; every key optional."""

    sla: dict[Priority, SlaCfg] = Field(default_factory=dict)
    on_breach: dict[Clock, Literal["alert", "reassign", "both"]] = Field(default_factory=dict)
    business_hours: BusinessHoursCfg | None = None
    confidence_threshold: float | None = Field(default=None, gt=0, lt=1)
    auto_approval_amount: float | None = Field(default=None, ge=0)
    vip_min_spend: float | None = Field(default=None, ge=0)
    repeat_contact_days: int | None = Field(default=None, ge=1, le=365)
    max_verify_failures: int | None = Field(default=None, ge=1, le=10)
    llm: LlmCfg | None = None


def sla_calendar(section: ChatbotCfg) -> BusinessCalendar:
    """The calendar the SLA clocks run on: the configured business hours, else around the clock; either
    way Korean public holidays do not count."""
    if section.business_hours is not None:
        return section.business_hours.calendar()
    return BusinessCalendar.around_the_clock()


class _ShopClosedDays(BaseModel):
    """The shop-wide closed days of the top-level `business_hours:` (checked strictly by the monitors)."""

    model_config = ConfigDict(extra="ignore")

    extra_holidays: list[date] = Field(default_factory=list)
    extra_closures: list[date] = Field(default_factory=list)


def load_section(config_file: Path | str | None) -> ChatbotCfg:
    """The checked `chatbot:` section of the config file (empty when there is none)."""
    return configfile.load_section(config_file, "chatbot", ChatbotCfg)


def shop_closed_days(config_file: Path | str | None) -> frozenset[date]:
    """The days the whole shop is closed (`business_hours.extra_holidays`): the desk is closed then too."""
    days = configfile.load_section(config_file, "business_hours", _ShopClosedDays)
    return frozenset((*days.extra_holidays, *days.extra_closures))


def apply(cfg: CsConfig, section: ChatbotCfg, closed: frozenset[date] = frozenset()) -> CsConfig:
    """Write the file's settings onto `cfg` (keys the file leaves out keep their defaults); `closed`: the
    shop's own closed days, which no SLA clock counts and on which no agent answers."""
    cfg.closed_days = frozenset(closed)
    for priority, sla in section.sla.items():
        cfg.sla[priority] = SlaPolicy(sla.first_response, sla.next_response, sla.resolution)
    cfg.on_breach.update({str(k): str(v) for k, v in section.on_breach.items()})
    if section.business_hours is not None:
        bh = section.business_hours
        cfg.business_hours = BusinessHours(
            tz=bh.timezone,
            days=tuple(sorted(WEEKDAYS.index(d) for d in set(bh.workdays))),
            start=bh.start,
            end=bh.end,
            extra_closures=frozenset(bh.extra_closures) | cfg.closed_days,
        )
    for name in (
        "confidence_threshold",
        "auto_approval_amount",
        "vip_min_spend",
        "repeat_contact_days",
        "max_verify_failures",
    ):
        value = getattr(section, name)
        if value is not None:
            setattr(cfg, name, value)
    if section.llm is not None:
        cfg.llm_url = section.llm.url
        cfg.llm_model = section.llm.model
        cfg.llm_api_key = expand_env(section.llm.api_key)
        cfg.llm_timeout = section.llm.timeout
    return cfg
