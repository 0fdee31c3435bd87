"""What the bot recognises: the intent groups its policy works with, the hand-off reasons and their
priority, the short answers (yes/no, a bare order number, a remedy choice) and the customer's language."""

from __future__ import annotations

import re

ORDER_INTENTS = frozenset(
    {
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
        "notification_issue",
    }
)
COMPLAINT_INTENTS = frozenset(
    {"delivery_delay", "missing_delivery", "wrong_item", "damaged_item", "refund_status", "payment_issue"}
)
# Intents that change something (or may pay): a view-only link session needs the phone digits first.
ACTING_INTENTS = frozenset(
    {
        "cancel_order",
        "change_address",
        "return_request",
        "exchange_request",
        "missing_delivery",
        "wrong_item",
        "damaged_item",
        "delivery_delay",
        "notification_issue",
    }
)
# Intents whose policy questions ("how long is the return window?") the FAQ answers before any action.
POLICY_INTENTS = frozenset(
    {
        "return_request",
        "exchange_request",
        "refund_status",
        "cancel_order",
        "track_order",
        "delivery_delay",
        "notification_issue",
    }
)
FAQ_FIRST_INTENTS = frozenset({"other", "payment_issue", "stock_inquiry"})
# Claim kind opened for each problem intent.
CLAIM_KIND = {"missing_delivery": "missing", "wrong_item": "wrong_item", "damaged_item": "damage"}

IMMEDIATE_REASONS = (
    "human_request",
    "threat",
    "anger",
    "repeat_contact",
    "multi_problem",
    "long_wait",
    "harm",
)
REASON_PRIORITY = {
    "threat": "urgent",
    "harm": "urgent",
    "long_wait": "high",
    "anger": "high",
    "repeat_contact": "high",
    "multi_problem": "high",
    "claim_amount": "high",
    "vip": "high",
    "double_charge": "high",
    "missing_old": "high",
    "verify_failed": "normal",
    "human_request": "normal",
    "low_confidence": "normal",
}

YES = re.compile(
    r"^(네+|넵|넹|예|응+|ㅇㅇ|ㅇㅋ|좋아요|좋습니다|그래요|그렇게\s*해\s*주세요|부탁(해요|드려요|드립니다)|"
    r"해\s*주세요|취소해\s*주세요|진행해\s*주세요|맞아요|yes|yeah|yep|ok|okay|sure|please( do)?)[.!~ ]*$",
    re.IGNORECASE,
)
NO = re.compile(
    r"^(아니(요|오)?|아뇨|아니에요|괜찮아요|됐어요|안\s*할래요|취소\s*안\s*할래요|no|nope|no thanks)[.!~ ]*$",
    re.IGNORECASE,
)
REMEDY = re.compile(r"^[12]\b|교환|반품|환불|exchange|return|refund", re.IGNORECASE)
REMEDY_EXCHANGE = re.compile(r"^1\b|교환|exchange", re.IGNORECASE)
POLICY_CUE = re.compile(
    r"기간|기한|언제까지|며칠|얼마|비용|배송비|수수료|방법|어떻게|정책|가능한가|되나요|"
    r"how long|how much|fee|cost|policy|window|can i",
    re.IGNORECASE,
)
DOUBLE_CHARGE = re.compile(
    r"(두\s*번|2\s*번|이중|중복)\s*(결제|청구|출금)|(결제|청구|출금)\S*\s*(두\s*번|2\s*번)|"
    r"double\s*charg|charged\s*twice",
    re.IGNORECASE,
)
ORDER_TOKEN = re.compile(r"^[#:\s]*([A-Za-z0-9][A-Za-z0-9-]{3,40})[.\s]*$")
THANKS = re.compile(r"(감사|고마워|고맙|thank|thanks|ty)\S*[.!~ ]*", re.IGNORECASE)
HELLO = re.compile(r"(안녕|하이|hi|hello|hey)\S*[.!~ ]*", re.IGNORECASE)
ZIP = re.compile(r"(?<!\d)(\d{5})(?!\d)")
# Notification preference changes asked for in words.
NOTICE_STOP = re.compile(r"그만|끄|꺼|수신\s*거부|받지\s*않|안\s*받|stop|unsubscribe|opt.?out", re.IGNORECASE)
NOTICE_QUIET = re.compile(r"밤|야간|새벽|심야|night|quiet", re.IGNORECASE)
NOTICE_CHANNEL_WORDS = (
    ("이메일", "email"),
    ("메일", "email"),
    ("email", "email"),
    ("문자", "sms"),
    ("sms", "sms"),
    ("알림톡", "kakao"),
    ("카톡", "kakao"),
    ("kakao", "kakao"),
)

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")


def lang_of(text: str, previous: str = "ko") -> str:
    """'en' when the customer writes English, 'ko' for Korean; keeps the previous language otherwise."""
    if _HANGUL.search(text):
        return "ko"
    letters = len(_LATIN.findall(re.sub(r"[A-Za-z]{2,5}-?\d[\d-]*", "", text)))
    return "en" if letters >= 3 else previous


def order_token(text: str) -> str | None:
    """A message that is nothing but an order number (not four bare digits, which are phone digits)."""
    m = ORDER_TOKEN.match(text)
    if m and any(ch.isdigit() for ch in m.group(1)) and not (m.group(1).isdigit() and len(m.group(1)) == 4):
        return m.group(1).upper()
    return None


def digits_not_a_call(text: str, intent: str, ents: dict[str, object]) -> bool:
    """A message the model read as a request for a person that only gives the phone digits ("전화번호
    뒷자리는 6709예요": 전화 is the number, not a call) and asks for nobody in words."""
    if intent != "human_agent" or not (ents.get("phone_last4") or ents.get("phone")):
        return False
    try:
        from deliveryhub.chatbot.nlu.escalation import asks_for_person
    except ImportError:
        return False
    return not asks_for_person(text)


def impatient_text(text: str) -> bool:
    """Impatience ("대체 언제까지", "며칠째") that hands off only with the order's history."""
    try:
        from deliveryhub.chatbot.nlu.normalize import normalize
        from deliveryhub.chatbot.nlu.quiet import impatient
    except ImportError:
        return False
    return impatient(normalize(text).replace(" ", ""))


def escalates(text: str, intent: str) -> bool:
    """Whether the escalation rules hand this message off, read with `intent`."""
    try:
        from deliveryhub.chatbot.nlu.escalation import escalation_reasons
    except ImportError:
        return False
    return bool(escalation_reasons(text, intent))


def reasons_for(text: str, intent: str, escalate: bool) -> list[str]:
    """Hand-off reasons of one message: asking for a person, and what the escalation rules find."""
    reasons: list[str] = []
    if intent == "human_agent":
        reasons.append("human_request")
    if escalate:
        try:
            from deliveryhub.chatbot.nlu.escalation import escalation_reasons

            reasons += [r for r in escalation_reasons(text, intent) if r not in reasons]
        except ImportError:
            pass
        if not reasons:
            reasons.append("anger")
    return reasons
