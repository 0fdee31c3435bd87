# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""Escalation signals (hand-off to a human) found in a single message, per CS.md.

``escalation_reasons(text, intent=None)`` returns the list of reasons among ``human_request``,
``threat`` (소비자원/경찰/고소/변호사/사기/신고...), ``anger`` (insults, swearing, strong anger),
``repeat_contact`` (세 번째 문의, 몇 번을..., the same mistake again), ``multi_problem`` (two or more distinct
problems at once), ``long_wait`` (a wait of a week or more: "2주째", "한 달이 다 되도록") and ``harm`` (a
person hurt or a safety risk). Quiet anger -- rhetorical questions, sarcasm, accusations, regulators,
card-company disputes and review threats -- comes from :mod:`deliveryhub.chatbot.nlu.quiet`.
``should_escalate`` is ``bool(escalation_reasons(...))``. Session-level rules (low confidence twice in a
row, claim amount, VIP) belong to the conversation layer, not here.
"""

from __future__ import annotations

import re

from deliveryhub.chatbot.nlu.normalize import any_of as _rx
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.quiet import quiet_cues
from deliveryhub.chatbot.nlu.stance import benign_mention, stance_cues

# Matched against the normalised text with all spaces removed (spacing-insensitive).
_HUMAN = _rx(
    r"상담(원|사|직원|사님|원님|원분|원한테|원이랑|원과|원하고|원연결|원좀|원바꿔)",
    r"(사람|직원|매니저|담당자|책임자|실무자|관리자|점장|팀장|윗사람)(이랑|하고|과|와|한테|에게|분)?(연결|바꿔|통화|얘기|이야기|대화|불러|부탁|나와|있어|없어|원해)",
    r"사람(이랑|하고|과|와|한테)?(상담|말|얘기|대화)",
    r"(진짜|실제|살아있는)사람",
    r"사람(좀|이)?(불러|바꿔|연결)",
    r"(전화|통화|유선)(상담|연결|로상담|로얘기|로이야기)",
    r"상담(연결|요청|신청|받고싶|하고싶|원해|부탁|좀해)",
    r"(콜센터|고객센터|상담센터)(에|로)?(연결|전화번호|번호|통화|전화|연락처)",
    r"(사람|직원|상담원)(이|한테|께서)?(봐|처리해|확인해|해결해)(줘야|주셔야|주세요)",
    r"봇(말고|아니고|은됐|은그만|이랑말고|이랑은)",
    r"(챗봇|로봇|기계|자동응답|ai)(말고|아니고|은됐|은그만|이랑은|랑말고|랑얘기하기싫)",
    r"humanagent|realperson|realhuman|talktoa(person|human|agent|representative)|speaktoa",
    r"(want|need)(a|an|to)?(human|person|agent|representative|operator)",
    r"(connect|transfer|put)me(through)?(to|with)",
    r"representative|(chat|talk|speak)(to|with)(someone|somebody|aperson|ahuman|anagent)",
    r"customer(service)?(rep|representative|agent)",
    r"livechat|liveagent|atendente|falarcomalguem",
)
_THREAT = _rx(
    r"소비자(원|보호원|단체|고발|센터)",
    r"소보원",
    r"공정(위|거래위)",
    r"경찰|신고(할|하겠|합니다|해버|하러|넣|접수|했|예정|각)|신고할",
    r"고소|고발(할|하겠|합니다|조치)?",
    r"변호사|법적(조치|대응|절차|책임)|소송|법원|내용증명",
    r"사기(꾼|업체|치|당|같|죠|냐|네|잖|쇼핑몰|아니|인가|입니|판매|업자|야|예요|에요|다)|사기$|사기\b",
    r"민원(넣|제기|접수|을넣|걸|올리)|국민신문고|카드사(에)?(이의|분쟁|민원)",
    r"(언론|방송|기자)(에)?(제보|알리)|(커뮤니티|인터넷|sns|블로그|카페)(에)?.{0,3}(올리|올릴|퍼뜨|까발)|리뷰폭탄|별점테러",
    r"procon|processar|advogado|fraude|policia",
)
# English words are matched on the spaced text with word boundaries ("sms came" must not read "scam").
_THREAT_WORDS = re.compile(
    r"\b(lawyers?|lawsuit|sue|suing|police|scam(mers?|med)?|fraud|consumer (agency|protection)|legal action"
    r"|attorneys?|golpe)\b"
)
_ANGER = _rx(
    r"(?<!다)시발|씨발|씨팔|시팔|ㅅㅂ|ㅆㅂ|ㅂㅅ|병신|븅신|개새|개색|새끼|존나|졸라|좆|지랄|미친(놈|년|거|것|회사|업체|새|x|놈들|ㄴ|곳)?",
    r"꺼져라|꺼져버|꺼지라|닥쳐|엿먹|빡치|빡쳐|빡침|열받|열받네|열불|어이(가)?없|어이상실|장난(하|치|쳐|까|함|해)",
    r"화(가)?(나|납|났|난다|나네|나요|치밀)|짜증(나|난|납|내|이)|분노|최악|쓰레기|개판|엉망진창",
    r"죽을래|죽여|책임(져|지세요|자나와|자불러|지라)|가만안|가만두지|두고보|두고봐",
    r"양심(이)?(없|좀)|뭐하는(회사|곳|거|짓)|일(을)?(이따위|이렇게밖에)|이따위|장사(를)?(이렇게|똑바로)|똑바로(해|하세요|일)",
    r"(일처리|처리)(가)?(개|진짜)?(엉망|개판)|한심|무능|기가막히|기가막혀|환장|미치겠|미쳐버리|돌겠",
    r"wtf|fuck|shit|damn(it)?|terrible|worstservice|ridiculous|unacceptable|furious|angry|disgusting",
    r"absurdo|palhacada|pessimo|vergonha|lixo",
)
_REPEAT = _rx(
    r"(세|네|다섯|3|4|5|여러|몇)(번|번째|차|째)(문의|연락|전화|말씀|얘기|글|질문|남기|요청|접수|묻)",
    r"(세|네|다섯|3|4|5|몇)번째(에요|예요|입니다|인데|임|야|다|네요|라고|요|인지)",
    r"(세|네|다섯|3|4|5|6|7|8|9|10|수십|여러|몇)번째(문의|연락|전화|요청|얘기|말|글|상담)",
    r"몇번(을|이나|째|씩)|몇번(이고|을더)?(말|얘기|문의|물어|연락|전화)",
    r"(벌써|이미|계속|자꾸|또|매번|여러번|수차례|몇차례|몇일째|며칠째|일주일째)(문의|연락|전화|말씀|얘기|물어|같은질문|똑같은)",
    r"(문의|연락|전화|말|얘기)(를|을)?(몇번|여러번|계속|수차례|몇차례|또)(했|드렸|하는데|드리는데|해도|했는데)",
    r"같은(말|얘기|질문|문의)(을|를)?(몇번|계속|또|반복|여러번)",
    r"답변(이|도)?(계속|또|매번)(없|안와|똑같|복붙)|(계속|또|매번|여전히)(답|답변|연락)(이|도)?(없|안)",
    r"(third|3rd|fourth|4th|fifth)(time|contact|message|request|email)|(asked|contacted|called|written)"
    r"(you)?(three|four|five|several|many|multiple|\d+)times|again(and|&)again|howmanytimes",
)

# Distinct problem families for the "several problems at once" rule.
_PROBLEMS: dict[str, re.Pattern[str]] = {
    "late": _rx(
        r"늦|지연|(배송|택배|물건|상품)(이|가|은|도)?(아직|아직도)?(안와|안오|안옴)|만에(왔|받|도착)|late|delay|atras"
    ),
    "missing": _rx(
        r"분실|못받|없어졌|사라졌|배송완료(라|로|인데|됐는데|떴는데)|수령(을)?못|missing|lost|naorecebi"
    ),
    "wrong": _rx(
        r"오배송|다른(상품|제품|물건|옵션|색|사이즈|게|거)|잘못(온|왔|배송|보내)|구성품(이|도)?(누락|빠)|빠져있|누락"
        r"|틀리고|틀려|틀렸|수량(이|도)?.{0,6}(모자|부족)|wrongitem|wrongsize"
        r"|짝짝이|한짝만|짝이안맞|딴판|엉뚱한(거|게|걸|물건|상품)|(가품|짝퉁|위조품|모조품)(을|를|이|가)?(보내|팔|파|왔|받)"
    ),
    "damaged": _rx(
        r"젖고|젖은|젖었|곰팡|터진|터졌|실밥|파손|깨져|깨졌|찌그러|부서|망가|터져|젖어|녹아|불량|고장|찢어|긁혀|금이|스크래치|기스|흠집|damaged|broken|quebrad"
    ),
    "refund": _rx(
        r"환불(이|은|도)?(안|아직)|환불.{0,8}(말도없|소식(이)?없|연락(이)?없)|refund(not|hasn|still)"
    ),
    "payment": _rx(
        r"(두번|2번|중복)(승인|결제|청구|빠져|나갔)|(돈|카드값|금액|결제)(은|도|이|까지)?(나갔|빠져나갔|청구됐|결제됐)|중복결제|이중결제|두번결제|두번(빠져|나갔|청구)|결제(가|는|도)?(두번|2번|오류|에러|실패)|doublecharg|chargedtwice"
    ),
    "cs": _rx(r"불친절|무시당|읽씹|답변(이)?없|연락(이|도)?(없|안(되|돼|됨))|연락두절|전화(를)?안받|rude"),
    "address": _rx(
        r"(옛날|예전|이전|원래|변경전|바꾸기전)주소로(가|갔|배송|보내)|주소(를)?(바꿔|변경).{0,10}(그대로|옛날|예전|이전)"
    ),
    "receipt": _rx(r"영수증(도|이)?(없|안)"),
    "cancel_ignored": _rx(
        r"취소(했|한|됐|요청했)[가-힣]{0,6}(는데|데도|건데|는데도)[^.?!]{0,10}(왔|배송|발송|출고|도착|나갔|빠져|결제|청구)"
    ),
}


# Quiet-anger families (quiet.py) -> the hand-off reason they raise.
_QUIET_REASON = {
    "accusation": "threat",
    "external": "threat",
    "rhetorical": "anger",
    "sarcasm": "anger",
    "exasperation": "anger",
    "long_wait": "long_wait",
    "harm": "harm",
}
# "…도 모자라", "…에 …까지": problems piled on one another, even when only one family is named.
_PILED_UP = _rx(r"것도모자라|걸로도모자라|뿐만아니라|에다가.{0,8}까지|에.{1,6}에.{1,10}까지")


# A problem the customer says they do NOT have ("불량은 아니고", "파손 없이", "흠집도 없고").
_NEGATED = _rx(
    r"(불량|파손|하자|고장|오배송|누락|분실|지연|스크래치|흠집|기스|깨진거|깨진곳|찌그러진거)(은|는|이|가|도)?(아니|없|전혀없)"
)


def _problem_text(text: str) -> str:
    return _NEGATED.sub(" ", normalize(text).replace(" ", ""))


def problem_families(text: str) -> list[str]:
    """Problem families mentioned in a message (used by the multi-problem rule and by VOC hints)."""
    c = _problem_text(text)
    return [name for name, rx in _PROBLEMS.items() if rx.search(c)]


# Asking when a person can be reached is not asking for one now ("전화 상담 가능한 시간대 알려주세요").
_HOURS_ONLY = _rx(
    r"(상담|통화|전화|연결)[가-힣]{0,6}(가능한|가능|되는|하는)?(시간|시간대|몇시|운영|요일|영업)(?!.{0,10}(연결|바꿔|불러))"
)
# An ordinal about purchases, not contacts ("세 번째 주문", "몇 번째 구매인지").
_PURCHASE_ORDINAL = _rx(r"(몇|\d+|두|세|네|다섯|여러)번(째)?(주문|구매|이용|방문|재구매|사는|산|샀|구입)")
_CONTACT_WORD = _rx(r"문의|연락|전화|채팅|톡|메일|글|상담|말씀|얘기|물어|여쭤")


def asks_hours_only(text: str) -> bool:
    """Whether the message asks when a person can be reached rather than for one now."""
    return _HOURS_ONLY.search(normalize(text).replace(" ", "")) is not None


def problem_order(text: str) -> list[str]:
    """Problem families in the order the message first names them."""
    c = _problem_text(text)
    found = [(m.start(), name) for name, rx in _PROBLEMS.items() if (m := rx.search(c))]
    return [name for _, name in sorted(found)]


def asks_for_person(text: str) -> bool:
    """Whether the words themselves ask for a person ("상담원 연결", "사람이랑 얘기"), whatever the model says."""
    return _HUMAN.search(normalize(text).replace(" ", "")) is not None


def escalation_reasons(text: str, intent: str | None = None) -> list[str]:
    """Reasons to hand this message to a human (empty list when none)."""
    c = normalize(text).replace(" ", "")
    reasons: list[str] = []
    if (intent == "human_agent" or _HUMAN.search(c)) and not _HOURS_ONLY.search(c):
        reasons.append("human_request")
    benign = benign_mention(c)
    composed = stance_cues(c)
    if (_THREAT.search(c) or _THREAT_WORDS.search(normalize(text))) and not benign:
        reasons.append("threat")
    if _ANGER.search(c):
        reasons.append("anger")
    quiet = quiet_cues(c)
    if benign:  # a phishing SMS, a place or a polite policy question: only the composed cues count
        quiet = [q for q in quiet if q not in {"accusation", "external"}]
    quiet += [q for q in composed if q not in quiet]
    if _PURCHASE_ORDINAL.search(c) and not _CONTACT_WORD.search(_PURCHASE_ORDINAL.sub("", c)):
        quiet = [q for q in quiet if q != "repeat"]  # "몇 번째 주문인지 모르겠네요": a loyal buyer
    if (_REPEAT.search(c) and not _PURCHASE_ORDINAL.search(c)) or {"repeat", "again"} & set(quiet):
        reasons.append("repeat_contact")
    families = problem_families(text)
    if len(families) >= 2 or (families and _PILED_UP.search(c)):
        reasons.append("multi_problem")
    for cue, reason in _QUIET_REASON.items():
        if cue in quiet and reason not in reasons:
            reasons.append(reason)
    return reasons


def should_escalate(text: str, intent: str | None = None) -> bool:
    """True when any hand-off rule that can be decided from this one message fires."""
    return bool(escalation_reasons(text, intent))
