# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""VOC (voice of the customer) classification for tickets, chat transcripts and reviews.

``classify_voc(text)`` -> ``{"text", "category", "sentiment"}`` with one of the 11 categories of CS.md
(delivery_delay, wrong_item, damaged, missing, status_notice, cs_response, return_exchange,
product_quality, price_payment, positive, other) and a sentiment (negative / neutral / positive).
A logistic-regression model trained on the shipped ``voc_train.jsonl`` (Korean, English and Portuguese)
is combined with a small lexicon of unmistakable cues, which wins when the model is unsure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TextIO

from deliveryhub.chatbot.nlu.model import get_model
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.stream import run_stream

CATEGORIES = (
    "delivery_delay", "wrong_item", "damaged", "missing", "status_notice", "cs_response", "return_exchange",
    "product_quality", "price_payment", "positive", "other",
)
SENTIMENTS = ("negative", "neutral", "positive")

# Lexicon cues on the spacing-free normalised text (accents already stripped).
_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("missing", re.compile(r"배송완료.{0,12}(못받|없|안왔)|분실|도난|naorecebi|naochegou(o|meu)?(produto|pedido)|extravi"
                           r"|neverreceived|didn'?t(receive|get)|notreceived|nuncachegou")),
    ("damaged", re.compile(r"파손|깨져|깨졌|찌그러|부서|불량|고장|녹아|quebrad|danificad|amassad|defeito|broken|damaged"
                           r"|defective|cracked|naofunciona")),
    ("wrong_item", re.compile(r"오배송|다른(상품|색|사이즈|제품)|누락|빠져|구성품|errad|diferente|faltou|faltando|veioapenas"
                              r"|somenteum|sorecebi(um|1)|wrong(item|size|color|product)|missing(item|part)")),
    ("delivery_delay", re.compile(r"늦|지연|느려|오래걸|atras|demor|prazo(passou|estourou|venceu)|foradoprazo|late|delay|slow|took(forever|weeks)")),
    ("status_notice", re.compile(r"조회(가|이)?안|알림|문자(가|를|도)?(안|못)|rastre|tracking|notification")),
    ("cs_response", re.compile(r"불친절|응대|고객센터|상담원|답변(이|도)?없|atendimento|sac|customerservice|support")),
    ("return_exchange", re.compile(r"반품|교환|환불|회수|devolu|troca|reembols|estorno|refund|return|exchange")),
    ("price_payment", re.compile(r"결제|쿠폰|할인|가격|비싸|cobra|boleto|preco|frete|charged|coupon|price|expensive")),
    ("product_quality", re.compile(r"품질|재질|사이즈가|작아요|커요|사진이랑|qualidade|tamanho|quality|asdescribed")),
    ("positive", re.compile(r"좋아|만족|최고|감사|빨리왔|빠르|추천|otimo|excelente|bom|recomendo|adorei|perfeito|antesdoprazo"
                            r"|great|excellent|love|satisfied|fast|recommend|perfect|gost|indico|prestativ|parabens|tudocerto|noprazo"
                            r"|dentrodoprazo|rapid|bemembalad|boaqualidade|atendeu|sensaciona|satisfeit|confiav")),
]
_NEG = re.compile(r"안|못|없|늦|별로|최악|실망|불만|nao|nunca|pessim|ruim|nao|not|never|bad|worst|terrible|poor")
_CUE_OVERRIDE_BELOW = 0.45
# categories whose texts may be praise or neutral questions; all others are complaints
_MIXED_SENTIMENT = frozenset({"other", "price_payment", "cs_response", "return_exchange", "product_quality"})


def _cue_category(compact_text: str) -> str | None:
    for category, rx in _CUES:
        if rx.search(compact_text):
            return category
    return None


def _result(text: str, cat: tuple[str, float] | None, sent: tuple[str, float] | None) -> dict[str, Any]:
    if cat is None or sent is None:
        return {"text": text, "category": "other", "sentiment": "neutral"}
    category, conf = cat
    compact_text = normalize(text).replace(" ", "")
    if conf < _CUE_OVERRIDE_BELOW:
        cue = _cue_category(compact_text)
        if cue is not None:
            category = cue
    sentiment = sent[0]
    if category == "positive":
        sentiment = "positive"
    elif category not in _MIXED_SENTIMENT or (
        sentiment == "positive" and category != "other" and _NEG.search(compact_text)
    ):
        sentiment = "negative"
    return {"text": text, "category": category, "sentiment": sentiment}


def classify_voc_many(texts: Sequence[str]) -> list[dict[str, Any]]:
    """Classify a batch of VOC texts."""
    items = [str(t) for t in texts]
    live = [i for i, t in enumerate(items) if normalize(t)]
    cats: dict[int, tuple[str, float]] = {}
    sents: dict[int, tuple[str, float]] = {}
    if live:
        batch = [items[i] for i in live]
        for i, c, s in zip(
            live, get_model("voc_category").predict(batch), get_model("voc_sentiment").predict(batch), strict=True
        ):
            cats[i] = c
            sents[i] = s
    return [_result(t, cats.get(i), sents.get(i)) for i, t in enumerate(items)]


def classify_voc(text: str) -> dict[str, Any]:
    """Classify one VOC text: ``{"text", "category", "sentiment"}``."""
    return classify_voc_many([text])[0]


def run_voc_stream(inp: TextIO, out: TextIO) -> int:
    """One text per input line -> one JSON line each (blank lines skipped); returns the count."""
    return run_stream(inp, out, classify_voc_many, batch=256, interactive=False)
