"""The CS feature's tunables: SLA targets per priority, what a breach does, the desk's opening hours,
the bot's thresholds and the optional LLM rephraser (config.py fills them from the `chatbot:` section)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from zoneinfo import ZoneInfo

from deliveryhub.kernel.calendar import BusinessCalendar, default_calendar

PRIORITIES = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
STATUSES = ("open", "pending", "solved")


@dataclass
class SlaPolicy:
    """Targets in (business) minutes for one priority."""

    first_response: float
    next_response: float
    resolution: float


@dataclass
class BusinessHours:
    """The desk's working hours in a zone; SLA clocks only run inside them, never on a Korean public
    holiday (설날, 추석, substitute days: the kernel calendar) nor on an extra closure day."""

    tz: str = "Asia/Seoul"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: time = time(9, 0)
    end: time = time(18, 0)
    extra_closures: frozenset[date] = frozenset()

    def calendar(self) -> BusinessCalendar:
        """These hours as the shared business calendar."""
        return BusinessCalendar(
            tz=ZoneInfo(self.tz),
            start=self.start,
            end=self.end,
            workdays=frozenset(self.days),
            extra_closures=self.extra_closures,
        )


@dataclass
class CsConfig:
    """Tunables of the chatbot and the desk (tests and deployments change them on `hub.chat.config`)."""

    sla: dict[str, SlaPolicy] = field(
        default_factory=lambda: {
            "urgent": SlaPolicy(5, 30, 4 * 60),
            "high": SlaPolicy(10, 60, 8 * 60),
            "normal": SlaPolicy(10, 120, 24 * 60),
            "low": SlaPolicy(60, 8 * 60, 72 * 60),
        }
    )
    business_hours: BusinessHours | None = None  # None = the clock runs around the clock
    closed_days: frozenset[date] = frozenset()  # the shop's own closed days (top-level business_hours)
    # What a breach does: "alert" (ops alert, once), "reassign" (back to the queue, priority up), "both".
    on_breach: dict[str, str] = field(
        default_factory=lambda: {"first_response": "alert", "next_response": "alert", "resolution": "alert"}
    )
    confidence_threshold: float = 0.45
    auto_approval_amount: float = 50_000.0
    vip_min_spend: float = 1_000_000.0
    repeat_contact_days: int = 7
    max_verify_failures: int = 3
    llm_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout: float = 3.0
    session_messages_per_minute: int = 30
    ip_messages_per_minute: int = 120
    ip_sessions_per_minute: int = 30

    def agent_calendar(self) -> BusinessCalendar:
        """When agents answer: the desk's business hours, else the shop's default (weekdays 09:00–18:00,
        Korean public holidays closed), as the bot and the FAQ tell customers."""
        if self.business_hours is not None:
            return self.business_hours.calendar()
        if self.closed_days:
            return replace(default_calendar(), extra_closures=self.closed_days)
        return default_calendar()

    def policy(self, priority: str) -> SlaPolicy:
        """The SLA targets of a priority (normal's for an unknown one)."""
        return self.sla.get(priority) or self.sla["normal"]
