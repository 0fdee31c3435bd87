"""Feature extraction: kiwipiepy morphemes (lazily loaded, once per process) and char n-grams.

Kiwi costs ~520 MB and ~3 s to start, so it is created on first use by :func:`get_kiwi` and kept for
the life of the process. Everything that is pickled into a model (transformers, analyzers) is defined
at module level and holds no Kiwi object, so cached models load without starting Kiwi until they are
used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from deliveryhub.chatbot.nlu.normalize import normalize

# POS tags that carry no intent signal (punctuation and symbols other than emoticon-like SW).
_DROP_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO"})
# Content tags whose surface form is kept alone (as well as with the tag).
_CONTENT_PREFIXES = ("NN", "VV", "VA", "MA", "XR", "SL", "SW", "IC", "NP")

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _make_kiwi() -> Any:
    from kiwipiepy import Kiwi  # imported here: importing kiwipiepy is cheap, building Kiwi is not

    return Kiwi(num_workers=0)


def get_kiwi() -> Any:
    """The process-wide Kiwi instance (created on first call, thread-safe)."""
    with _lock:
        return _make_kiwi()


def kiwi_loaded() -> bool:
    """True once :func:`get_kiwi` has built the instance in this process."""
    return _make_kiwi.cache_info().currsize > 0


def _tokens_from_kiwi(tokens: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        tag = str(tok.tag)
        if tag in _DROP_TAGS:
            continue
        form = str(tok.form)
        if tag in {"SN", "W_SERIAL", "W_URL", "W_EMAIL"}:
            # numbers: keep only their shape, never the value
            out.append(f"<NUM{min(len(form), 13)}>")
            continue
        if tag.startswith("E") or tag.startswith("J") or tag.startswith("X"):
            out.append(f"{form}/{tag[:2]}")
            continue
        out.append(f"{form}/{tag[:2]}")
        if tag.startswith(_CONTENT_PREFIXES):
            out.append(form)
    return out


def morph_tokens(text: str) -> list[str]:
    """Morpheme tokens (``form/TAG`` plus bare content forms) of one already-normalised text."""
    if not text.strip():
        return []
    return _tokens_from_kiwi(get_kiwi().tokenize(text))


def morph_tokens_many(texts: Sequence[str]) -> list[list[str]]:
    """Batch version of :func:`morph_tokens` (one Kiwi call for the whole batch)."""
    if not texts:
        return []
    kiwi = get_kiwi()
    safe = [t if t.strip() else "." for t in texts]
    return [_tokens_from_kiwi(toks) for toks in kiwi.tokenize(safe)]


def split_tokens(doc: str) -> list[str]:
    """Analyzer for pre-joined token strings (module level so it pickles)."""
    return doc.split(" ")


class MorphJoiner(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Turns normalised texts into space-joined morpheme token strings (stateless)."""

    def fit(self, x: Sequence[str], y: Any = None) -> MorphJoiner:
        return self

    def transform(self, x: Sequence[str]) -> list[str]:
        return [" ".join(toks) if toks else "<EMPTY>" for toks in morph_tokens_many(list(x))]


class Normalizer(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Applies :func:`normalize` (stateless)."""

    def fit(self, x: Sequence[str], y: Any = None) -> Normalizer:
        return self

    def transform(self, x: Sequence[str]) -> list[str]:
        return [normalize(t) for t in x]


def char_ngrams(text: str, n_min: int = 1, n_max: int = 4) -> list[str]:
    """Character n-grams of a normalised text with word boundaries marked (for inspection/tests)."""
    padded = f" {text} "
    grams: list[str] = []
    for n in range(n_min, n_max + 1):
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams
