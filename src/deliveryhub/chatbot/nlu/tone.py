# ruff: noqa: E501  -- Korean lexicon lines: ruff counts Hangul as double width.
"""The intent under the tone (issue 18 item 3): small corrections of the classifier's intent that depend
on how the message is said, applied after the model and the escalation rules.

* **pure feedback** -- thanks, praise or "괜찮아요" with no request, no question and no failure
  ("빨리 왔네요 좋아요", "상자는 찌그러졌는데 물건은 괜찮아요 참고하세요") is ``other``: nothing to do
  about an order, although it names delivery words;
* **harm** -- a person hurt or a safety risk from a product is ``damaged_item`` (the claim for a
  defective product), when the model has no product problem in view (``other``, ``track_order`` ...);
* **angry "where is it"** -- a message that escalates with a wait or a non-shipment in it and does not
  ask for the tracking number is a complaint that it is late (``delivery_delay``), not a tracking
  request (``track_order``).
"""

from __future__ import annotations

import re

from deliveryhub.chatbot.nlu.escalation import problem_families, problem_order
from deliveryhub.chatbot.nlu.normalize import any_of as _rx
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.stance import FAILURE, PAST_CONTRAST

_POSITIVE = _rx(
    r"번창|응원|믿고|추천할게|또올게|또살게|재구매할게|또주문할게|좋아요|좋네요|좋습니다|좋았어요|만족|감사|고마|친절하셨|친절하시네|최고|대박|예뻐|예쁘네|맘에들|마음에들|잘받았|잘왔|잘도착|잘쓸|잘쓰고|잘입",
    r"빠르네|빨라서|빨리왔|빨리오|일찍왔|일찍와|하루만에|이틀만에|감동|훌륭|꼼꼼하|센스",
)
_ACCEPT = _rx(
    r"괜찮아요|괜찮습니다|괜찮네요|상관없어요|상관없습니다|신경쓰지마|참고만|참고하세요|참고해주세요|천천히보내|천천히주"
)
# A request or a question: then the message asks for something and the model's intent stands.
_ASKS = _rx(
    r"\?|나요|까요|가요|는지|은지|ㄴ지|인지|주세요|줘요|주실|해줘|해주|부탁|되나|될까|할까|하나요|있나요|있을까|언제|어디|어떻게|얼마|몇|원해|싶어요|싶은데|싶습니다|하려고|할게요|바꿔|교환|환불|반품|취소",
)
_DELAY = _rx(
    r"안보내|안보냄|안와|안오|안옴|안왔|늦|지연|(\d|일|주|달|며칠|몇일|보름|열흘)째|아직|여태|기다|감감|소식(이)?없|출고(가)?안|발송(이)?안|보낼생각|보내긴|보내실"
)
_TRACK_ASK = _rx(
    r"송장|운송장|조회해|조회좀|번호(좀|를|알려)|어디쯤|어디에있|위치|shipped|tracking|whereis|status"
)
# A problem named, even when thanks close the message ("분실 처리 감사합니다").
_PROBLEM = _rx(r"분실|잘못|옆집|남의|다른집|못받|없어졌|도난|안됐|안돼|안되|누락|파손|불량|고장|오배송|지연")
_HARM_KEEP = frozenset({"damaged_item"})
_HARM_FROM = frozenset(
    {"other", "track_order", "stock_inquiry", "notification_issue", "delivery_delay", "human_agent"}
)


_COMING_BACK = _rx(r"(또|다시|재)(주문|구매|올|살|이용)(할|하)?(게요|께요|겠습니다)")


def pure_feedback(c: str) -> bool:
    """Thanks, praise or acceptance with nothing asked and no failure left (spacing-free normalised text)."""
    if not (_POSITIVE.search(c) or _ACCEPT.search(c)) or _ASKS.search(_COMING_BACK.sub("", c)):
        return False
    rest = PAST_CONTRAST.sub("", c)
    if _ACCEPT.search(c):  # a small problem reported and let go ("찌그러졌는데 물건은 괜찮아요 참고하세요")
        return bool(FAILURE.search(rest) or _PROBLEM.search(rest) or _POSITIVE.search(c))
    if _PROBLEM.search(rest) or problem_families(rest):
        return False
    return FAILURE.search(rest) is None or re.search(r"(없이|안깨|멀쩡|이상없)", c) is not None


_PHISHING = _rx(
    r"스미싱|피싱|사칭|사기(문자|전화|링크|메일|메시지|톡)|이상한링크|수상한(문자|링크)|링크(눌러|열어|클릭)"
)
_CARD_DISPUTE = _rx(
    r"카드(사|회사)(에|에다|쪽|한테|랑)?.{0,10}(차지백|이의|분쟁|민원|취소요청|결제취소|신고|접수|요청)|차지백|지급정지"
)
_CONCEDE = _rx(
    r"(것|거|건)?도(모자라|참았|넘어가|이해하|그렇다치|봐줬)|(은|는)그렇다(치|쳐)|(열어|뜯어|받아|꺼내)보니"
)
_REFUND_WORD = _rx(r"환불|refund")
# The claim intent of each problem family (escalation.problem_order).
FAMILY_INTENT = {
    "late": "delivery_delay",
    "missing": "missing_delivery",
    "wrong": "wrong_item",
    "damaged": "damaged_item",
    "refund": "refund_status",
    "payment": "payment_issue",
    "address": "change_address",
}
# Words of an order or a parcel: without them a complaint about contacting the shop is ``other``.
_ORDER_WORDS = _rx(
    r"배송|택배|물건|상품|주문|도착|출고|발송|송장|운송장|조회|터미널|반품|교환|환불|취소|결제|주소|재고|입고",
    r"order|deliver|ship|track|package|parcel|arriv|refund|return|exchange|cancel|payment",
)
_CONTACT = _rx(r"전화|문의|연락|답변|답장|회신|상담|채팅|톡|메일|글|물어|여쭤|call|email|contact|answer|repl")
_CONTACT_ONLY = frozenset({"delivery_delay", "track_order"})


# Wider topic words than the escalation families, used only to name the intent of an angry message the
# model called ``other`` (a hand-off never depends on them).
_TOPICS: dict[str, re.Pattern[str]] = {
    "damaged_item": _rx(
        r"깨|파손|찌그러|젖|불량|고장|망가|부러|부서|찢|터져|터진|열려|뜯겨|뜯긴|샜|흠집|스크래치|기스|얼룩|냄새|곰팡|녹아|상했|변질"
    ),
    "wrong_item": _rx(
        r"다른(거|게|걸|색|사이즈|상품|물건)|딴판|엉뚱|누락|빠져|빠졌|짝퉁|가품|중고|입었던|쓰던|반만|모자라"
    ),
    "missing_delivery": _rx(r"분실|없어졌|사라졌|(다른|남의)(사람|집)|옆집|못받았"),
    "refund_status": _rx(r"환불|돈(을|은|이)?(돌려|언제|안들어)"),
    "delivery_delay": _rx(
        r"(배송|발송|출고)(은|이|가|도)?안|안와|안오|안보내|늦|지연|언제까지|준비중|출발(도)?안"
    ),
}


def _first_topic(c: str) -> str | None:
    found = [(m.start(), name) for name, rx in _TOPICS.items() if (m := rx.search(c))]
    return min(found)[1] if found else None


def adjust_intent(text: str, intent: str, reasons: list[str]) -> str:
    """The intent after the tone corrections above (``reasons`` from escalation_reasons)."""
    c = normalize(text).replace(" ", "")
    if not reasons and intent != "other" and pure_feedback(c):
        return "other"
    if "harm" in reasons and intent not in _HARM_KEEP and intent in _HARM_FROM:
        return "damaged_item"
    if (
        reasons
        and intent == "track_order"
        and (_DELAY.search(c) or "long_wait" in reasons)
        and not _TRACK_ASK.search(c)
    ):
        return "delivery_delay"
    if _PHISHING.search(c) and intent == "notification_issue":
        return "other"  # a message the shop did not send is not a notification preference
    if reasons:
        if (
            _CARD_DISPUTE.search(c)
            and intent in {"refund_status", "other", "cancel_order"}
            and not _REFUND_WORD.search(c)
        ):
            return "payment_issue"  # a dispute with the card company is about the payment
        claims = [FAMILY_INTENT[f] for f in problem_order(text) if f in FAMILY_INTENT]
        if "multi_problem" in reasons and len(claims) >= 2:
            # several problems: money taken twice first; else the first one named, unless it is conceded
            # ("…도 참았는데", "…것도 모자라") or the last is what opening the parcel showed ("열어보니")
            if "payment_issue" in claims:
                return "payment_issue"
            return claims[-1] if _CONCEDE.search(c) else claims[0]
        if claims and intent == "other":
            return claims[0]  # anger about a named problem: the claim for that problem
        if intent == "other" and (topic := _first_topic(c)) is not None:
            return topic  # the same, from the wider topic words (intent only, never a hand-off reason)
        if intent in _CONTACT_ONLY and not claims and _CONTACT.search(c) and not _ORDER_WORDS.search(c):
            return "other"  # "전화를 열 번 했는데 아무도 안 받네요": about reaching the shop, no order named
    return intent
