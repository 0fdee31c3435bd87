from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter

import pytest

from deliveryhub.chatbot.nlu.model import DATA_DIR, read_jsonl
from deliveryhub.chatbot.voc import (
    CATEGORIES,
    SENTIMENTS,
    classify_voc,
    classify_voc_many,
    compact,
    cue_category,
    run_voc_stream,
)

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


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # tuning examples (dev list of the phone round, issue 18 item 5)
        ("결제하고 닷새째 출고 소식이 없네요", "delivery_delay"),
        ("배송ㅈㄴ느림", "delivery_delay"),
        ("빨강 시켰는데 파랑 옴", "wrong_item"),
        ("제 주문이 아닌 물건이 도착했어요", "wrong_item"),
        ("박스 뜯으니까 화장품이 다 터져있네요", "damaged"),
        ("조회해도 배송정보없음 ㅡㅡ", "status_notice"),
        ("택배사 바뀐거 말도 없이 보내셨네요", "status_notice"),
        ("전화 왜 안받으세요", "cs_response"),
        ("고객센터 연결 진짜 안됨", "cs_response"),
        # "늦" that is not about the parcel
        ("환불 아직인가요 밤늦게 죄송합니다", "return_exchange"),
        ("교환 요청 늦게 해서 죄송한데 가능할까요", "return_exchange"),
        ("늦은 시간인데 결제 오류 좀 봐주세요", "price_payment"),
        ("늦둥이 조카 선물로 딱이에요", "positive"),
    ],
)
def test_phone_examples(text: str, category: str) -> None:
    assert classify_voc(text)["category"] == category


def test_late_cue_ignores_late_night_and_late_check() -> None:
    assert cue_category(compact("배송이 너무 늦어요")) == "delivery_delay"
    assert cue_category(compact("밤늦게 죄송해요 쿠폰 적용이 안 돼요")) == "price_payment"
    assert cue_category(compact("답변이 너무 늦어요")) == "cs_response"
    assert cue_category(compact("늦둥이 선물")) is None
