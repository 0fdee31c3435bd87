"""Public NLU entry points: ``classify``, ``classify_many``, ``run_classify_stream``, ``bench_nlu``.

Each result is ``{"text", "intent", "confidence", "escalate", "entities"}``: the intent among the 15 of
CS.md, the model probability of that intent (0..1), whether a hand-off rule fires on this message alone,
and the entities found (keys only when present: order_id, tracking_no, carrier, phone, phone_last4,
dates, options).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any, TextIO

from deliveryhub.chatbot.nlu.entities import extract_entities
from deliveryhub.chatbot.nlu.escalation import asks_hours_only, escalation_reasons
from deliveryhub.chatbot.nlu.model import DATA_DIR, intent_model, read_jsonl
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.stream import run_stream
from deliveryhub.chatbot.nlu.tone import adjust_intent

BATCH = 512
_HUMAN_OVERRIDE_CONFIDENCE = 0.6


def _result(text: str, intent: str, confidence: float) -> dict[str, Any]:
    if intent == "human_agent" and asks_hours_only(text):
        intent = "other"  # "상담 가능한 시간이 언제예요": the hours, answered from the FAQ
    reasons = escalation_reasons(text, intent)
    if "human_request" in reasons and intent != "human_agent" and confidence < _HUMAN_OVERRIDE_CONFIDENCE:
        intent = "human_agent"
    elif intent != "human_agent":
        intent = adjust_intent(text, intent, reasons)
    return {
        "text": text,
        "intent": intent,
        "confidence": round(min(1.0, max(0.0, confidence)), 4),
        "escalate": bool(reasons),
        "entities": extract_entities(text),
    }


def classify_many(texts: Sequence[str]) -> list[dict[str, Any]]:
    """Classify a batch of messages (one model call per 512 messages)."""
    items = [str(t) for t in texts]
    out: list[dict[str, Any]] = []
    model = None
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        live = [i for i, t in enumerate(chunk) if normalize(t)]
        preds: dict[int, tuple[str, float]] = {}
        if live:
            model = model or intent_model()
            for i, pred in zip(live, model.predict([chunk[i] for i in live]), strict=True):
                preds[i] = pred
        for i, text in enumerate(chunk):
            intent, conf = preds.get(i, ("other", 0.0))
            out.append(_result(text, intent, conf))
    return out


def classify(text: str) -> dict[str, Any]:
    """Classify one customer message."""
    return classify_many([text])[0]


def run_classify_stream(inp: TextIO, out: TextIO) -> int:
    """One message per input line -> one JSON line per message (blank lines skipped); returns the count."""
    return run_stream(inp, out, classify_many, batch=64, interactive=True)


def bench_nlu(n: int = 2000) -> dict[str, Any]:
    """Throughput and latency of the NLU on ``n`` messages from the shipped held-out corpus."""
    t0 = time.perf_counter()
    model = intent_model()
    load_s = time.perf_counter() - t0
    corpus = [str(r["text"]) for r in read_jsonl(DATA_DIR / "intents_test.jsonl")] or ["배송 언제 와요?"]
    msgs = [corpus[i % len(corpus)] for i in range(max(1, n))]
    classify_many(msgs[:16])  # warm-up (kiwi, caches)
    t1 = time.perf_counter()
    classify_many(msgs)
    batch_s = time.perf_counter() - t1
    singles = msgs[: min(len(msgs), 300)]
    lat: list[float] = []
    for m in singles:
        s = time.perf_counter()
        classify(m)
        lat.append((time.perf_counter() - s) * 1000.0)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    return {
        "nlu_messages_per_s": round(len(msgs) / batch_s, 1) if batch_s > 0 else 0.0,
        "nlu_single_messages_per_s": round(1000.0 / statistics.fmean(lat), 1) if lat else 0.0,
        "nlu_p50_ms": round(statistics.median(lat), 3) if lat else 0.0,
        "nlu_p99_ms": round(p99, 3) if lat else 0.0,
        "nlu_messages": len(msgs),
        "nlu_model_load_s": round(load_s, 3),
        "nlu_model_source": model.source,
    }
