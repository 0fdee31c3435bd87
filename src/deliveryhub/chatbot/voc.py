# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""VOC (voice of the customer) classification for tickets, chat transcripts and reviews.

``classify_voc(text)`` -> ``{"text", "category", "sentiment"}`` with one of the 11 categories of CS.md
(delivery_delay, wrong_item, damaged, missing, status_notice, cs_response, return_exchange,
product_quality, price_payment, positive, other) and a sentiment (negative / neutral / positive).
A logistic-regression model trained on the shipped ``voc_train.jsonl`` and ``voc_train_phone.jsonl``
(Korean, English and Portuguese) plus a CS lead's relabels (``voc_relabels.jsonl`` and the file named by
``$DELIVERYHUB_VOC_RELABELS``) is combined with a lexicon of cues: an unmistakable cue wins when the model
is unsure, and a relabelled text gets the lead's category.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from deliveryhub.chatbot.nlu.model import DATA_DIR, TextModel, cache_dir, read_jsonl, train_or_load
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.stream import run_stream

CATEGORIES = (
    "delivery_delay",
    "wrong_item",
    "damaged",
    "missing",
    "status_notice",
    "cs_response",
    "return_exchange",
    "product_quality",
    "price_payment",
    "positive",
    "other",
)
SENTIMENTS = ("negative", "neutral", "positive")
CORPUS = (DATA_DIR / "voc_train.jsonl", DATA_DIR / "voc_train_phone.jsonl")
RELABELS_FILE = DATA_DIR / "voc_relabels.jsonl"
RELABELS_ENV = "DELIVERYHUB_VOC_RELABELS"

# "늦" that is not about a parcel: late at night, a late child, the customer's own late check.
_NOT_LATE = r"(밤늦|늦은시간|늦은밤|늦게(확인|봐|봤|연락|문의|답장)|늦둥이|늦잠|늦가을|늦여름|뒤늦게)"
_LATE = re.compile(r"늦")
_CS_SUBJECT = (
    r"(답변|답장|회신|응대|대응|상담|문의|고객센터|콜센터|상담원|상담사|직원|담당자|연락|전화|메일|채팅)"
)
_RETURN = r"(반품|교환|환불|회수|수거|devolu|troca|reembols|estorno|refund|return|exchange)"

# Lexicon cues on the spacing-free normalised text (accents already stripped), most specific first.
_CUES: list[tuple[str, re.Pattern[str]]] = [
    (
        "missing",
        re.compile(
            r"(배송|배달)?완료.{0,14}(못받|없|안왔|사라|비어)|분실|도난|(택배|물건|상품)(이|가)?사라|가져간|naorecebi|naochegou(o|meu)?(produto|pedido)|extravi"
            r"|neverreceived|didn'?t(receive|get)|notreceived|nuncachegou"
        ),
    ),
    (
        "damaged",
        re.compile(
            r"파손|깨져|깨졌|깨짐|금(이)?가|금간|찌그러|부서|부러|박살|불량|고장|녹아|녹은|해동|뭉개|새서|샜|쏟아|스크래치|찍혀|찍힘"
            r"|전원이?(안|아예)|안켜|작동(을|이)?안|먹통이에요$"
            r"|quebrad|danificad|amassad|defeito|broken|damaged|defective|cracked|naofunciona"
        ),
    ),
    (
        "wrong_item",
        re.compile(
            r"오배송|(주문|제것|제꺼|내것|내꺼)이?아닌|잘못(보내|왔|옴|배송)|다른(상품|색|사이즈|제품|모델|물건|게|거|맛|사람|분)|엉뚱한|누락|빠져|구성품|부속품|사은품|"
            r"(개|박스)?(만|뿐)(왔|들어|있)|시켰는데.{1,8}(왔|들어있)|주문했는데.{1,8}(왔|들어있)"
            r"|errad|diferente|faltou|faltando|veioapenas|somenteum|sorecebi(um|1)|wrong(item|size|color|product)|missing(item|part)"
        ),
    ),
    (
        "return_exchange",
        re.compile(
            _RETURN
            + r".{0,16}(언제|처리|늦|느려|안되|안돼|아직|가능|얼마|접수|진행|기사|안오|안와|안해)|(반품|교환|환불)(비|신청|요청)"
        ),
    ),
    (
        "price_payment",
        re.compile(
            r"결제(가|를|이)?(취소|오류|에러|실패|안|두번|중복|됐는데)|이중결제|중복결제|쿠폰|할인|적립금|포인트|입금|청구|차액|영수증|두번(빠져|찍|나갔)|cobra|boleto|charged|coupon"
        ),
    ),
    (
        "cs_response",
        re.compile(
            _CS_SUBJECT
            + r".{0,14}(없|안받|안와|늦|느려|불친절|짜증|대기|통화중|연결(이)?안|안돼|안되|읽지|무시)"
            r"|(답변|답장|회신).{0,6}빨리|빨리.{0,4}(답변|답장|회신)|불친절|반말|읽씹|무응답|복붙|돌리기만|떠넘|atendimento|sac|customerservice|support"
        ),
    ),
    (
        "status_notice",
        re.compile(
            r"(조회|송장|운송장|트래킹|추적|링크).{0,12}(안돼|안되|안됨|안나|없음|정보없|오류|에러|먹통|안떠|다르)"
            r"|(알림|알림톡|문자|카톡|안내|연락).{0,10}(안왔|안와|안옴|못받|없이|없어|없네|엉망|틀|바뀌|뒤에|늦게)"
            r"|(안내|알림|공지)(가|도)?(없|미흡|부족)|(송장|운송장)(번호)?(를|도)?(안|못)알려|rastre|tracking|notification"
        ),
    ),
    (
        "delivery_delay",
        re.compile(
            r"지연|빨리(좀)?보내|느려|느리|느림|오래걸|안와|안오|안옴|언제와|언제오|언제옴|언제받|(일|주)째|밀렸|미뤄|미루|연기|예정일.{0,6}지났|감감"
            r"|atras|demor|prazo(passou|estourou|venceu)|foradoprazo|late|delay|slow|took(forever|weeks)"
        ),
    ),
    (
        "product_quality",
        re.compile(
            r"품질|퀄리티|재질|소재|원단|마감|보풀|냄새|사이즈가|작아요|커요|작게나|크게나|사진(이랑|과|하고)|색감|설명(이랑|과)|얇|qualidade|tamanho|quality|asdescribed"
        ),
    ),
    (
        "positive",
        re.compile(
            r"좋아|좋네|딱이|딱좋|예뻐|이뻐|잘쓰고|만족|최고|감사|빨리왔|빠르|빨라|빠름|추천|재구매|번창|굿|맘에들|마음에들|otimo|excelente|bom|recomendo|adorei|perfeito|antesdoprazo"
            r"|great|excellent|love|satisfied|fast|recommend|perfect|gost|indico|prestativ|parabens|tudocerto|noprazo"
            r"|dentrodoprazo|rapid|bemembalad|boaqualidade|atendeu|sensaciona|satisfeit|confiav"
        ),
    ),
]
_NEG = re.compile(
    r"안|못|없|늦|별로|최악|실망|불만|nao|nunca|pessim|ruim|nao|not|never|bad|worst|terrible|poor"
)
_CUE_OVERRIDE_BELOW = 0.45
# a study-category cue (delay, wrong item, damage, notice, CS response) also wins over a fairly sure model
_STRONG_CUE_BELOW = 0.7
_STRONG = frozenset(
    {
        "missing",
        "damaged",
        "wrong_item",
        "status_notice",
        "cs_response",
        "delivery_delay",
        "return_exchange",
        "price_payment",
    }
)
# categories whose texts may be praise or neutral questions; all others are complaints
_MIXED_SENTIMENT = frozenset({"other", "price_payment", "cs_response", "return_exchange", "product_quality"})


def compact(text: str) -> str:
    """The normalised text without spaces (what cues and relabels are matched on)."""
    return normalize(text).replace(" ", "")


def _late(compact_text: str) -> bool:
    return bool(_LATE.search(re.sub(_NOT_LATE, "", compact_text)))


def cue_category(compact_text: str) -> str | None:
    """The category of the first cue that matches the spacing-free normalised text, if any."""
    for category, rx in _CUES:
        if category == "delivery_delay" and _late(compact_text):
            return category
        if rx.search(compact_text):
            return category
    return None


def relabel_files() -> list[Path]:
    """The relabel corpora the next model trains on: the shipped file and ``$DELIVERYHUB_VOC_RELABELS``."""
    extra = os.environ.get(RELABELS_ENV)
    paths = [RELABELS_FILE, *([Path(extra)] if extra else [])]
    return [p for p in paths if p.is_file() and p.stat().st_size > 0]


class VocModels:
    """The category and sentiment models plus the relabelled texts (exact match on the compact text)."""

    def __init__(self, category: TextModel, sentiment: TextModel, relabels: dict[str, str]) -> None:
        self.category = category
        self.sentiment = sentiment
        self.relabels = relabels


_lock = threading.Lock()
_loaded: dict[tuple[Any, ...], VocModels] = {}


def _key(paths: Sequence[Path]) -> tuple[Any, ...]:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


def load_models(directory: Path | None = None) -> VocModels:
    """Load (or train and cache) the VOC models for the current corpora and relabels."""
    relabels = relabel_files()
    key = (str(directory or cache_dir()), *_key([*CORPUS, *relabels]))
    with _lock:
        found = _loaded.get(key)
        if found is not None:
            return found
        category = train_or_load(
            # a model with relabels caches under its own name: it never evicts the shipped corpus's model
            "voc2_category_relabelled" if relabels else "voc2_category",
            [*CORPUS, *relabels],
            "category",
            c=8.0,
            directory=directory,
            extra="intent_as_voc",
        )
        sentiment = train_or_load(
            "voc2_sentiment", list(CORPUS), "sentiment", c=4.0, directory=directory, extra="intent_as_voc"
        )
        memory: dict[str, str] = {}
        for path in relabels:
            for row in read_jsonl(path):
                if row.get("category") in CATEGORIES and compact(str(row.get("text", ""))):
                    memory[compact(str(row["text"]))] = str(row["category"])
        _loaded.clear()
        _loaded[key] = VocModels(category, sentiment, memory)
        return _loaded[key]


def reset_voc_models() -> None:
    """Forget the loaded VOC models (the next call retrains or reloads for the current relabels)."""
    with _lock:
        _loaded.clear()


def _top(proba: dict[str, float], compact_text: str) -> tuple[str, float]:
    """The model's best category; a delay read only from a "늦" that is not about a parcel goes to the next."""
    ranked = sorted(proba.items(), key=lambda kv: -kv[1])
    best = ranked[0]
    if best[0] == "delivery_delay" and "늦" in compact_text and not _late(compact_text):
        delay_rx = dict(_CUES)["delivery_delay"]
        if not delay_rx.search(compact_text) and len(ranked) > 1:
            return ranked[1]
    return best


def _result(
    text: str, proba: dict[str, float] | None, sent: tuple[str, float] | None, relabels: dict[str, str]
) -> dict[str, Any]:
    if proba is None or sent is None:
        return {"text": text, "category": "other", "sentiment": "neutral"}
    compact_text = compact(text)
    category, conf = _top(proba, compact_text)
    relabelled = relabels.get(compact_text)
    if relabelled is not None:
        category = relabelled
    elif conf < _STRONG_CUE_BELOW:
        cue = cue_category(compact_text)
        if cue is not None and (conf < _CUE_OVERRIDE_BELOW or cue in _STRONG):
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
    cats: dict[int, dict[str, float]] = {}
    sents: dict[int, tuple[str, float]] = {}
    models = load_models() if live else None
    if models is not None:
        batch = [items[i] for i in live]
        for i, c, s in zip(
            live, models.category.predict_proba(batch), models.sentiment.predict(batch), strict=True
        ):
            cats[i] = c
            sents[i] = s
    relabels = models.relabels if models is not None else {}
    return [_result(t, cats.get(i), sents.get(i), relabels) for i, t in enumerate(items)]


def classify_voc(text: str) -> dict[str, Any]:
    """Classify one VOC text: ``{"text", "category", "sentiment"}``."""
    return classify_voc_many([text])[0]


def run_voc_stream(inp: TextIO, out: TextIO) -> int:
    """One text per input line -> one JSON line each (blank lines skipped); returns the count."""
    return run_stream(inp, out, classify_voc_many, batch=256, interactive=False)
