"""The text classifiers: a scikit-learn pipeline (char n-grams + kiwi morphemes -> logistic regression).

Models are trained from the corpora shipped in :mod:`deliveryhub.chatbot.data` the first time they are
needed and cached with joblib under ``$DELIVERYHUB_CACHE_DIR`` (default ``./var/cache/``), in a file
named after a hash of the corpus bytes, the feature/model code and the scikit-learn version -- edit a
corpus or the code and the next process retrains. Nothing is ever downloaded. Within a process each
model is loaded once and shared (thread-safe).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODE_VERSION = "nlu-3"
INTENT_C = 10.0
HINT_WEIGHT = 2.0
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_CODE_FILES = ("normalize.py", "features.py", "model.py")

INTENTS = (
    "track_order",
    "delivery_delay",
    "missing_delivery",
    "wrong_item",
    "damaged_item",
    "cancel_order",
    "change_address",
    "return_request",
    "exchange_request",
    "refund_status",
    "payment_issue",
    "stock_inquiry",
    "notification_issue",
    "human_agent",
    "other",
)


def cache_dir() -> Path:
    """Where trained models are cached (``$DELIVERYHUB_CACHE_DIR`` or ``./var/cache``)."""
    return Path(os.environ.get("DELIVERYHUB_CACHE_DIR") or Path("var") / "cache")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build_pipeline(c: float = 8.0, hint_weight: float = HINT_WEIGHT) -> Any:
    """Unfitted pipeline: normalise -> [char_wb 1-4 | kiwi morpheme 1-2 TF-IDF] -> LogisticRegression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    from deliveryhub.chatbot.nlu.features import HintJoiner, MorphJoiner, Normalizer, split_tokens

    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2, lowercase=False
    )
    morph = Pipeline(
        [
            ("kiwi", MorphJoiner()),
            (
                "tfidf",
                TfidfVectorizer(
                    tokenizer=split_tokens,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=1,
                ),
            ),
        ]
    )
    hints = Pipeline(
        [
            ("hint", HintJoiner()),
            (
                "vec",
                TfidfVectorizer(tokenizer=split_tokens, token_pattern=None, lowercase=False, use_idf=False),
            ),
        ]
    )
    return Pipeline(
        [
            ("norm", Normalizer()),
            (
                "feats",
                FeatureUnion(
                    [("char", char), ("morph", morph), ("hints", hints)],
                    transformer_weights={"char": 1.0, "morph": 1.0, "hints": hint_weight},
                ),
            ),
            ("clf", LogisticRegression(C=c, max_iter=3000)),
        ]
    )


def _fingerprint(name: str, corpus_files: Sequence[Path], label_key: str, c: float) -> str:
    import sklearn

    h = hashlib.sha256()
    h.update(f"{CODE_VERSION}|{name}|{label_key}|{c}|sklearn={sklearn.__version__}".encode())
    for path in corpus_files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    here = Path(__file__).resolve().parent
    for fname in _CODE_FILES:
        h.update((here / fname).read_bytes())
    return h.hexdigest()[:20]


@dataclass
class TextModel:
    """A fitted pipeline plus where it came from."""

    name: str
    pipeline: Any
    labels: tuple[str, ...]
    source: str  # "trained" or "cache"
    seconds: float
    path: Path

    _fast: _FastPath | None = None
    _fast_checked: bool = False

    def _proba(self, texts: Sequence[str]) -> Any:
        if not self._fast_checked:
            self._fast = _FastPath.of(self.pipeline)
            self._fast_checked = True
        if self._fast is not None and len(texts) <= _FAST_MAX_BATCH:
            return self._fast.predict_proba(list(texts))
        return self.pipeline.predict_proba(list(texts))

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, probability of that label) for each text."""
        if not texts:
            return []
        proba = self._proba(texts)
        classes = self.pipeline.classes_
        best = proba.argmax(axis=1)
        return [(str(classes[j]), float(proba[i, j])) for i, j in enumerate(best)]

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Probability of every label for each text."""
        proba = self._proba(texts)
        classes = [str(c) for c in self.pipeline.classes_]
        return [dict(zip(classes, map(float, row), strict=True)) for row in proba]


_FAST_MAX_BATCH = 8  # larger batches go through scikit-learn, whose sparse batch maths is faster


@dataclass
class _Branch:
    """One fitted TF-IDF branch, unpacked for scoring one document without scikit-learn's checks."""

    pre: list[Any]  # stateless transformers before the vectorizer (kiwi joiner, hint joiner)
    analyzer: Any
    vocabulary: dict[str, int]
    idf: Any  # ndarray or None
    sublinear: bool
    l2: bool
    weight: float
    offset: int  # column offset of this branch in the stacked feature matrix


@dataclass
class _FastPath:
    """The fitted pipeline's arithmetic for a few messages, without scikit-learn's per-call machinery.

    ``Pipeline.predict_proba`` spends ~3 ms per call in validation, config contexts, sparse-matrix
    construction and joblib dispatch around well under a millisecond of work; a chat turn classifies one
    message, so the same maths is done directly: normalise once, count each branch's features, TF-IDF and
    L2-normalise, then the multinomial softmax of the linear scores. Tests check it returns the pipeline's
    own probabilities.
    """

    branches: list[_Branch]
    coef_t: Any  # (n_features, n_classes)
    intercept: Any
    norm: Any

    @classmethod
    def of(cls, pipeline: Any) -> _FastPath | None:
        """Build from a pipeline of the shape :func:`build_pipeline` makes, else None (use the pipeline)."""
        try:
            norm = pipeline.named_steps["norm"]
            union = pipeline.named_steps["feats"]
            clf = pipeline.named_steps["clf"]
            weights = union.transformer_weights or {}
            branches: list[_Branch] = []
            offset = 0
            for name, tr in union.transformer_list:
                if hasattr(tr, "steps"):
                    pre, vec = [step for _, step in tr.steps[:-1]], tr.steps[-1][1]
                else:
                    pre, vec = [], tr
                if vec.norm not in ("l2", None):
                    return None
                idf = vec.idf_ if vec.use_idf else None
                branches.append(
                    _Branch(
                        pre,
                        vec.build_analyzer(),
                        dict(vec.vocabulary_),
                        idf,
                        bool(vec.sublinear_tf),
                        vec.norm == "l2",
                        float(weights.get(name, 1.0)),
                        offset,
                    )
                )
                offset += len(vec.vocabulary_)
            if clf.coef_.shape[0] < 2 or clf.coef_.shape[1] != offset:
                return None  # binary models keep scikit-learn's logistic (not softmax) path
            return cls(branches, clf.coef_.T.copy(), clf.intercept_.copy(), norm)
        except (AttributeError, KeyError, ValueError):
            return None

    def predict_proba(self, texts: list[str]) -> Any:
        """Class probabilities, equal to ``pipeline.predict_proba`` (up to float rounding)."""
        import numpy as np

        normed = self.norm.transform(texts)
        docs_per_branch = []
        for br in self.branches:
            docs: Any = normed
            for step in br.pre:
                docs = step.transform(docs)
            docs_per_branch.append(docs)
        out = np.empty((len(texts), self.intercept.shape[0]))
        for row in range(len(texts)):
            scores = self.intercept.copy()
            for br, docs in zip(self.branches, docs_per_branch, strict=True):
                counts: dict[int, int] = {}
                vocab = br.vocabulary
                for feat in br.analyzer(docs[row]):
                    j = vocab.get(feat)
                    if j is not None:
                        counts[j] = counts.get(j, 0) + 1
                if not counts:
                    continue
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                val = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                if br.sublinear:
                    val = np.log(val) + 1.0
                if br.idf is not None:
                    val *= br.idf[idx]
                if br.l2:
                    val /= float(np.sqrt(val @ val))
                scores += (val * br.weight) @ self.coef_t[idx + br.offset]
            scores -= scores.max()
            np.exp(scores, out=scores)
            out[row] = scores / scores.sum()
        return out


# Intent corpus rows reused as extra VOC training data: intent -> (VOC category, sentiment).
INTENT_TO_VOC: dict[str, tuple[str, str]] = {
    "delivery_delay": ("delivery_delay", "negative"),
    "missing_delivery": ("missing", "negative"),
    "wrong_item": ("wrong_item", "negative"),
    "damaged_item": ("damaged", "negative"),
    "return_request": ("return_exchange", "neutral"),
    "exchange_request": ("return_exchange", "neutral"),
    "refund_status": ("return_exchange", "negative"),
    "payment_issue": ("price_payment", "negative"),
    "notification_issue": ("status_notice", "negative"),
}


def _extra_rows(kind: str, label_key: str) -> list[dict[str, Any]]:
    if kind != "intent_as_voc":
        return []
    idx = 0 if label_key == "category" else 1
    out = []
    for row in read_jsonl(DATA_DIR / "intents_train.jsonl"):
        mapped = INTENT_TO_VOC.get(str(row["intent"]))
        if mapped is not None and not row.get("escalate") and row.get("src") != "tone":
            out.append({"text": row["text"], label_key: mapped[idx]})
    return out[::2]  # every other row keeps the review-style corpus dominant


def train_or_load(
    name: str,
    corpus_files: Sequence[Path],
    label_key: str,
    c: float = 8.0,
    directory: Path | None = None,
    extra: str = "",
) -> TextModel:
    """Load the cached model for these corpora and this code, or train and cache it."""
    import joblib

    start = time.perf_counter()
    target_dir = directory or cache_dir()
    files = list(corpus_files) + ([DATA_DIR / "intents_train.jsonl"] if extra else [])
    key = _fingerprint(name + extra, files, label_key, c)
    path = target_dir / f"{name}-{key}.joblib"
    if path.exists():
        try:
            pipeline = joblib.load(path)
            labels = tuple(str(x) for x in pipeline.classes_)
            return TextModel(name, pipeline, labels, "cache", time.perf_counter() - start, path)
        except Exception:  # a corrupt or incompatible cache file is simply rebuilt
            path.unlink(missing_ok=True)
    rows: list[dict[str, Any]] = []
    for f in corpus_files:
        rows.extend(read_jsonl(f))
    rows.extend(_extra_rows(extra, label_key))
    texts = [str(r["text"]) for r in rows]
    labels_y = [str(r[label_key]) for r in rows]
    pipeline = build_pipeline(c)
    pipeline.fit(texts, labels_y)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".tmp", dir=target_dir)
        os.close(fd)
        joblib.dump(pipeline, tmp, compress=3)
        os.replace(tmp, path)
        for old in target_dir.glob(f"{name}-*.joblib"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # read-only or full disk: the model still works, it is just not cached
    labels = tuple(str(x) for x in pipeline.classes_)
    return TextModel(name, pipeline, labels, "trained", time.perf_counter() - start, path)


_models: dict[str, TextModel] = {}
_models_lock = threading.Lock()


def get_model(name: str) -> TextModel:
    """The process-wide model ``intent``, ``voc_category`` or ``voc_sentiment`` (loaded or trained once)."""
    with _models_lock:
        model = _models.get(name)
        if model is None:
            model = _load_named(name)
            _models[name] = model
        return model


def reset_models() -> None:
    """Forget the loaded models (tests use this after changing the cache directory)."""
    with _models_lock:
        _models.clear()


def _load_named(name: str) -> TextModel:
    if name == "intent":
        return train_or_load("intent", [DATA_DIR / "intents_train.jsonl"], "intent", c=INTENT_C)
    voc = [DATA_DIR / "voc_train.jsonl"]
    if name == "voc_category":
        return train_or_load("voc_category", voc, "category", c=8.0, extra="intent_as_voc")
    if name == "voc_sentiment":
        return train_or_load("voc_sentiment", voc, "sentiment", c=4.0, extra="intent_as_voc")
    raise KeyError(name)


def intent_model() -> TextModel:
    return get_model("intent")
