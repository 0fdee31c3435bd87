"""The identity steps of a turn: bind the order the customer names, check the last four phone digits
under the durable lockout (identity.VerifyGuard), and the hand-off rules that need a verified order
(third contact about it, a VIP's complaint)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from deliveryhub.chatbot import identity, phrases
from deliveryhub.chatbot import queries as q
from deliveryhub.chatbot.lexicon import COMPLAINT_INTENTS
from deliveryhub.chatbot.nlu.entities import loose_last4, order_candidates, unheld_order_like
from deliveryhub.chatbot.session import Bot, TurnCtx, VerifyThrottled
from deliveryhub.kernel.phone import normalize_kr_phone
from deliveryhub.views.orders import customer_view


def last4(phone: Any) -> str | None:
    """The last four digits of a phone number as written anywhere (+82 10-…, 010…, 02-…)."""
    raw = str(phone or "")
    digits = re.sub(r"\D", "", normalize_kr_phone(raw) or raw)
    return digits[-4:] if len(digits) >= 4 else None


def may_act(s: dict[str, Any]) -> bool:
    """Whether the session proved identity with the phone digits (a notification link only shows)."""
    return bool(s.get("verified")) and s.get("verified_by") == "digits"


def find_order(bot: Bot, text: str, ents: dict[str, Any]) -> None:
    """Name the order the customer typed by looking its number up among the orders the hub holds (any
    shop's format: ORD-YYMMDD-NNNNNNN, Naver's 16 digits, Coupang's, Cafe24's YYYYMMDD-NNNNNNN, …): a
    match becomes `ents["order_id"]`, and a lone four-digit group next to it the phone digits."""
    candidates = order_candidates(text)
    if not candidates:
        return
    with bot.tx.reading() as conn:
        found = q.find_order_id(conn, candidates)
    if found is None:
        # A long number the hub does not hold is taken as an order number all the same: whether an order
        # exists is never told by the answer (the digits then fail like any wrong guess).
        found = ents.get("order_id") or next((c.upper() for c in candidates if unheld_order_like(c)), None)
        if found is None:
            return
    ents["order_id"] = found
    if ents.get("tracking_no") and found.replace("-", "").upper().endswith(str(ents["tracking_no"]).upper()):
        del ents["tracking_no"]  # the number was the order's, not a waybill
    if not (ents.get("phone_last4") or ents.get("phone")):
        digits = loose_last4(text, candidates)
        if digits:
            ents["phone_last4"] = digits


def bind_order(bot: Bot, ctx: TurnCtx, ents: dict[str, Any]) -> None:
    """Make the order the customer named the conversation's order (verification may not carry over)."""
    s = ctx.s
    oid = ents.get("order_id")
    if not oid or oid == s.get("order_id"):
        return
    with bot.tx.reading() as conn:
        row = conn.execute(q.ORDER_OWNER, {"oid": str(oid)}).first()
        if row is None and str(oid).upper() != str(oid):
            row = conn.execute(q.ORDER_OWNER, {"oid": str(oid).upper()}).first()
    s["order_id"] = row.order_id if row else str(oid)
    new_customer = row.customer_id if row else None
    # Verification belongs to the customer: another order of the same verified customer stays verified.
    if not (s.get("verified") and new_customer and new_customer == s.get("customer_id")):
        s["verified"] = False
        s["verified_by"] = None
        s["customer_id"] = None
    s["_order_customer"] = new_customer


def check_digits(bot: Bot, ctx: TurnCtx, given: str) -> bool:
    """The phone-digit check under the durable lockout. Failures never open a ticket: a customer who
    cannot pass is offered the notification link or a person, on request."""
    s, lang = ctx.s, ctx.lang
    ctx.store_text = "[휴대폰 뒷자리 입력됨]" if lang == "ko" else "[phone digits given]"
    ctx.intent = (s.get("pending") or {}).get("intent") or ctx.intent
    if ctx.staff:
        _audit_staff_attempt(bot, ctx)
        s["pending"] = None
        ctx.reply = identity.staff_text(lang)
        return False
    if int(s.get("verify_failures") or 0) >= bot.config.max_verify_failures:
        s["pending"] = None
        ctx.reply = identity.exhausted_text(lang)
        return False
    order_id = customer_id = expected = None
    if s.get("order_id"):
        with bot.tx.reading() as conn:
            owner = conn.execute(q.ORDER_OWNER, {"oid": s["order_id"]}).first()
            if owner is not None:
                order_id, customer_id = owner.order_id, owner.customer_id
            cust = customer_view(conn, bot.core.keyring, customer_id, "full") if customer_id else None
        expected = last4((cust or {}).get("phone"))
    outcome = bot.guard.attempt(order_id, customer_id, ctx.ip, expected, given[-4:], s["session_id"])
    if outcome.result == identity.OK:
        s.update(
            verified=True,
            verified_by="digits",
            customer_id=customer_id,
            verify_failures=0,
            verified_at=bot.now(),
        )
        ctx.verified_now = True
        return True
    if outcome.result == identity.THROTTLED:
        raise VerifyThrottled(outcome.until)
    if outcome.result == identity.LOCKED:
        s["pending"] = None
        ctx.reply = identity.locked_text(lang)
        return False
    s["verify_failures"] = int(s.get("verify_failures") or 0) + 1
    if s["verify_failures"] >= bot.config.max_verify_failures:
        s["order_id"] = None
        s["pending"] = None
        ctx.reply = identity.exhausted_text(lang)
        return False
    ctx.reply = phrases.digits_mismatch(lang)
    return False


def _audit_staff_attempt(bot: Bot, ctx: TurnCtx) -> None:
    """A staff login tried the customer's identity check: refused and recorded."""
    bot.core.audit.record(
        identity.ACTOR,
        "chat.verify_refused_staff",
        f"order:{ctx.s.get('order_id')}" if ctx.s.get("order_id") else None,
        {"session_id": str(ctx.s["session_id"])[:12]},
        ctx.ip,
    )


def escalate_after_verify(bot: Bot, ctx: TurnCtx, intent: str) -> bool:
    """Rules that need a verified order: the third contact about it, a VIP's complaint, and impatience
    ("대체 언제까지", "며칠째") from a customer who wrote before, has an open claim or a late order."""
    s = ctx.s
    now = bot.now()
    since = now - timedelta(days=bot.config.repeat_contact_days)
    with bot.tx.reading() as conn:
        row = conn.execute(
            q.CONTACTS_AND_SPEND,
            {
                "oid": s["order_id"],
                "since": since,
                "sid": s["session_id"],
                "cid": s.get("customer_id"),
                "today": now.date(),
            },
        ).one()
    contacts = int(row.chats or 0) + int(row.tickets or 0)
    spend = float(row.spend or 0) if intent in COMPLAINT_INTENTS else 0.0
    if contacts + 1 >= 3:
        ctx.hand_off(["repeat_contact"])
        return True
    if s.get("impatient") and (contacts or row.open_claims or row.late):
        ctx.hand_off(["repeat_contact" if contacts else "long_wait"])
        return True
    if intent in COMPLAINT_INTENTS and spend >= bot.config.vip_min_spend:
        ctx.hand_off(["vip"])
        return True
    return False
