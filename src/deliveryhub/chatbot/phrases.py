"""What the bot says in its own words (Korean 해요체 first, English second): greetings, questions for
what is missing, empathy, clarification, and the hand-off message. Answers about an order are in
answers.py; identity-check wording is in identity.py."""

from __future__ import annotations


def pick(lang: str, ko: str, en: str) -> str:
    """The Korean or the English wording."""
    return en if lang == "en" else ko


def greeting(lang: str, linked_order: str | None = None) -> str:
    """The first message of a conversation (a notification link says it is verified already)."""
    if linked_order is not None:
        return pick(
            lang,
            f"알림 링크로 들어오셨네요. 주문({linked_order}) 건으로 본인 확인이 되어 바로 안내해 "
            "드릴 수 있어요. 무엇을 도와드릴까요?",
            f"Welcome! You came from the link in our notification, so you're already verified for "
            f"order {linked_order} and I can help with it right away. How can I help?",
        )
    return pick(
        lang,
        "안녕하세요! 배송·주문 상담 챗봇이에요. 배송 조회, 출고 전 주문 취소·배송지 변경, 반품·교환 "
        "신청, 파손·오배송·분실 접수를 도와드려요. 무엇을 도와드릴까요?",
        "Hello! I'm the delivery assistant. I can track your order, cancel it or change the address "
        "before it ships, start a return or exchange, and report damaged, wrong or missing items. How can "
        "I help?",
    )


def ask_order(lang: str) -> str:
    """Ask for the order number."""
    return pick(
        lang,
        "주문번호를 알려 주시겠어요? 주문 완료 문자나 마이페이지 > 주문내역에서 확인하실 수 있어요. "
        "(예: ORD-2026-000123)",
        "Could you give me your order number? You'll find it in the order confirmation message or under "
        "My Page > Orders (e.g. ORD-2026-000123).",
    )


def ask_last4(lang: str) -> str:
    """Ask for the last four phone digits."""
    return pick(
        lang,
        "고객님 정보 보호를 위해 주문하실 때 입력하신 휴대폰 번호 뒷자리 4자리를 알려 주세요.",
        "To protect your information, please tell me the last four digits of the phone number used "
        "for the order.",
    )


_EMPATHY_KO = {
    "delivery_delay": "배송이 늦어져 많이 기다리셨죠. 바로 확인해 드릴게요. ",
    "missing_delivery": "상품을 받지 못하셔서 많이 걱정되셨죠. 바로 확인해 드릴게요. ",
    "wrong_item": "주문하신 것과 다른 상품이 와서 불편하셨죠. 바로 도와드릴게요. ",
    "damaged_item": "상품이 파손되어 도착해 정말 속상하셨겠어요. 바로 도와드릴게요. ",
    "cancel_order": "주문 취소를 도와드릴게요. ",
    "change_address": "배송지 변경을 도와드릴게요. ",
    "return_request": "반품 접수를 도와드릴게요. ",
    "exchange_request": "교환 접수를 도와드릴게요. ",
    "refund_status": "환불 진행 상황을 확인해 드릴게요. ",
    "track_order": "배송 현황을 확인해 드릴게요. ",
    "notification_issue": "알림 설정을 도와드릴게요. ",
}
_EMPATHY_EN = {
    "delivery_delay": "I'm sorry it's taking so long; let me check right away. ",
    "missing_delivery": "I'm sorry you haven't received it; let me look into it. ",
    "wrong_item": "I'm sorry you received the wrong item; let me help. ",
    "damaged_item": "I'm sorry it arrived damaged; let me help. ",
    "cancel_order": "I can help you cancel. ",
    "change_address": "I can help change the address. ",
    "return_request": "I can help you with a return. ",
    "exchange_request": "I can help with an exchange. ",
    "refund_status": "Let me check your refund. ",
    "track_order": "Let me check where your order is. ",
    "notification_issue": "I can help with your notification settings. ",
}


def empathy(intent: str, lang: str) -> str:
    """The opening that acknowledges what the customer is going through ('' when nothing fits)."""
    return (_EMPATHY_EN if lang == "en" else _EMPATHY_KO).get(intent, "")


def verified_prefix(lang: str) -> str:
    """Said once, right after the phone digits matched."""
    return pick(lang, "확인 감사해요. ", "Thank you, you're verified. ")


def clarify(lang: str) -> str:
    """The bot did not understand (the first time)."""
    return pick(
        lang,
        "죄송해요, 제가 정확히 이해하지 못했어요. 조금만 더 자세히 말씀해 주시겠어요? 예를 들어 "
        "'배송 조회', '주문 취소', '반품 신청', '상품이 파손됐어요'처럼 말씀해 주시면 바로 도와드릴게요.",
        "Sorry, I'm not sure I understood. Could you tell me a little more? For example: "
        '"track my order", "cancel my order", "start a return" or "my item arrived damaged".',
    )


def cannot_answer(lang: str) -> str:
    """A question outside what the bot can do."""
    return pick(
        lang,
        "죄송해요, 그 질문에는 제가 바로 답변드리기 어려워요. 저는 배송 조회, 출고 전 취소·배송지 변경, "
        "반품·교환 신청, 파손·오배송·분실 접수를 도와드릴 수 있어요. 상담원과 이야기하고 싶으시면 '상담원 "
        "연결'이라고 말씀해 주세요.",
        "I couldn't find an answer to that, sorry. I can track orders, cancel or change the address "
        "before shipping, start returns and exchanges, and report damaged, wrong or missing items. If "
        'you would like a person to help, just type "agent".',
    )


def welcome_thanks(lang: str) -> str:
    """The customer said thank you."""
    return pick(
        lang,
        "천만에요! 더 궁금한 점이 있으면 언제든 말씀해 주세요.",
        "You're welcome! Let me know if there is anything else.",
    )


def hello(lang: str) -> str:
    """The customer said hello."""
    return pick(lang, "안녕하세요! 무엇을 도와드릴까요?", "Hello! How can I help you today?")


def keep_as_is(lang: str) -> str:
    """The customer declined the offered action."""
    return pick(
        lang,
        "알겠어요, 그대로 둘게요. 더 도와드릴 일이 있을까요?",
        "Understood, I won't change anything. Is there anything else I can help with?",
    )


def csat_thanks(lang: str) -> str:
    """After a satisfaction score typed into the chat."""
    return pick(
        lang, "소중한 평가 감사해요! 좋은 하루 보내세요.", "Thank you for rating us! Have a great day."
    )


def order_not_found(lang: str) -> str:
    """The verified order vanished from the read model."""
    return pick(lang, "주문을 찾지 못했어요.", "I could not find that order.")


def digits_mismatch(lang: str) -> str:
    """Order number and phone digits did not match (the count of tries is not said)."""
    return pick(
        lang,
        "주문번호와 휴대폰 번호 뒷자리가 일치하는 주문을 찾지 못했어요. 주문번호나 휴대폰 번호 "
        "뒷자리 4자리를 다시 한번 확인해 주시겠어요?",
        "The order number and phone digits don't match our records. Please check them and send the "
        "order number or the last four digits again.",
    )


def handoff(
    first_reason: str,
    lang: str,
    hours: tuple[str, str] = ("평일 09:00~18:00", "weekdays 9:00-18:00 KST"),
    away: tuple[str, str] | None = None,
) -> str:
    """The message that hands the conversation to a person (an apology first when the customer is upset).

    `hours` are the desk's hours in both languages; `away` (Korean, English), when agents are not working
    now, says why and when they answer (the next business opening)."""
    if first_reason in ("threat", "anger"):
        opening = pick(
            lang,
            "많이 불편하셨을 텐데 정말 죄송해요. 바로 상담원이 직접 확인하도록 연결해 드릴게요. 지금까지 "
            "말씀해 주신 내용과 주문 정보를 함께 전달했으니 같은 내용을 다시 설명하지 않으셔도 돼요.",
            "I'm truly sorry for the trouble. I'm connecting you to an agent, with our conversation and "
            "your order details, so you won't need to repeat yourself.",
        )
    else:
        opening = pick(
            lang,
            "상담원에게 연결해 드릴게요. 지금까지 나눈 대화와 주문 정보를 함께 전달했으니 같은 내용을 "
            "다시 말씀하지 않으셔도 돼요.",
            "I'm connecting you to an agent. They will see our conversation and your order details, so "
            "you won't need to repeat anything.",
        )
    if away is None:
        when = pick(
            lang,
            f"상담원이 이 대화창으로 곧 답변드릴게요. (상담 시간: {hours[0]})",
            f"An agent will reply right here shortly. (Agents: {hours[1]})",
        )
    else:
        when = pick(
            lang,
            f"{away[0]} 상담원이 이 대화창으로 답변드릴게요. 이 창을 닫으셔도 대화는 그대로 남아 있어요. "
            f"(상담 시간: {hours[0]})",
            f"{away[1]} an agent will reply right here; the conversation stays here even if you close "
            f"this window. (Agents: {hours[1]})",
        )
    return f"{opening} {when}"
