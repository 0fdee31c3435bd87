"""Serving a verified request: answer from the read models or act through the service layer's order
commands (cancel, change the address, return, exchange, open a claim) and notification preferences.
Each step checks the order's stage first and offers the next sensible step (a return instead of a cancel
once it shipped, a cancel instead of a return before it did)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
import structlog

from deliveryhub.chatbot import phrases
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.answers import KST, REFUND_EVENTS, exchange_text, refund_text, status_text
from deliveryhub.chatbot.lexicon import (
    CLAIM_KIND,
    NOTICE_CHANNEL_WORDS,
    NOTICE_QUIET,
    NOTICE_STOP,
    REMEDY_EXCHANGE,
)
from deliveryhub.chatbot.session import Bot, TurnCtx
from deliveryhub.chatbot.verify import may_act
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.domain.returns import classify_reason
from deliveryhub.kernel.korean import attach
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.pii import dlp
from deliveryhub.pii.cipher import KeyError_, open_, seal
from deliveryhub.service_layer import commands
from deliveryhub.service_layer.commands import CommandResult

log = structlog.get_logger(__name__)

OFFER_RETURN_KO = " 지금 바로 반품 접수를 도와드릴까요? (네/아니요)"
OFFER_RETURN_EN = " Would you like me to start a return now?"


def _shipped(stage: Any) -> bool:
    return STAGE_RANK.get(str(stage), -1) >= STAGE_RANK["handed_over"]


def _said(res: CommandResult, lang: str) -> str:
    return res.message_en if lang == "en" else res.message_ko


def order_status_text(bot: Bot, d: dict[str, Any], lang: str, delay: bool = False) -> str:
    """The live status of an order as of the hub's (Korean) today."""
    return status_text(d, lang, bot.now().astimezone(KST).date(), delay=delay)


def serve(bot: Bot, ctx: TurnCtx, intent: str) -> None:
    """Answer or act on `intent` for the conversation's verified order."""
    s, lang = ctx.s, ctx.lang
    s["pending"] = None
    ctx.intent = intent
    oid = s["order_id"]
    d = bot.detail(oid)
    if d is None:
        ctx.reply = phrases.order_not_found(lang)
        return
    ctx.answered = True
    prefix = phrases.verified_prefix(lang) if ctx.verified_now else ""
    if intent in ("track_order", "delivery_delay"):
        ctx.reply = prefix + order_status_text(bot, d, lang, delay=intent == "delivery_delay")
    elif intent == "cancel_order":
        _cancel(bot, ctx, d, prefix)
    elif intent == "change_address":
        _address(ctx, d, prefix)
    elif intent == "return_request":
        _return(bot, ctx, d, prefix)
    elif intent == "exchange_request":
        _exchange(bot, ctx, d, prefix)
    elif intent == "refund_status":
        ctx.reply = prefix + refund_text(bot.events(oid, REFUND_EVENTS), lang, bot.faq.facts)
    elif intent in CLAIM_KIND:
        _claim(bot, ctx, d, intent, prefix)
    elif intent == "notification_issue":
        _notification(bot, ctx, prefix)
    else:
        ctx.reply = prefix + order_status_text(bot, d, lang)


def _cancel(bot: Bot, ctx: TurnCtx, d: dict[str, Any], prefix: str) -> None:
    s, lang, oid = ctx.s, ctx.lang, ctx.s["order_id"]
    if d["stage"] == "cancelled":
        ctx.reply = prefix + phrases.pick(lang, "이미 취소된 주문이에요.", "This order is already cancelled.")
    elif _shipped(d["stage"]):
        res = commands.cancel_order(bot.core, oid, "chatbot request", actor="chatbot")
        s["pending"] = {"need": "offer_return", "intent": "return_request"}
        ctx.reply = prefix + _said(res, lang) + phrases.pick(lang, OFFER_RETURN_KO, OFFER_RETURN_EN)
    else:
        s["pending"] = {"need": "confirm_cancel", "intent": "cancel_order"}
        ctx.reply = prefix + phrases.pick(
            lang,
            f"주문({oid})은 아직 출고 전이라 바로 취소할 수 있어요. 취소해 드릴까요? (네/아니요)",
            f"Order {oid} has not shipped yet, so I can cancel it right away. Shall I cancel it? (yes/no)",
        )


def _address(ctx: TurnCtx, d: dict[str, Any], prefix: str) -> None:
    lang = ctx.lang
    if d["stage"] == "cancelled" or _shipped(d["stage"]):
        ctx.reply = prefix + phrases.pick(
            lang,
            "이미 택배사로 출고되어 여기서는 배송지를 바꿀 수 없어요. 택배사에 직접 변경을 요청하시거나 "
            "'상담원 연결'이라고 말씀해 주시면 상담원이 도와드릴게요.",
            "The parcel has already left our warehouse, so the address can no longer be changed here. You "
            'can ask the carrier to redirect it, or type "agent" and a person will help.',
        )
        return
    ctx.s["pending"] = {"need": "address", "intent": "change_address"}
    ctx.reply = prefix + phrases.pick(
        lang,
        "아직 출고 전이라 변경할 수 있어요. 새 배송지 주소를 한 번에 적어 주세요. "
        "(받는 분이 바뀌면 함께 적어 주세요)",
        "It hasn't shipped yet, so I can change it. Please type the new address (with the recipient if it "
        "changes).",
    )


def _return(bot: Bot, ctx: TurnCtx, d: dict[str, Any], prefix: str) -> None:
    lang = ctx.lang
    if not _shipped(d["stage"]) and d["stage"] != "cancelled":
        ctx.s["pending"] = {"need": "offer_cancel", "intent": "cancel_order"}
        ctx.reply = prefix + phrases.pick(
            lang,
            "아직 출고 전이라 반품 대신 바로 취소할 수 있어요. 주문을 취소해 드릴까요? (네/아니요)",
            "It hasn't shipped yet, so instead of a return I can simply cancel it. Shall I cancel the "
            "order? (yes/no)",
        )
        return
    start_return(bot, ctx, "return", ctx.text, prefix)


def _exchange(bot: Bot, ctx: TurnCtx, d: dict[str, Any], prefix: str) -> None:
    oid = ctx.s["order_id"]
    existing = bot.events(oid, ("exchange.requested", "exchange.completed"))
    if existing:
        ctx.reply = prefix + exchange_text(existing, ctx.lang)
        return
    start_return(bot, ctx, "exchange", ctx.text, prefix)


_KIND_WORDS = {"return": ("반품", "return"), "exchange": ("교환", "exchange")}


def start_return(bot: Bot, ctx: TurnCtx, kind: str, text: str, prefix: str = "") -> None:
    """A return or exchange: the reason from the customer's words (asked when they gave none), then the
    quote (eligibility and fee from the returns policy), then the customer's yes opens it."""
    code = classify_reason(text) if text else "other"
    if code == "other" and ctx.verified_now:
        code = _recent_reason(bot, ctx.s["session_id"])  # said with the request, before the digits
    if code == "other":
        ko, en = _KIND_WORDS[kind]
        ctx.s["pending"] = {"need": "return_reason", "intent": f"{kind}_request", "kind": kind}
        ctx.reply = prefix + phrases.pick(
            ctx.lang,
            f"{ko} 사유를 알려 주세요. 단순 변심(사이즈·색상 포함), 파손, 불량, 오배송, 상품 설명과 다름 중 "
            "어떤 경우인지에 따라 배송비 부담과 신청 기간이 달라져요.",
            f"What is the reason for the {en}? A change of mind (size, colour), damage, a defect, a wrong "
            "item or not as described: the shipping fee and the time limit depend on it.",
        )
        return
    _quote(bot, ctx, kind, code, text, prefix)


def _recent_reason(bot: Bot, session_id: str) -> str:
    """The reason in the customer's last few messages of this conversation ("other" when none says)."""
    with bot.tx.reading() as conn:
        said = conn.execute(
            sa.select(ct.chat_messages.c.text)
            .where(ct.chat_messages.c.session_id == session_id, ct.chat_messages.c.role == "customer")
            .order_by(ct.chat_messages.c.id.desc())
            .limit(3)
        ).scalars()
        for text in said:
            code = classify_reason(text)
            if code != "other":
                return code
    return "other"


def return_reason(bot: Bot, ctx: TurnCtx, text: str) -> None:
    """The customer gave the reason the bot asked for: quote the return or exchange."""
    s = ctx.s
    pending = s.get("pending") or {}
    kind = "exchange" if pending.get("kind") == "exchange" else "return"
    s["pending"] = None
    ctx.intent = f"{kind}_request"
    if not (s.get("order_id") and may_act(s)):
        ctx.reply = phrases.ask_order(ctx.lang)
        return
    ctx.answered = True
    _quote(bot, ctx, kind, classify_reason(text), text, "")


def _quote(bot: Bot, ctx: TurnCtx, kind: str, code: str, text: str, prefix: str) -> None:
    s, lang = ctx.s, ctx.lang
    ko, en = _KIND_WORDS[kind]
    res = commands.quote_return(
        bot.core, s["order_id"], code, kind="exchange" if kind == "exchange" else "return"
    )
    ctx.reply = prefix + _said(res, lang)
    if res.ok:
        s["pending"] = {
            "need": "confirm_return",
            "intent": f"{kind}_request",
            "kind": kind,
            "reason_code": code,
            "reason": (dlp.mask_text(text) or "")[:200],
        }
        ctx.reply += phrases.pick(
            lang, f" {ko}을 접수할까요? (네/아니요)", f" Shall I open the {en}? (yes/no)"
        )
        return
    if res.code in ("window_passed", "not_eligible") and code not in SHOP_FAULT_CODES:
        # A change of mind past the window: the defect route stays open (the policy's defect window, at
        # the shop's cost).
        days = bot.faq.facts.get("defect_window_days", "90")
        s["pending"] = {"need": "return_reason", "intent": f"{kind}_request", "kind": kind}
        ctx.reply += phrases.pick(
            lang,
            " 상품이 파손되었거나 불량·오배송이라면 그 내용을 알려 주세요. 그런 경우에는 받으신 날부터 "
            f"{days}일 안에 저희 부담으로 반품·교환해 드려요.",
            " If the item arrived damaged, is defective or is the wrong item, tell me what happened: then "
            f"it can be returned or exchanged at our cost within {days} days of delivery.",
        )
    elif res.code == "not_shipped":
        s["pending"] = {"need": "offer_cancel", "intent": "cancel_order"}
        ctx.reply += phrases.pick(
            lang, " 주문을 취소해 드릴까요? (네/아니요)", " Shall I cancel it? (yes/no)"
        )


SHOP_FAULT_CODES = frozenset({"defective", "damaged", "wrong_item", "not_as_described"})
# The claim a remedy follows and the reason code it carries (the shop's fault: no fee).
_REMEDY_REASON = {"damaged_item": "damaged", "wrong_item": "wrong_item"}


def _claim(bot: Bot, ctx: TurnCtx, d: dict[str, Any], intent: str, prefix: str) -> None:
    s, lang, oid = ctx.s, ctx.lang, ctx.s["order_id"]
    kind = CLAIM_KIND[intent]
    amount = float(d.get("total") or 0) or None
    note = (dlp.mask_text(ctx.text) or "")[:500]
    res = commands.open_claim(bot.core, oid, kind, amount=amount, note=note, actor="chatbot")
    ctx.acted = res.ok
    delivered_at = parse_datetime(d.get("delivered_at"))
    if kind == "missing" and delivered_at and bot.now() - delivered_at > timedelta(days=2):
        ctx.hand_off(["missing_old"])
        return
    if amount and amount > bot.config.auto_approval_amount:
        ctx.hand_off(["claim_amount"])
        return
    if kind == "missing":
        ctx.reply = prefix + phrases.pick(
            lang,
            "분실·미수령 접수를 마쳤어요. 택배사에 배송 위치 확인을 요청했고, 24시간 안에 결과를 알려 "
            "드릴게요. 그동안 문 앞, 경비실, 무인 택배함도 한 번만 확인해 주시겠어요?",
            "I've registered a missing-parcel claim and asked the carrier where it was left. We'll tell you "
            "the result within 24 hours. Could you also check the door, the security office and parcel "
            "lockers?",
        )
    elif kind == "wrong_item":
        s["pending"] = {"need": "choose_remedy", "intent": "wrong_item"}
        ctx.reply = prefix + phrases.pick(
            lang,
            "다른 상품을 받으셔서 많이 당황하셨죠, 정말 죄송해요. 오배송 접수를 마쳤어요. 1) 맞는 상품으로 "
            "다시 보내드릴까요(교환), 2) 반품 후 환불해 드릴까요? 배송비는 저희가 부담해요.",
            "I'm sorry you received the wrong item. I've registered it. Would you like 1) the correct item "
            "sent (exchange) or 2) a return and refund? Return shipping is on us.",
        )
    else:
        s["pending"] = {"need": "choose_remedy", "intent": "damaged_item"}
        ctx.reply = prefix + phrases.pick(
            lang,
            "파손된 상품을 받으셔서 정말 속상하셨겠어요. 파손 접수를 마쳤어요. 아래 사진 버튼으로 상품과 "
            "상자 사진을 올려 주시고, 1) 교환과 2) 환불 중 원하시는 방법을 알려 주세요. 배송비는 저희가 "
            "부담해요.",
            "I'm very sorry it arrived damaged. I've registered a damage claim. Please upload a photo of "
            "the item and the box with the camera button, then tell me: 1) exchange or 2) refund?",
        )


def confirmed(bot: Bot, ctx: TurnCtx, need: str, text: str) -> None:
    """The customer said yes to the offered cancel, return (quoted), exchange or address, or chose a
    remedy (1 exchange, 2 refund)."""
    s, lang = ctx.s, ctx.lang
    oid = s.get("order_id")
    pending = dict(s.get("pending") or {})
    s["pending"] = None
    if not oid or not may_act(s):
        ctx.reply = phrases.ask_order(lang)
        return
    ctx.answered = True
    if need in ("confirm_cancel", "offer_cancel"):
        ctx.intent = "cancel_order"
        res = commands.cancel_order(bot.core, oid, "customer request via chatbot", actor="chatbot")
        ctx.acted = res.ok
        ctx.reply = _said(res, lang)
        if res.code == "already_shipped":
            s["pending"] = {"need": "offer_return", "intent": "return_request"}
            ctx.reply += phrases.pick(lang, OFFER_RETURN_KO, OFFER_RETURN_EN)
        return
    if need == "confirm_address":
        _apply_address(bot, ctx, pending)
        return
    if need == "offer_return":
        start_return(bot, ctx, "return", "", "")
        ctx.intent = "return_request"
        return
    kind: Literal["return", "exchange"] = "exchange" if pending.get("kind") == "exchange" else "return"
    reason = pending.get("reason") or "customer request via chatbot"
    code = pending.get("reason_code")
    if need == "choose_remedy":
        kind = "exchange" if REMEDY_EXCHANGE.search(text) is not None else "return"
        code = _REMEDY_REASON.get(str(pending.get("intent")), "damaged")
        reason = "chatbot remedy"
    ctx.intent = f"{kind}_request"
    res = commands.request_return(bot.core, oid, reason=reason, actor="chatbot", reason_code=code, kind=kind)
    ctx.acted = res.ok
    ctx.reply = _said(res, lang)


def change_address(bot: Bot, ctx: TurnCtx, text: str) -> None:
    """The customer typed the new address the bot asked for: show it normalised (zip, 도로명, flags and
    problems) and ask to confirm; nothing changes until they say yes."""
    s, lang = ctx.s, ctx.lang
    tries = int((s.get("pending") or {}).get("tries") or 0)
    s["pending"] = None
    ctx.intent = "change_address"
    if not (s.get("order_id") and may_act(s)):
        ctx.reply = phrases.ask_order(lang)
        return
    res = commands.change_address(bot.core, s["order_id"], text[:600], actor="chatbot")
    ctx.answered = True
    ctx.reply = _said(res, lang)
    if res.code == "confirm_address":
        s["pending"] = {
            "need": "confirm_address",
            "intent": "change_address",
            "sealed": _seal(bot, s["session_id"], res.data["address"]),
        }
    elif res.code == "address_invalid" and tries < 2:
        s["pending"] = {"need": "address", "intent": "change_address", "tries": tries + 1}


def _apply_address(bot: Bot, ctx: TurnCtx, pending: dict[str, Any]) -> None:
    s, lang = ctx.s, ctx.lang
    ctx.intent = "change_address"
    address = _unseal(bot, s["session_id"], str(pending.get("sealed") or ""))
    if address is None:
        s["pending"] = {"need": "address", "intent": "change_address"}
        ctx.reply = phrases.pick(
            lang, "새 배송지 주소를 다시 한 번 적어 주세요.", "Please type the new address once more."
        )
        return
    parts = {k: address.get(k) or "" for k in ("zip", "line1", "line2")}
    res = commands.change_address(bot.core, s["order_id"], parts, actor="chatbot", confirm=True)
    ctx.acted = res.ok
    ctx.reply = _said(res, lang)


def _pending_key(bot: Bot) -> bytes:
    return bot.core.keyring.master.derive("deliveryhub chat pending address v1")


def _seal(bot: Bot, session_id: str, address: dict[str, Any]) -> str:
    """The address to confirm, encrypted for the session row (never stored in the clear)."""
    plain = json.dumps({k: address.get(k) for k in ("zip", "line1", "line2")}, ensure_ascii=False)
    return base64.b64encode(seal(_pending_key(bot), plain.encode(), session_id.encode())).decode()


def _unseal(bot: Bot, session_id: str, blob: str) -> dict[str, Any] | None:
    try:
        plain = open_(_pending_key(bot), base64.b64decode(blob), session_id.encode())
        value = json.loads(plain)
    except (KeyError_, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _preference_changes(text: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if NOTICE_STOP.search(text):
        changes["opt_out"] = True
    for word, channel in NOTICE_CHANNEL_WORDS:
        if word in text.lower() and "opt_out" not in changes:
            changes["channel"] = channel
            break
    if NOTICE_QUIET.search(text):
        changes["quiet_hours"] = {"start": "21:00", "end": "08:00"}
    return changes


def _notification(bot: Bot, ctx: TurnCtx, prefix: str) -> None:
    s, lang = ctx.s, ctx.lang
    changes = _preference_changes(ctx.text)
    if changes and s.get("customer_id") and _set_preferences(bot, s["customer_id"], changes):
        ctx.acted = True
        parts_ko, parts_en = [], []
        if changes.get("opt_out"):
            parts_ko.append("배송 알림 수신을 중단")
            parts_en.append("stopped delivery notices")
        if changes.get("channel"):
            names = {"email": "이메일", "sms": "문자", "kakao": "알림톡"}
            parts_ko.append(f"알림 채널을 {attach(names[changes['channel']], '으로/로')} 변경")
            parts_en.append(f"switched notices to {changes['channel']}")
        if changes.get("quiet_hours"):
            parts_ko.append("밤 9시~아침 8시에는 알림을 보내지 않도록 설정")
            parts_en.append("set quiet hours 21:00-08:00")
        ctx.reply = prefix + phrases.pick(
            lang,
            ", ".join(parts_ko) + "했어요. 언제든 다시 바꾸실 수 있어요.",
            "Done: " + ", ".join(parts_en) + ".",
        )
        return
    entry = next((e for e in bot.faq.entries() if e.key == "notification_settings"), None)
    ctx.reply = prefix + (
        entry.answer(lang)
        if entry
        else phrases.pick(
            lang,
            "알림 채널(알림톡·문자·이메일), 수신 중단, 야간 알림 제한 중 무엇을 바꿔 드릴까요?",
            "Tell me what to change: the channel (KakaoTalk, SMS, e-mail), stopping notices, or quiet hours.",
        )
    )


def _set_preferences(bot: Bot, customer_id: str, changes: dict[str, Any]) -> bool:
    """Apply notification preference changes through the notifications feature, when installed."""
    try:
        from deliveryhub.notifications.preferences import CUSTOMER_CHANNELS, update_preferences
    except ImportError:
        return False
    upd: dict[str, Any] = {}
    if changes.get("opt_out"):
        upd["opt_out"] = list(CUSTOMER_CHANNELS)
    if changes.get("channel"):
        upd["channels"] = [changes["channel"]]
        upd["opt_out"] = []
    if changes.get("quiet_hours"):
        upd["quiet_hours"] = changes["quiet_hours"]
    try:
        with bot.core.db.write(urgent=True) as conn:
            update_preferences(conn, bot.core.keyring, customer_id, upd, bot.now())
    except (LookupError, ValueError) as exc:
        log.warning("chat_preferences_failed", error=str(exc)[:200])
        return False
    return True
