"""The dialogue policy: given what the NLU understood and what the bot asked for last, decide the next
step — hand off at once, continue the pending request, ask for what is missing (order number, phone
digits), answer from the FAQ, clarify once then hand off, or serve the verified request (actions.py)."""

from __future__ import annotations

from typing import Any

from deliveryhub.chatbot import actions, identity, phrases
from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot.lexicon import (
    ACTING_INTENTS,
    DOUBLE_CHARGE,
    FAQ_FIRST_INTENTS,
    HELLO,
    IMMEDIATE_REASONS,
    NO,
    ORDER_INTENTS,
    ORDER_TOKEN,
    POLICY_CUE,
    POLICY_INTENTS,
    REMEDY,
    THANKS,
    YES,
    digits_not_a_call,
    escalates,
    impatient_text,
    order_token,
    reasons_for,
)
from deliveryhub.chatbot.session import Bot, TurnCtx
from deliveryhub.chatbot.verify import (
    bind_order,
    check_digits,
    escalate_after_verify,
    find_order,
    last4,
    may_act,
)

CONFIRMING_NEEDS = (
    "confirm_cancel",
    "offer_return",
    "offer_cancel",
    "choose_remedy",
    "confirm_return",
    "confirm_address",
)


def decide(bot: Bot, ctx: TurnCtx, nlu: dict[str, Any], ents: dict[str, Any]) -> None:
    """One turn's decision (the reply and the session changes land on `ctx`).

    Impatience in this message, or in the one that opened the pending request, is kept for this turn in
    ``s["impatient"]`` (read with the order's history once verified) and carried in the pending request."""
    s = ctx.s
    s["impatient"] = impatient_text(ctx.text) or bool((s.get("pending") or {}).get("impatient"))
    _decide(bot, ctx, nlu, ents)
    pending = s.get("pending")
    if s["impatient"] and isinstance(pending, dict):
        s["pending"] = {**pending, "impatient": True}


def _decide(bot: Bot, ctx: TurnCtx, nlu: dict[str, Any], ents: dict[str, Any]) -> None:
    s, text, lang = ctx.s, ctx.text, ctx.lang
    find_order(bot, text, ents)
    pending = s.get("pending") or {}
    need = pending.get("need")
    escalate = bool(nlu.get("escalate"))
    if digits_not_a_call(text, ctx.intent or "other", ents):
        known = ents.get("order_id") or s.get("order_id")
        ctx.intent = pending.get("intent") or ("track_order" if known else "other")
        escalate = escalates(text, ctx.intent)
    reasons = reasons_for(text, ctx.intent or "other", escalate)
    if any(r in IMMEDIATE_REASONS for r in reasons):
        bind_order(bot, ctx, ents)
        ctx.hand_off([r for r in reasons if r in IMMEDIATE_REASONS])
        return
    # A message that answers what the bot asked for continues that request.
    if need == "address" and len(text) >= 5 and ctx.intent not in ("cancel_order", "human_agent"):
        ctx.store_text = "[새 배송지 입력됨]" if lang == "ko" else "[new address given]"
        actions.change_address(bot, ctx, text)
        return
    if need == "return_reason" and ctx.intent not in ("cancel_order", "human_agent"):
        if NO.match(text):  # changed their mind about returning
            s["pending"] = None
            ctx.intent = "other"
            ctx.reply = phrases.keep_as_is(lang)
            return
        actions.return_reason(bot, ctx, text)
        return
    if need in CONFIRMING_NEEDS:
        if YES.match(text) or (need == "choose_remedy" and REMEDY.search(text)):
            actions.confirmed(bot, ctx, need, text)
            return
        if NO.match(text):
            s["pending"] = None
            ctx.intent = "other"
            ctx.reply = phrases.keep_as_is(lang)
            return
        if need == "confirm_address" and len(text) >= 5 and ctx.intent not in ("cancel_order", "human_agent"):
            ctx.store_text = "[새 배송지 입력됨]" if lang == "ko" else "[new address given]"
            actions.change_address(bot, ctx, text)  # a corrected address instead of yes/no
            return
    answered_need = (need == "order_id" and (ents.get("order_id") or ORDER_TOKEN.match(text))) or (
        need == "phone_last4" and (ents.get("phone_last4") or ents.get("phone"))
    )
    intent = ctx.intent or "other"
    low_confidence = (ctx.confidence or 0) < bot.config.confidence_threshold
    if answered_need or (pending.get("intent") and low_confidence):
        intent = ctx.intent = pending.get("intent") or intent
    elif pending.get("intent") and intent == "other" and need in ("order_id", "phone_last4"):
        intent = ctx.intent = pending["intent"]
    if need == "order_id" and not ents.get("order_id") and (token := order_token(text)):
        ents["order_id"] = token
    bind_order(bot, ctx, ents)
    digits = ents.get("phone_last4") or ents.get("phone")
    if digits and need != "phone_last4" and s.get("order_id") and not may_act(s):
        # The order number and the phone digits in one message: check them at once, then answer the
        # question asked with them (a policy question still gets the FAQ first).
        if intent == "other" or low_confidence:
            intent = pending.get("intent") or "track_order"
        ctx.intent = intent
        s["pending"] = {"need": "phone_last4", "intent": intent}
        if check_digits(bot, ctx, str(ents.get("phone_last4") or last4(ents["phone"]) or "")):
            s["pending"] = None
            s["low_conf_streak"] = 0
            route(bot, ctx, intent)
        return
    if need == "phone_last4" and digits:
        given = str(ents.get("phone_last4") or last4(ents["phone"]) or "")
        if not check_digits(bot, ctx, given):
            return
        intent = ctx.intent = pending.get("intent") or intent
        if escalate_after_verify(bot, ctx, intent):
            return
        actions.serve(bot, ctx, intent)
        return
    if low_confidence and not answered_need:
        _unclear(bot, ctx, intent)
        return
    s["low_conf_streak"] = 0
    route(bot, ctx, intent)


def _unclear(bot: Bot, ctx: TurnCtx, intent: str) -> None:
    """Low confidence: the FAQ may still know; otherwise clarify once, then hand off."""
    s = ctx.s
    entry = faq_match(bot, ctx.text, intent, force=True)
    if entry is not None:
        answer_faq(ctx, entry)
        return
    s["low_conf_streak"] = int(s.get("low_conf_streak") or 0) + 1
    ctx.unanswered = True  # a FAQ candidate
    if s["low_conf_streak"] >= 2:
        ctx.hand_off(["low_confidence"])
        return
    s["clarified"] = True
    ctx.intent = intent
    ctx.reply = phrases.clarify(ctx.lang)


def route(bot: Bot, ctx: TurnCtx, intent: str) -> None:
    """A confident intent: FAQ, the identity steps an order needs, then serve; or small talk."""
    text, lang = ctx.text, ctx.lang
    if intent == "payment_issue" and DOUBLE_CHARGE.search(text):
        ctx.hand_off(["double_charge"])
        return
    entry = faq_match(bot, text, intent)
    if entry is not None:
        answer_faq(ctx, entry)
        return
    if intent in ORDER_INTENTS:
        _order_request(bot, ctx, intent)
        return
    if intent == "stock_inquiry":
        entry = next((e for e in bot.faq.entries() if e.topic == "stock"), None)
        if entry is not None:
            answer_faq(ctx, entry)
            return
    if intent in FAQ_FIRST_INTENTS:
        entry = faq_match(bot, text, intent, force=True)
        if entry is not None:
            answer_faq(ctx, entry)
        elif THANKS.fullmatch(text):
            ctx.reply = phrases.welcome_thanks(lang)
        elif HELLO.fullmatch(text):
            ctx.reply = phrases.hello(lang)
        else:
            ctx.unanswered = True
            ctx.reply = phrases.cannot_answer(lang)
        return
    ctx.reply = phrases.ask_order(lang)


def _order_request(bot: Bot, ctx: TurnCtx, intent: str) -> None:
    """An order request: ask for the order number, then the phone digits, then serve."""
    s, lang = ctx.s, ctx.lang
    if not s.get("order_id"):
        s["pending"] = {"need": "order_id", "intent": intent}
        ctx.reply = phrases.empathy(intent, lang) + phrases.ask_order(lang)
    elif not s.get("verified"):
        s["pending"] = {"need": "phone_last4", "intent": intent}
        ctx.reply = phrases.empathy(intent, lang) + phrases.ask_last4(lang)
    elif intent in ACTING_INTENTS and not may_act(s):
        # A notification link shows the order; acting on it needs the customer's digits too.
        s["pending"] = {"need": "phone_last4", "intent": intent}
        ctx.reply = phrases.empathy(intent, lang) + identity.link_act_text(lang)
    elif not escalate_after_verify(bot, ctx, intent):
        actions.serve(bot, ctx, intent)


def faq_match(bot: Bot, text: str, intent: str, force: bool = False) -> faqmod.FaqEntry | None:
    """The FAQ entry answering `text`, for intents the FAQ comes first for (or when `force`d)."""
    policy_like = intent in POLICY_INTENTS and POLICY_CUE.search(text) is not None
    if not (force or intent in FAQ_FIRST_INTENTS or policy_like):
        return None
    entry, _score = faqmod.match(bot.faq.entries(), text)
    return entry


def answer_faq(ctx: TurnCtx, entry: faqmod.FaqEntry) -> None:
    """Answer with a FAQ entry."""
    ctx.s["low_conf_streak"] = 0
    ctx.faq_key = entry.key
    ctx.reply = entry.answer(ctx.lang)
