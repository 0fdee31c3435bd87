"""Declarative notification rules: which trigger (stage, event, exception) sends which template on
which channels, to whom, under which conditions — loaded from YAML and validated at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deliveryhub.notifications.render import template_codes

DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")
CHANNELS = ("kakao", "sms", "email", "webhook", "console", "slack", "kakaowork")
AUDIENCES = ("customer", "ops", "webhook")
KINDS = ("stage", "event", "exception")
ONCE_PER = ("stage", "event", "eta")


class RuleError(ValueError):
    """An invalid rules file; the message names the rule and field."""


@dataclass(frozen=True)
class Trigger:
    """What happened, as far as rules are concerned."""

    kind: str  # stage | event | exception
    name: str  # stage name, event type or exception type
    order_id: str | None
    at: str | None  # ISO time of the fact
    data: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None  # event id / exception id (for once_per: event)


@dataclass(frozen=True)
class Rule:
    """One rule of the rules file."""

    id: str
    kind: str
    names: tuple[str, ...]
    template: str
    channels: tuple[str, ...]
    audience: str = "customer"
    required: bool = False
    delay_notice: bool = False
    advertising: bool = False
    once_per: str = "stage"
    when: dict[str, Any] = field(default_factory=dict)

    def matches(self, trig: Trigger) -> bool:
        """Whether this rule fires for `trig`."""
        if trig.kind != self.kind or ("*" not in self.names and trig.name not in self.names):
            return False
        return all(_condition(trig.data.get(k), v) for k, v in self.when.items())

    def stage_key(self, trig: Trigger) -> str:
        """The "stage" part of the idempotency key (order, rule, stage)."""
        if self.once_per == "event":
            return f"{trig.name}#{trig.ref or trig.at}"
        if self.once_per == "eta":
            return f"eta:{trig.data.get('eta_min', '')}/{trig.data.get('eta_max', '')}"
        return trig.name


def _condition(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        if "exists" in expected:
            return (actual is not None) == bool(expected["exists"])
        if "not" in expected:
            return not _condition(actual, expected["not"])
        return False
    if isinstance(expected, list):
        return actual in expected
    return bool(actual == expected)


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleError(f"{where}: expected a non-empty list of names")


def parse_rules(doc: Any, source: str = "rules") -> list[Rule]:
    """Validate a parsed rules document; raises RuleError naming the rule and the field."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleError(f"{source}: top level must be a mapping with a `rules:` list")
    known_templates = template_codes()
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["rules"]):
        where = f"{source}: rules[{i}]"
        if not isinstance(raw, dict):
            raise RuleError(f"{where}: each rule must be a mapping")
        if True in raw:
            # YAML 1.1 reads a bare `on:` key as the boolean true; it means the rule's trigger.
            raw = {("on" if k is True else k): v for k, v in raw.items()}
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid or "|" in rid:
            raise RuleError(f"{where}.id: a rule needs an id (no '|')")
        where = f"{source}: rule {rid!r}"
        if rid in seen:
            raise RuleError(f"{where}.id: duplicate rule id")
        seen.add(rid)
        unknown = set(raw) - {
            "id",
            "on",
            "template",
            "channels",
            "audience",
            "required",
            "delay_notice",
            "advertising",
            "once_per",
            "when",
        }
        if unknown:
            raise RuleError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        on = raw.get("on")
        if not isinstance(on, dict) or len(on) != 1 or next(iter(on)) not in KINDS:
            raise RuleError(
                f"{where}.on: must be one of {{stage: [...]}}, {{event: [...]}}, {{exception: [...]}}"
            )
        kind = next(iter(on))
        names = _as_tuple(on[kind], f"{where}.on.{kind}")
        template = raw.get("template")
        if template not in known_templates:
            raise RuleError(f"{where}.template: unknown template {template!r}")
        channels = _as_tuple(raw.get("channels"), f"{where}.channels")
        bad = [c for c in channels if c not in CHANNELS]
        if bad:
            raise RuleError(f"{where}.channels: unknown channel {bad[0]!r} (one of {', '.join(CHANNELS)})")
        audience = raw.get("audience", "customer")
        if audience not in AUDIENCES:
            raise RuleError(f"{where}.audience: must be one of {', '.join(AUDIENCES)}")
        once_per = raw.get("once_per", "stage")
        if once_per not in ONCE_PER:
            raise RuleError(f"{where}.once_per: must be one of {', '.join(ONCE_PER)}")
        when = raw.get("when") or {}
        if not isinstance(when, dict):
            raise RuleError(f"{where}.when: must be a mapping of field → value")
        flags = {}
        for flag in ("required", "delay_notice", "advertising"):
            value = raw.get(flag, False)
            if not isinstance(value, bool):
                raise RuleError(f"{where}.{flag}: must be true or false")
            flags[flag] = value
        if flags["advertising"] and flags["required"]:
            raise RuleError(f"{where}.required: an advertising message can never be a required notice")
        if flags["advertising"] and "kakao" in channels:
            raise RuleError(f"{where}.channels: 알림톡 may not carry advertising (use sms or email)")
        rules.append(
            Rule(
                id=rid,
                kind=kind,
                names=names,
                template=template,
                channels=channels,
                audience=audience,
                once_per=once_per,
                when=when,
                **flags,
            )
        )
    return rules


def load_rules(path: Path | None = None) -> list[Rule]:
    """Rules from `path` (or the defaults)."""
    path = path or DEFAULT_RULES
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rules file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}:{line} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_rules(doc, str(path))


def trigger_of(topic: str, payload: dict[str, Any], order_id: str | None) -> Trigger | None:
    """The rule trigger of one outbox message, or None when no rule can care about it."""
    if topic == "order.stage_changed":
        if not payload.get("current"):
            return None  # a late event filling in an earlier stage: nothing to tell the customer
        return Trigger(
            "stage",
            str(payload.get("stage")),
            payload.get("order_id") or order_id,
            payload.get("occurred_at"),
            {"previous": payload.get("previous"), "automatic": payload.get("automatic")},
        )
    if topic == "exception.opened":
        data = dict(payload.get("data") or {})
        data.update({k: v for k, v in payload.items() if k != "data"})
        etype = payload.get("exception_type") or payload.get("kind")
        if not etype and payload.get("type") not in (None, "exception.opened"):
            etype = payload.get("type")
        if not etype:
            return None
        ref = payload.get("exception_id") or payload.get("id") or payload.get("key")
        return Trigger(
            "exception",
            str(etype),
            payload.get("order_id") or order_id,
            payload.get("opened_at") or payload.get("occurred_at"),
            data,
            str(ref) if ref else None,
        )
    if "type" in payload and "data" in payload:
        return Trigger(
            "event",
            topic,
            payload.get("order_id") or order_id,
            payload.get("occurred_at"),
            dict(payload.get("data") or {}),
            payload.get("event_id"),
        )
    return None
