from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter

import pytest

from deliveryhub.chatbot.nlu.model import DATA_DIR, read_jsonl
from deliveryhub.chatbot.voc import CATEGORIES, SENTIMENTS, classify_voc, classify_voc_many, run_voc_stream

from .conftest import shared_data_dir


def test_corpus_covers_categories() -> None:
    train = Counter(r["category"] for r in read_jsonl(DATA_DIR / "voc_train.jsonl"))
    assert set(train) == set(CATEGORIES)
    sentiments = {r["sentiment"] for r in read_jsonl(DATA_DIR / "voc_train.jsonl")}
    assert sentiments == set(SENTIMENTS)


def test_heldout_voc_accuracy() -> None:
    rows = read_jsonl(DATA_DIR / "voc_test.jsonl")
    preds = classify_voc_many([r["text"] for r in rows])
    cat = sum(p["category"] == r["category"] for p, r in zip(preds, rows, strict=True)) / len(rows)
    sent = sum(p["sentiment"] == r["sentiment"] for p, r in zip(preds, rows, strict=True)) / len(rows)
    assert cat >= 0.70, cat
    assert sent >= 0.72, sent


@pytest.mark.parametrize(
    ("text", "category", "sentiment"),
    [
        ("배송이 너무 늦었어요 일주일 걸렸네요", "delivery_delay", "negative"),
        ("블랙 시켰는데 화이트가 왔어요", "wrong_item", "negative"),
        ("컵이 깨져서 왔어요", "damaged", "negative"),
        ("배송완료라고 뜨는데 물건을 못 받았어요", "missing", "negative"),
        ("상담원이 너무 불친절했어요", "cs_response", "negative"),
        ("환불 처리가 너무 느려요", "return_exchange", "negative"),
        ("결제가 두 번 됐어요", "price_payment", "negative"),
        ("배송도 빠르고 제품도 너무 좋아요", "positive", "positive"),
        ("produto chegou antes do prazo, otimo", "positive", "positive"),
        ("o produto atrasou muito", "delivery_delay", "negative"),
        ("não recebi o produto", "missing", "negative"),
        ("chegou quebrado", "damaged", "negative"),
        ("Delivery was very late", "delivery_delay", "negative"),
        ("Great product, fast shipping!", "positive", "positive"),
    ],
)
def test_examples(text: str, category: str, sentiment: str) -> None:
    res = classify_voc(text)
    assert list(res) == ["text", "category", "sentiment"]
    assert res["text"] == text
    assert (res["category"], res["sentiment"]) == (category, sentiment)


def test_odd_input_does_not_crash() -> None:
    for odd in ["", "   ", "ㅋ", "?", "日本語のレビュー", "Ótimo!!! 😀", "x" * 5000]:
        res = classify_voc(odd)
        assert res["category"] in CATEGORIES and res["sentiment"] in SENTIMENTS
    assert classify_voc("") == {"text": "", "category": "other", "sentiment": "neutral"}


def test_stream() -> None:
    out = io.StringIO()
    n = run_voc_stream(io.StringIO("배송 느려요\n\n좋아요 ^^\n"), out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert n == 2 and len(lines) == 2
    assert lines[0]["text"] == "배송 느려요" and "배송" in out.getvalue()


def test_olist_classified_reviews() -> None:
    path = shared_data_dir("olist") / "classified_reviews" / "olist_classified_public_dataset.csv.gz"
    accept = {
        "satisfeito": {"positive"},
        "antes_prazo": {"positive"},
        "atrasado": {"delivery_delay", "missing", "status_notice"},
        "entrega_parcial": {"wrong_item", "missing"},
        "baixa_qualidade": {"product_quality", "damaged"},
        "diferente_do_anunciado": {"product_quality", "wrong_item"},
        "devolucao": {"return_exchange"},
    }
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if r.get("most_voted_subclass") in accept and (r.get("review_comment_message") or "").strip()
        ]
    assert len(rows) > 1000
    preds = classify_voc_many([r["review_comment_message"] for r in rows])
    hits = sum(p["category"] in accept[r["most_voted_subclass"]] for p, r in zip(preds, rows, strict=True))
    accuracy = hits / len(rows)
    assert accuracy >= 0.72, accuracy
    # sentiment: satisfied reviews mostly positive, late ones mostly negative
    pos = [p for p, r in zip(preds, rows, strict=True) if r["most_voted_subclass"] == "satisfeito"]
    late = [p for p, r in zip(preds, rows, strict=True) if r["most_voted_subclass"] == "atrasado"]
    assert sum(p["sentiment"] == "positive" for p in pos) / len(pos) >= 0.8
    assert sum(p["sentiment"] == "negative" for p in late) / len(late) >= 0.75
