# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""Feature extraction: kiwipiepy morphemes (lazily loaded, once per process) and char n-grams.

Kiwi costs ~520 MB and ~3 s to start, so it is created on first use by :func:`get_kiwi` and kept for
the life of the process. Everything that is pickled into a model (transformers, analyzers) is defined
at module level and holds no Kiwi object, so cached models load without starting Kiwi until they are
used.
"""

from __future__ import annotations

import re
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

    return Kiwi()


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


# Recent single-message analyses: the intent and both VOC models tokenise the same chat message in one
# turn, so Kiwi runs once per message. Bounded; cleared wholesale when full (cheap, and hits are recent).
_MORPH_CACHE: dict[str, list[str]] = {}
_MORPH_CACHE_MAX = 4096
_SMALL_BATCH = 4


def morph_tokens_many(texts: Sequence[str]) -> list[list[str]]:
    """Batch version of :func:`morph_tokens` (one Kiwi call for the whole batch)."""
    if not texts:
        return []
    kiwi = get_kiwi()
    if len(texts) <= _SMALL_BATCH:
        # One message at a time (chat): the string API avoids Kiwi's worker-pool hand-off, which on a
        # busy machine costs more than the analysis itself.
        out: list[list[str]] = []
        for t in texts:
            toks = _MORPH_CACHE.get(t)
            if toks is None:
                toks = (
                    _tokens_from_kiwi(kiwi.tokenize(t))
                    if t.strip()
                    else _tokens_from_kiwi(kiwi.tokenize("."))
                )
                if len(_MORPH_CACHE) >= _MORPH_CACHE_MAX:
                    _MORPH_CACHE.clear()
                _MORPH_CACHE[t] = toks
            out.append(list(toks))
        return out
    safe = [t if t.strip() else "." for t in texts]
    return [_tokens_from_kiwi(toks) for toks in kiwi.tokenize(safe)]


# Hand-written keyword families: each adds a ``HINT_<family>`` token when it matches the spacing-free
# normalised text. They carry domain knowledge to phrasings the corpus has not seen (e.g. 할부 -> payment).
_HINTS: dict[str, re.Pattern[str]] = {
    name: re.compile(rx)
    for name, rx in {
        "payment": r"결제|할부|영수증|쿠폰|적립금|포인트|입금|(?<!메시지)(?<!메세지)(?<!선물)(?<!축하)(?<!생일)(?<!편지)(?<!엽서)카드|페이|청구|charged(?!up)|overcharg|billed|billing|coupon|payment|discount|promo|receipt"
        r"|invoice|세금계산서|전표|checkout|가상계좌|무통장|계좌이체|승인|voucher|billing|할인|쿠폰코드|쿠폰번호|프로모션코드|카드값"
        r"|declined|카드대금",
        "double_charge": r"두번|2번|2건|중복|이중|twice|double",
        "notification": r"알림|알람|알림톡|(메일|문자|카톡)으?로만|수신|푸시|문자|카톡|notification|sms|text|message|이메일알림|메일알림|alert|방해금지|야간|수신거부|unsubscribe|mute",
        "address": r"주소|배송지|수령인|수취인|받는사람|받는분|요청사항|메모|우편번호|동호수|호수|address|recipient|받는곳"
        r"|수령지|공동현관|출입|비번|도착지|목적지|받을곳|보내는곳|배달장소|받는장소|수령장소|redirect|reroute",
        "account": r"(?<!현관)(?<!출입)(?<!대문)비밀번호|password|아이디|로그인|login|회원|account|탈퇴|이메일주소|닉네임|본인인증|가입|sign",
        "business": r"입점|제휴|도매|b2b|대량|단체|협업|partnership|wholesale",
        "stock": r"재입고|재고|품절|입고|단종|stock|soldout|available|예약주문|예약구매|수량|남았|남아있|haveany|willyouhave|restock|다시팔|재판매|다시판매|다시만드|솔드아웃|soldout|backinstock",
        "return": r"반품|반송|회수|돌려보내|return|sendback|수거|착불|보내도",
        "exchange": r"교환|바꿔|바꾸|바꿀|exchange|swap|다른사이즈로|치수|새로보내|새걸로|replacement|교체|체인지|다시보내주|가져가시고|회수해가시고|trade",
        "refund": r"환불|돌려받|돌려줘|돌려주|돈(이나|이라도|을|은)?(돌려|빼줘|빼주)|refund|moneyback|카드취소|결제취소|돈언제|돈이언제|돈은언제|환불금|입금돼|돈이안들어|돈안들어|돈이덜|입금이안|moneyback",
        "cancel": r"취소|cancel|철회|안살래|않살래|주문안할|없던걸로|없던일로|없애|지워|무효로|잘못눌러|void",
        "damaged": r"파손|깨|불량|고장|녹아|녹은|찌그러|부서|망가|금이|흠집|스크래치|기스|찢어|터져|상해|썩|broken|damag"
        r"|defect|crack|crush|누수|새요|작동|안켜|하자|전원|충전이안|소리가안|줄이|뭉개|멍|찌그|smash|doesn'?twork|won'?tturnon"
        r"|won'?tcharge|doesn'?tcharge|notcharging|faulty|deadonarrival|나갔|나감|부러|찍혀|찍힘|휘어|긁혀|금가|금갔|dent|scratch"
        r"|shatter|leak|곰팡이|물러서|물렀|얼룩|오염|실밥|뜯어져|보풀|stain",
        "wrong": r"다른(상품|제품|물건|게|거|색|사이즈|옵션|모델)|잘못(온|왔|배송|보내)|누락|빠져|빠졌|빠뜨|구성품|부속품|오배송"
        r"|수량이(부족|모자)|개수|wrong|notwhatiordered|사은품|증정품|바뀌어|한짝|짝만|아니라|아니고|엉뚱한(게|거|물건|상품)|someoneelse|notmine|남의(물건|택배|주문)",
        "missing": r"분실|배송완료|배달완료|완료(라|로|인데|래|처리|떴|됐)|도난|delivered|lost|stolen|missing|없어졌|사라졌|다른집"
        r"|옆집|다른주소로|다른동|가져간|훔쳐|행방|증발|우리집이아니|집이아니|문이아니|cannotfind|can'?tfind|nosignof"
        r"|neverarrived|못받았|못받음|받은적없|현관이아니|(우리|저희)집(이|은)?아니|남의집",
        "delay": r"늦|지연|아직|며칠째|일주일째|이틀째|째|멈춰|안움직|delay|late|stuck|still|오래걸|느려|기다|hasn'?t|미뤄|밀려"
        r"|언제까지|여태|waiting|takingsolong|forever|overdue|납기|경과|걸어서오|기어서오",
        "track": r"언제|어디|조회|송장|운송장|도착|출발|발송|출고|배송중|where|when|track|ship|몇시|택배사|eta|status|waybill",
        "where_is": r"어디쯤|어디까지|어디에있|whereis|where'?s",
        "human": r"상담원|상담사|사람|직원|연결|통화|전화번호|고객센터|콜센터|담당자|agent|human|person|representative"
        r"|operator|봇말고|someone|customerservice|support",
        "smalltalk": r"안녕|감사|고마|운영시간|영업시간|hello|thank|^hi|bye|날씨|이름|ㅎㅇ|ㅋㅋ|누구|해결됐|알겠|잘받았"
        r"|gotit|okay|^ok|^네|^넵",
        "faq": r"해외|제주|도서산간|군부대|포장|쇼핑백|사이즈표|사이즈추천|사용법|세탁|재질|원산지|리뷰|후기|이벤트|세일|영업일"
        r"|평일|주말에도|앱|어플|사이트|홈페이지|website|app|매장|쇼룸|직영점|울릉도|배송비|택배비|배송료|무료배송|무배"
        r"|shippingcost|shippingfee|deliveryfee|postage|overseas|international",
    }.items()
}


def hint_tokens(text: str) -> list[str]:
    """``HINT_<family>`` tokens for the keyword families found in a normalised text."""
    c = text.replace(" ", "")
    return [f"HINT_{name}" for name, rx in _HINTS.items() if rx.search(c)]


def split_tokens(doc: str) -> list[str]:
    """Analyzer for pre-joined token strings (module level so it pickles)."""
    return doc.split(" ")


class MorphJoiner(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Turns normalised texts into space-joined morpheme token strings (stateless)."""

    def fit(self, x: Sequence[str], y: Any = None) -> MorphJoiner:
        return self

    def transform(self, x: Sequence[str]) -> list[str]:
        return [" ".join(toks) if toks else "<EMPTY>" for toks in morph_tokens_many(list(x))]


class HintJoiner(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Turns normalised texts into space-joined ``HINT_<family>`` tokens (stateless)."""

    def fit(self, x: Sequence[str], y: Any = None) -> HintJoiner:
        return self

    def transform(self, x: Sequence[str]) -> list[str]:
        return [" ".join(hint_tokens(doc)) or "HINT_none" for doc in x]


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
