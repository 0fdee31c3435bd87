from __future__ import annotations

import io
import json
from collections import Counter

import pytest

from deliveryhub.chatbot.nlu import api
from deliveryhub.chatbot.nlu.model import DATA_DIR, INTENTS, intent_model, read_jsonl

from .conftest import shared_data_dir
from .handwritten import HANDWRITTEN

KEYS = ["text", "intent", "confidence", "escalate", "entities"]


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return intent_model()


def test_corpus_covers_all_intents() -> None:
    train = Counter(r["intent"] for r in read_jsonl(DATA_DIR / "intents_train.jsonl"))
    test = Counter(r["intent"] for r in read_jsonl(DATA_DIR / "intents_test.jsonl"))
    assert set(train) == set(INTENTS) == set(test)
    assert sum(train.values()) >= 3000
    assert 0.12 <= sum(test.values()) / (sum(train.values()) + sum(test.values())) <= 0.30
    train_texts = {r["text"] for r in read_jsonl(DATA_DIR / "intents_train.jsonl")}
    overlap = [r["text"] for r in read_jsonl(DATA_DIR / "intents_test.jsonl") if r["text"] in train_texts]
    assert not overlap


def test_heldout_accuracy(model) -> None:  # type: ignore[no-untyped-def]
    rows = read_jsonl(DATA_DIR / "intents_test.jsonl")
    preds = api.classify_many([r["text"] for r in rows])
    acc = sum(p["intent"] == r["intent"] for p, r in zip(preds, rows, strict=True)) / len(rows)
    assert acc >= 0.90, acc
    recall_rows = [(p, r) for p, r in zip(preds, rows, strict=True) if r["escalate"]]
    recall = sum(p["escalate"] for p, _ in recall_rows) / len(recall_rows)
    assert recall >= 0.90, recall


def test_handwritten_accuracy(model) -> None:  # type: ignore[no-untyped-def]
    assert len(HANDWRITTEN) >= 55
    preds = api.classify_many([t for t, _ in HANDWRITTEN])
    wrong = [(t, e, p["intent"]) for (t, e), p in zip(HANDWRITTEN, preds, strict=True) if p["intent"] != e]
    acc = 1 - len(wrong) / len(HANDWRITTEN)
    assert acc >= 0.80, (acc, wrong)


def test_result_shape_and_entities(model) -> None:  # type: ignore[no-untyped-def]
    res = api.classify("ORD-2024-000123 배송 언제 와요? 블랙 L사이즈요")
    assert list(res) == KEYS
    assert res["intent"] == "track_order"
    assert isinstance(res["confidence"], float) and 0.0 <= res["confidence"] <= 1.0
    assert res["escalate"] is False
    assert res["entities"]["order_id"] == "ORD-2024-000123"
    assert res["entities"]["options"] == ["블랙", "L"]
    assert api.classify("안녕하세요")["entities"] == {}


def test_escalation_in_results(model) -> None:  # type: ignore[no-untyped-def]
    assert api.classify("상담원 연결해주세요")["intent"] == "human_agent"
    assert api.classify("상담원 연결해주세요")["escalate"] is True
    res = api.classify("세 번째 문의입니다 택배가 아직도 안 와요 소비자원에 신고할게요")
    assert res["escalate"] is True
    assert res["intent"] == "delivery_delay"


def test_empty_and_odd_input(model) -> None:  # type: ignore[no-untyped-def]
    res = api.classify("   ")
    assert res["intent"] == "other" and res["confidence"] == 0.0 and res["entities"] == {}
    for odd in ["ㅋ", "?", "🙂🙂", "1234", "a" * 2000, "\t", "ㅠㅠㅠㅠㅠㅠ"]:
        out = api.classify(odd)
        assert out["intent"] in INTENTS
    assert api.classify("1234")["entities"] == {"phone_last4": "1234"}


def test_confident_on_clear_messages(model) -> None:  # type: ignore[no-untyped-def]
    assert api.classify("환불 언제 들어와요?")["confidence"] >= 0.5


def test_stream(model) -> None:  # type: ignore[no-untyped-def]
    inp = io.StringIO("배송 언제 와요?\n\n  \n환불 언제 돼요\r\nThanks!\n")
    out = io.StringIO()
    n = api.run_classify_stream(inp, out)
    lines = out.getvalue().splitlines()
    assert n == 3 and len(lines) == 3
    first = json.loads(lines[0])
    assert list(first) == KEYS and first["text"] == "배송 언제 와요?"
    assert "배송" in lines[0]  # ensure_ascii=False
    assert json.loads(lines[1])["intent"] == "refund_status"


def test_batch_is_consistent_with_single_classification(model) -> None:  # type: ignore[no-untyped-def]
    # Speed is measured by `deliveryhub bench chat`, not by a timed test.
    texts = [t for t, _ in HANDWRITTEN] * 10
    many = api.classify_many(texts)
    assert len(many) == len(texts)
    assert many[0] == api.classify(texts[0])


def test_bench_nlu(model) -> None:  # type: ignore[no-untyped-def]
    res = api.bench_nlu(200)
    assert res["nlu_messages_per_s"] > 50
    assert res["nlu_p50_ms"] > 0


def test_ko_chatbot_smalltalk_is_mostly_other(model) -> None:  # type: ignore[no-untyped-def]
    import csv

    path = shared_data_dir("ko_chatbot_data") / "ChatbotData.csv"
    with path.open(encoding="utf-8") as fh:
        rows = [r["Q"] for r in csv.DictReader(fh)]
    sample = rows[::40]
    preds = api.classify_many(sample)
    share_other = sum(p["intent"] == "other" for p in preds) / len(preds)
    assert share_other >= 0.6, share_other


def test_3i4k_does_not_crash(model) -> None:  # type: ignore[no-untyped-def]
    path = shared_data_dir("ko_3i4k_intent") / "fci_test.txt"
    lines = [ln.rstrip("\r\n").split("\t", 1)[-1] for ln in path.open(encoding="utf-8")][:500]
    preds = api.classify_many(lines)
    assert len(preds) == len(lines)
    assert all(p["intent"] in INTENTS for p in preds)


def test_fresh_handwritten_eval_accuracy(model) -> None:  # type: ignore[no-untyped-def]
    """An independent, hand-written set (rambling, formal, fragments, 초성, slang, ids inside, mixed)."""
    from pathlib import Path

    rows = read_jsonl(Path(__file__).with_name("eval_fresh.jsonl"))
    assert len(rows) >= 150 and {r["intent"] for r in rows} == set(INTENTS)
    train_texts = {r["text"] for r in read_jsonl(DATA_DIR / "intents_train.jsonl")}
    assert not [r["text"] for r in rows if r["text"] in train_texts]  # never copied into training
    preds = api.classify_many([r["text"] for r in rows])
    pairs = zip(rows, preds, strict=True)
    wrong = [(r["text"], r["intent"], p["intent"]) for r, p in pairs if p["intent"] != r["intent"]]
    acc = 1 - len(wrong) / len(rows)
    assert acc >= 0.85, (acc, wrong)


def test_single_message_fast_path_matches_pipeline(model) -> None:  # type: ignore[no-untyped-def]
    """The direct scoring used for chat turns gives scikit-learn's own probabilities."""
    import numpy as np

    from deliveryhub.chatbot.nlu.model import get_model

    texts = ["ORD-2024-000123 언제 와요?", "charged twice", "ㅋ", "   ", "파손됐어요 ㅠㅠ"]
    for name in ("intent", "voc_category", "voc_sentiment"):
        m = get_model(name)
        m.predict(texts[:1])
        assert m._fast is not None, name
        for text in texts:
            fast = m._fast.predict_proba([text])
            slow = m.pipeline.predict_proba([text])
            assert np.allclose(fast, slow, atol=1e-9), (name, text)
