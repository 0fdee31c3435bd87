"""Raw carrier statuses -> one of the nine tracking tags, read from the data in ``carriers.yaml``.

    raw (code, text, message) --the connector's table--> (tag, reason, known)
                              --korean_keywords----------^      reason <- korean_reasons

Unknown raw statuses never crash and are never guessed: ``normalize_status`` returns ``(None, None, False)``;
the mappers keep such a scan with ``status: None, status_known: False`` and list it in ``unmapped``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

import yaml

from deliveryhub.adapters.connectors.base import REASONS, TrackingStatus
from deliveryhub.contracts.events import TRACKING_TAGS

Rules = tuple[tuple[str, TrackingStatus], ...]
"""Ordered (substring, status) rules for carriers that report sentences; first match wins. Substrings are
kept without whitespace and compared with the text without whitespace."""

Found = TrackingStatus | None
T = TypeVar("T")

_PROBLEM_TAGS = frozenset({"attempt_fail", "exception"})


@dataclass(frozen=True)
class StatusTable:
    """One connector's vocabulary: exact codes, whitespace-free texts, ordered keywords."""

    codes: Mapping[str, TrackingStatus] = field(default_factory=dict)
    texts: Mapping[str, TrackingStatus] = field(default_factory=dict)
    keywords: Rules = ()
    lookup: str = "table"


@dataclass(frozen=True)
class KoreanCarrier:
    """A Korean parcel carrier as data: its name, tracking-number rule and status table."""

    code: str
    name: str
    lengths: frozenset[int]
    check: str | None
    table: StatusTable


@dataclass(frozen=True)
class Vocabulary:
    """Everything ``carriers.yaml`` holds, checked."""

    korean: dict[str, KoreanCarrier]
    tables: dict[str, StatusTable]
    korean_keywords: Rules
    korean_reasons: tuple[tuple[str, str], ...]
    carrier_aliases: dict[str, str]


def _status(value: object, where: str) -> TrackingStatus:
    tag, _, reason = str(value).partition("/")
    if tag not in TRACKING_TAGS:
        raise ValueError(f"carriers.yaml {where}: {tag!r} is not one of the tracking tags {TRACKING_TAGS}")
    if reason and reason not in REASONS:
        raise ValueError(f"carriers.yaml {where}: {reason!r} is not a known reason")
    return TrackingStatus(tag, reason or None)


def _table(raw: Mapping[str, Any], where: str) -> StatusTable:
    return StatusTable(
        codes={str(k): _status(v, f"{where}.codes.{k}") for k, v in (raw.get("codes") or {}).items()},
        texts={str(k): _status(v, f"{where}.texts.{k}") for k, v in (raw.get("texts") or {}).items()},
        keywords=_rules(raw.get("keywords"), f"{where}.keywords"),
        lookup=str(raw.get("lookup", "table")),
    )


def _rules(raw: Any, where: str) -> Rules:
    return tuple((_compact(str(needle)), _status(value, f"{where} {needle}")) for needle, value in raw or ())


def parse_vocabulary(doc: Mapping[str, Any]) -> Vocabulary:
    """Check and type the parsed ``carriers.yaml``; ValueError naming the bad entry."""
    checks = {code: entry.get("check") for code, entry in doc["korean"].items()}
    bad = {code: check for code, check in checks.items() if check not in (None, "mod7")}
    if bad:
        raise ValueError(f"carriers.yaml korean: unknown number checks {bad} (known: mod7)")
    korean = {
        str(code): KoreanCarrier(
            code=str(code),
            name=str(entry["name"]),
            lengths=frozenset(int(n) for n in entry["lengths"]),
            check=entry.get("check"),
            table=_table(entry, f"korean.{code}"),
        )
        for code, entry in doc["korean"].items()
    }
    tables = {code: carrier.table for code, carrier in korean.items()}
    for code in ("aftership", "easypost", "shopify"):
        tables[code] = _table(doc[code], code)
    reasons = tuple((_compact(str(needle)), str(reason)) for needle, reason in doc["korean_reasons"])
    unknown = sorted({reason for _, reason in reasons} - set(REASONS))
    if unknown:
        raise ValueError(f"carriers.yaml korean_reasons: unknown reasons {unknown}")
    return Vocabulary(
        korean=korean,
        tables=tables,
        korean_keywords=_rules(doc["korean_keywords"], "korean_keywords"),
        korean_reasons=reasons,
        carrier_aliases={str(k): str(v) for k, v in doc["shopify"]["carrier_aliases"].items()},
    )


@cache
def vocabulary() -> Vocabulary:
    """The shipped ``carriers.yaml``, read once."""
    text = files(__package__).joinpath("carriers.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(yaml.safe_load(text))


def korean_carriers() -> tuple[str, ...]:
    """Codes of the Korean parcel carriers, in registry order."""
    return tuple(vocabulary().korean)


def _compact(text: str) -> str:
    return "".join(text.split()).rstrip(".")


def _first(rules: tuple[tuple[str, T], ...], *texts: str | None) -> T | None:
    """The value of the first rule whose substring is in a text (texts in order, rules in order)."""
    for text in texts:
        if not text:
            continue
        compact = _compact(text)
        for needle, value in rules:
            if needle in compact:
                return value
    return None


Lookup = Callable[[StatusTable, str | None, str | None, str | None], Found]
"""(table, raw code, raw text, message) -> status or None."""


def _by_table(table: StatusTable, code: str | None, text: str | None, message: str | None) -> Found:
    if code and code.strip() in table.codes:
        return table.codes[code.strip()]
    if text:
        found = table.texts.get(_compact(text))
        if found is not None:
            return found
    return _first(table.keywords, text, message)


def _aftership(table: StatusTable, subtag: str | None, tag: str | None, _: str | None) -> Found:
    if subtag and subtag in table.codes:
        return table.codes[subtag]
    if tag and tag in table.texts:
        return table.texts[tag]
    if subtag and "_" in subtag:
        return table.texts.get(subtag.split("_", 1)[0])
    return None


def _easypost(table: StatusTable, detail: str | None, status: str | None, _: str | None) -> Found:
    base = table.texts.get(status or "")
    extra = table.codes.get(detail or "")
    if extra is not None and (base is None or extra.tag == "expired"):
        return extra
    if base is not None and extra is not None:
        return TrackingStatus(base.tag, base.reason or extra.reason)
    return base


_LOOKUPS: dict[str, Lookup] = {
    "table": _by_table,
    "aftership": _aftership,
    "easypost": _easypost,
}


def normalize_status(
    carrier: str, raw_code: str | None, raw_status: str | None, *, message: str | None = None
) -> tuple[str | None, str | None, bool]:
    """Carrier raw code/text -> (tag, reason, known). Unknown -> (None, None, False); never raises."""
    vocab = vocabulary()
    table = vocab.tables.get(carrier)
    if table is None:
        return None, None, False
    code = raw_code if isinstance(raw_code, str) else None
    text = raw_status if isinstance(raw_status, str) else None
    msg = message if isinstance(message, str) else None
    korean = carrier in vocab.korean
    status = _LOOKUPS[table.lookup](table, code, text, msg)
    if status is None and korean:
        status = _first(vocab.korean_keywords, text, msg)
    if status is None:
        return None, None, False
    reason = status.reason
    if reason is None and status.tag in _PROBLEM_TAGS and korean:
        reason = _first(vocab.korean_reasons, text, msg)
    return status.tag, reason, True
