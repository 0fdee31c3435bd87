"""FAQ knowledge base: loaded from faq.yaml into the database, edited in the UI, matched to questions;
questions nobody could answer are collected and ranked weekly as FAQ candidates."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.chatbot import tables as ct
from deliveryhub.pii import dlp

FAQ_FILE = Path(__file__).with_name("faq.yaml")
FIELDS = ("topic", "question_ko", "answer_ko", "question_en", "answer_en", "keywords")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def render(text: str, facts: Mapping[str, str], lang: str = "ko") -> str:
    """`{return_fee_free_shipping}`-style placeholders filled from the policy's facts (the English
    answer prefers the `_en` form); unknown names are left as written."""

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if lang == "en" and f"{name}_en" in facts:
            return facts[f"{name}_en"]
        return facts.get(name, m.group(0))

    return _PLACEHOLDER.sub(fill, text)


def rendered(entry: FaqEntry, facts: Mapping[str, str]) -> FaqEntry:
    """The entry with its answers filled from `facts` (the bot quotes the same values)."""
    if not facts:
        return entry
    return replace(
        entry, answer_ko=render(entry.answer_ko, facts, "ko"), answer_en=render(entry.answer_en, facts, "en")
    )


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry in both languages."""

    key: str
    topic: str
    question_ko: str
    answer_ko: str
    question_en: str
    answer_en: str
    keywords: tuple[str, ...]

    def answer(self, lang: str) -> str:
        """The answer in `lang` (ko or en)."""
        return self.answer_en if lang == "en" else self.answer_ko

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "key": self.key,
            "topic": self.topic,
            "question_ko": self.question_ko,
            "answer_ko": self.answer_ko,
            "question_en": self.question_en,
            "answer_en": self.answer_en,
            "keywords": list(self.keywords),
        }


def compact(text: str) -> str:
    """Lower-case, NFC, no spaces or punctuation: what keyword matching compares."""
    text = unicodedata.normalize("NFC", text).lower()
    return re.sub(r"[\s\W_]+", "", text)


def load_file(path: Path = FAQ_FILE) -> list[FaqEntry]:
    """Entries of a FAQ YAML file; raises ValueError naming the entry and field that is wrong."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    seen: set[str] = set()
    for i, raw in enumerate(doc.get("entries") or []):
        if not isinstance(raw, dict):
            raise ValueError(f"entries[{i}]: must be a mapping")
        for f in ("key", "question_ko", "answer_ko", "question_en", "answer_en"):
            if not str(raw.get(f) or "").strip():
                raise ValueError(f"entries[{i}].{f}: required")
        key = str(raw["key"]).strip()
        if key in seen:
            raise ValueError(f"entries[{i}].key: duplicate key {key!r}")
        seen.add(key)
        entries.append(
            FaqEntry(
                key,
                str(raw.get("topic") or "other"),
                str(raw["question_ko"]),
                str(raw["answer_ko"]),
                str(raw["question_en"]),
                str(raw["answer_en"]),
                tuple(str(k) for k in raw.get("keywords") or ()),
            )
        )
    return entries


def sync_file(db: Database, now: datetime, path: Path = FAQ_FILE) -> int:
    """Load the file into the table; entries edited in the UI keep their edits. Returns rows written."""
    entries = load_file(path)
    written = 0
    with db.write() as conn:
        existing = {r.key: r for r in conn.execute(sa.select(ct.faq_entries))}
        for e in entries:
            row = existing.get(e.key)
            values = {f: getattr(e, f) if f != "keywords" else list(e.keywords) for f in FIELDS}
            if row is None:
                conn.execute(
                    ct.faq_entries.insert().values(
                        key=e.key, active=True, updated_at=now, updated_by="file", **values
                    )
                )
                written += 1
            elif row.updated_by == "file" and any(getattr(row, f) != v for f, v in values.items()):
                conn.execute(
                    ct.faq_entries.update()
                    .where(ct.faq_entries.c.key == e.key)
                    .values(updated_at=now, **values)
                )
                written += 1
    return written


def entries(conn: Connection, include_inactive: bool = False) -> list[FaqEntry]:
    """Entries from the table."""
    q = sa.select(ct.faq_entries).order_by(ct.faq_entries.c.key)
    if not include_inactive:
        q = q.where(ct.faq_entries.c.active.is_(True))
    return [
        FaqEntry(
            r.key, r.topic, r.question_ko, r.answer_ko, r.question_en, r.answer_en, tuple(r.keywords or ())
        )
        for r in conn.execute(q)
    ]


class FaqCache:
    """Active entries, read again after `ttl` seconds (edits in the UI show up quickly) or on demand;
    answers rendered from `facts` (the returns policy's fees and windows)."""

    def __init__(self, db: Database, ttl: float = 30.0, facts: Mapping[str, str] | None = None) -> None:
        self.db = db
        self.ttl = ttl
        self.facts = dict(facts or {})
        self._cached: tuple[float, list[FaqEntry]] | None = None

    def entries(self) -> list[FaqEntry]:
        """The active entries."""
        if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
            with self.db.read() as conn:
                self._cached = (time.monotonic(), [rendered(e, self.facts) for e in entries(conn)])
        return self._cached[1]

    def invalidate(self) -> None:
        """Forget the cached entries (after an edit)."""
        self._cached = None


def upsert_entry(db: Database, data: dict[str, Any], by: str, now: datetime) -> FaqEntry:
    """Create or edit one entry from the UI/API; raises ValueError naming a missing field."""
    key = str(data.get("key") or "").strip()
    if not re.fullmatch(r"[a-z0-9_]{2,64}", key):
        raise ValueError("key: 2-64 characters of a-z, 0-9 and _")
    for f in ("question_ko", "answer_ko", "question_en", "answer_en"):
        if not str(data.get(f) or "").strip():
            raise ValueError(f"{f}: required")
    kws = data.get("keywords") or []
    if isinstance(kws, str):
        kws = [k.strip() for k in kws.split(",") if k.strip()]
    entry = FaqEntry(
        key,
        str(data.get("topic") or "other")[:32],
        str(data["question_ko"])[:500],
        str(data["answer_ko"])[:4000],
        str(data["question_en"])[:500],
        str(data["answer_en"])[:4000],
        tuple(str(k)[:100] for k in kws),
    )
    values = {f: getattr(entry, f) if f != "keywords" else list(entry.keywords) for f in FIELDS}
    with db.write() as conn:
        done = conn.execute(
            ct.faq_entries.update()
            .where(ct.faq_entries.c.key == key)
            .values(updated_at=now, updated_by=by, active=bool(data.get("active", True)), **values)
        )
        if done.rowcount == 0:
            conn.execute(
                ct.faq_entries.insert().values(
                    key=key, updated_at=now, updated_by=by, active=bool(data.get("active", True)), **values
                )
            )
    return entry


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


@lru_cache(maxsize=2048)
def _terms(entry: FaqEntry) -> tuple[tuple[str, ...], frozenset[str]]:
    """An entry's compacted keywords and question bigrams (computed once per entry version)."""
    keywords = tuple(k for k in (compact(k) for k in entry.keywords) if k)
    grams = frozenset(_bigrams(compact(entry.question_ko)) | _bigrams(compact(entry.question_en)))
    return keywords, grams


def match(
    faq: list[FaqEntry], text: str, topics: tuple[str, ...] | None = None
) -> tuple[FaqEntry | None, float]:
    """The best entry for a question and its score in [0, 1]; None below the answer threshold."""
    c = compact(text)
    if not c:
        return None, 0.0
    grams = _bigrams(c)
    best: FaqEntry | None = None
    best_score = 0.0
    for e in faq:
        if topics and e.topic not in topics:
            continue
        keywords, q_grams = _terms(e)
        hit_chars = sum(len(k) for k in keywords if k in c)
        kw_score = min(1.0, hit_chars / 6)
        overlap = len(grams & q_grams) / max(1, len(grams))
        score = 0.75 * kw_score + 0.25 * overlap + 0.01 * min(20, hit_chars)
        if score > best_score:
            best, best_score = e, score
    return (best, best_score) if best_score >= 0.45 else (None, best_score)


def record_unanswered(
    conn: Connection, session_id: str | None, text: str, lang: str, intent: str | None, now: datetime
) -> None:
    """Keep a question the bot could not answer (masked) for the weekly FAQ candidate list."""
    masked = dlp.mask_text(text) or ""
    conn.execute(
        ct.unanswered_questions.insert().values(
            at=now,
            session_id=session_id,
            lang=lang,
            text=masked[:1000],
            norm=compact(masked)[:1000],
            intent=intent,
        )
    )


def weekly_candidates(conn: Connection, week_start: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """Unanswered questions of the week from `week_start`, grouped by similar wording, most asked first."""
    rows = conn.execute(
        sa.select(
            ct.unanswered_questions.c.text, ct.unanswered_questions.c.norm, ct.unanswered_questions.c.lang
        ).where(
            ct.unanswered_questions.c.at >= week_start,
            ct.unanswered_questions.c.at < week_start + timedelta(days=7),
        )
    ).all()
    groups: list[dict[str, Any]] = []
    for r in rows:
        grams = _bigrams(r.norm)
        for g in groups:
            inter = len(grams & g["grams"])
            union = len(grams | g["grams"]) or 1
            if inter / union >= 0.5:
                g["count"] += 1
                if len(g["examples"]) < 3 and r.text not in g["examples"]:
                    g["examples"].append(r.text)
                break
        else:
            groups.append(
                {"question": r.text, "lang": r.lang, "count": 1, "examples": [r.text], "grams": grams}
            )
    groups.sort(key=lambda g: (-g["count"], g["question"]))
    return [{k: v for k, v in g.items() if k != "grams"} for g in groups[:limit]]
