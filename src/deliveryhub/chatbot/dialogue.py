"""Multi-turn chatbot policy: understand, ask for what is missing, verify the customer, answer from the
read models, act through the service layer, and hand off to a person when CS.md says so.

Hand-off is a state: once a session is handed off the bot stays silent there until an agent hands back.
The optional LLM backend only rephrases finished answers (masked); it never decides anything.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot import identity
from deliveryhub.chatbot import queries as q
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import CsConfig, Desk
from deliveryhub.domain.lifecycle import STAGE_RANK
from deliveryhub.pii import dlp
from deliveryhub.service_layer import commands
from deliveryhub.views.orders import customer_view

log = structlog.get_logger(__name__)

Classifier = Callable[[str], dict[str, Any]]
KST = ZoneInfo("Asia/Seoul")

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
IMMEDIATE_REASONS = ("human_request", "threat", "anger", "repeat_contact", "multi_problem")
REASON_PRIORITY = {
    "threat": "urgent",
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
REASON_TEXT = {
    "human_request": ("상담원 연결 요청", "asked for a person"),
    "threat": ("분쟁·신고 언급", "mentions a complaint to authorities or legal action"),
    "anger": ("강한 불만 표현", "strong anger"),
    "repeat_contact": ("같은 주문 반복 문의", "repeat contact about the same order"),
    "multi_problem": ("여러 문제 동시 제기", "several problems at once"),
    "low_confidence": ("챗봇이 두 번 연속 이해하지 못함", "the bot did not understand twice"),
    "claim_amount": ("자동 승인 한도를 넘는 클레임", "claim above the auto-approval amount"),
    "vip": ("VIP 고객", "VIP customer"),
    "double_charge": ("중복 결제 의심", "possible double charge"),
    "missing_old": ("배송 완료 후 2일 넘은 미수령", "not received, delivered more than 2 days ago"),
    "verify_failed": ("본인 확인 반복 실패", "identity check failed repeatedly"),
}

STAGE_KO = {
    "received": "주문 접수",
    "stock_confirmed": "상품 준비 중",
    "picked_packed": "포장 완료",
    "waybill_created": "출고 준비(송장 발급)",
    "handed_over": "택배사 인계",
    "in_transit": "배송 중",
    "out_for_delivery": "배송 출발",
    "delivered": "배송 완료",
    "cancelled": "주문 취소",
    "delivery_failed": "배달 실패",
    "returned": "반품",
}
STAGE_EN = {
    "received": "order received",
    "stock_confirmed": "being prepared",
    "picked_packed": "packed",
    "waybill_created": "ready to ship (waybill issued)",
    "handed_over": "handed to the carrier",
    "in_transit": "in transit",
    "out_for_delivery": "out for delivery",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "delivery_failed": "delivery attempt failed",
    "returned": "returned",
}
CARRIER_KO = {
    "cj": "CJ대한통운",
    "lotte": "롯데택배",
    "hanjin": "한진택배",
    "epost": "우체국택배",
    "logen": "로젠택배",
}
CARRIER_EN = {
    "cj": "CJ Logistics",
    "lotte": "Lotte Global Logistics",
    "hanjin": "Hanjin",
    "epost": "Korea Post",
    "logen": "Logen",
}
REASON_KO = {
    "weather_delay": "기상 악화",
    "customs": "통관 절차",
    "address_not_found": "주소 확인 불가",
    "refused": "수취 거부",
    "damaged": "파손",
    "lost": "분실",
    "recipient_absent": "수취인 부재",
    "volume": "물량 증가",
    "capacity": "물량 증가",
    "holiday": "연휴 물량",
}
STATUS_KO = {
    "in_transit": "이동 중",
    "out_for_delivery": "배송 출발",
    "delivered": "배송 완료",
    "attempt_fail": "배달 시도 실패",
    "exception": "배송 이상",
    "info_received": "운송장 등록",
    "available_for_pickup": "보관 중(수령 대기)",
    "pending": "접수 대기",
    "expired": "조회 만료",
}
WEEKDAY_KO = "월화수목금토일"

_YES = re.compile(
    r"^(네+|넵|넹|예|응+|ㅇㅇ|ㅇㅋ|좋아요|좋습니다|그래요|그렇게\s*해\s*주세요|부탁(해요|드려요|드립니다)|"
    r"해\s*주세요|취소해\s*주세요|진행해\s*주세요|맞아요|yes|yeah|yep|ok|okay|sure|please( do)?)[.!~ ]*$",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^(아니(요|오)?|아뇨|아니에요|괜찮아요|됐어요|안\s*할래요|취소\s*안\s*할래요|no|nope|no thanks)[.!~ ]*$",
    re.IGNORECASE,
)
_POLICY_CUE = re.compile(
    r"기간|기한|언제까지|며칠|얼마|비용|배송비|수수료|방법|어떻게|정책|가능한가|되나요|"
    r"how long|how much|fee|cost|policy|window|can i",
    re.IGNORECASE,
)
_DOUBLE_CHARGE = re.compile(
    r"(두\s*번|2\s*번|이중|중복)\s*(결제|청구|출금)|(결제|청구|출금)\S*\s*(두\s*번|2\s*번)|"
    r"double\s*charg|charged\s*twice",
    re.IGNORECASE,
)
_ORDER_TOKEN = re.compile(r"^[#:\s]*([A-Za-z0-9][A-Za-z0-9-]{3,40})[.\s]*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")


SCAN_TYPES = frozenset(
    {"shipment.tracking", "shipment.handed_over", "shipment.delivered", "shipment.delivery_failed"}
)
SCAN_KO = {
    "shipment.handed_over": "택배사 인계",
    "shipment.delivered": "배송 완료",
    "shipment.delivery_failed": "배달 실패",
}


def _copula(word: str) -> str:
    """'이에요' after a final consonant, '예요' after a vowel (해요체 copula)."""
    last = word.rstrip()[-1:] if word.strip() else ""
    if "가" <= last <= "힣":
        return "이에요" if (ord(last) - 0xAC00) % 28 else "예요"
    return "이에요" if last.isdigit() and last in "013678" else "예요"


def lang_of(text: str, previous: str = "ko") -> str:
    """'en' when the customer writes English, 'ko' for Korean; keeps the previous language otherwise."""
    if _HANGUL.search(text):
        return "ko"
    letters = len(_LATIN.findall(re.sub(r"[A-Za-z]{2,5}-?\d[\d-]*", "", text)))
    return "en" if letters >= 3 else previous


def default_classifier() -> Classifier:
    """The project's NLU classifier (imported lazily: it loads models on first use)."""
    from deliveryhub.chatbot.nlu.api import classify

    return classify


def _reasons_for(text: str, intent: str, escalate: bool) -> list[str]:
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


def _fmt_time(value: str | datetime | None, lang: str) -> str:
    if not value:
        return ""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = dt.astimezone(KST)
    if lang == "en":
        return local.strftime("%a %b %-d, %H:%M")
    return f"{local.month}월 {local.day}일({WEEKDAY_KO[local.weekday()]}) {local.hour:02d}:{local.minute:02d}"


def _fmt_window(eta: dict[str, Any] | None, lang: str) -> str:
    if not eta or not eta.get("eta_min"):
        return ""
    lo = datetime.fromisoformat(eta["eta_min"]).astimezone(KST)
    hi = datetime.fromisoformat(eta["eta_max"] or eta["eta_min"]).astimezone(KST)
    if lang == "en":
        if lo.date() == hi.date():
            return f"{lo.strftime('%a %b %-d')}, {lo.strftime('%H:%M')}-{hi.strftime('%H:%M')}"
        return f"{lo.strftime('%a %b %-d')} - {hi.strftime('%a %b %-d')}"
    day = f"{lo.month}월 {lo.day}일({WEEKDAY_KO[lo.weekday()]})"
    if lo.date() == hi.date():
        return f"{day} {lo.hour}시~{hi.hour if hi.minute == 0 else hi.hour + 1}시"
    return f"{day}~{hi.month}월 {hi.day}일({WEEKDAY_KO[hi.weekday()]})"


class Rephraser:
    """Optional OpenAI-compatible rephrasing of a finished answer; falls back to the original text.

    It only sees DLP-masked text, and a rephrasing that drops any number (order, tracking, amounts, times)
    is discarded, so it cannot change what the bot says, only how."""

    def __init__(self, url: str, model: str, api_key: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def rephrase(self, text: str, lang: str) -> str:
        """A politer/warmer wording of `text` in the same language, or `text` itself."""
        masked = dlp.mask_text(text) or ""
        style = (
            "정중한 해요체의 한국어 고객센터 상담원 말투로, 사실·숫자·링크는 바꾸지 말고 자연스럽게 다듬어 "
            "주세요."
            if lang == "ko"
            else "Rewrite as a friendly, concise customer-service agent. Keep every fact, "
            "number and link unchanged."
        )
        try:
            resp = httpx.post(
                f"{self.url}/chat/completions",
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.api_key}"} if self.api_key else {},
                json={
                    "model": self.model,
                    "temperature": 0.2,
                    "messages": [{"role": "system", "content": style}, {"role": "user", "content": masked}],
                },
            )
            resp.raise_for_status()
            out = str(resp.json()["choices"][0]["message"]["content"]).strip()
        except Exception as exc:  # the bot must answer even when the LLM is down
            log.warning("chat_rephrase_failed", error=str(exc)[:200])
            return text
        if not out or any(num not in out for num in re.findall(r"\d[\d,:-]*\d|\d", masked)):
            return text
        if masked != text:
            return text  # the answer carried personal data: never replace it with a masked variant
        return out


@dataclass
class Turn:
    """What one customer message produced."""

    reply: str | None
    intent: str | None
    escalated: bool
    ticket_id: int | None = None
    confidence: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """API shape."""
        out: dict[str, Any] = {"reply": self.reply, "intent": self.intent, "escalated": self.escalated}
        if self.ticket_id is not None:
            out["ticket_id"] = self.ticket_id
        return out


class SessionNotFound(LookupError):
    """No chat session with that id."""


class InvalidLinkToken(ValueError):
    """A link token that does not prove anything (tampered, malformed, unknown order, links not wired)."""


class VerifyThrottled(RuntimeError):
    """This client address made too many wrong identity checks; it must wait until `until`."""

    def __init__(self, until: datetime | None) -> None:
        super().__init__("too many identity checks from this address")
        self.until = until


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


def _may_act(s: dict[str, Any]) -> bool:
    """Whether the session proved identity with the phone digits (a notification link only shows)."""
    return bool(s.get("verified")) and s.get("verified_by") == "digits"


class _TurnConn(threading.local):
    """The database transaction shared by one chat turn (per worker thread)."""

    active: bool = False
    cm: Any = None
    conn: Any = None


class ChatService:
    """The chatbot over the hub's read models and commands; the classifier is injected."""

    def __init__(self, hub: Any, desk: Desk, config: CsConfig, classify: Classifier | None = None) -> None:
        self.hub = hub
        self.desk = desk
        self.config = config
        self._classify = classify
        self._faq: tuple[float, list[faqmod.FaqEntry]] | None = None
        self._turn = _TurnConn()
        self.guard = identity.VerifyGuard(hub)
        # A turn's lookups share one connection instead of a checkout, BEGIN and COMMIT each. On PostgreSQL
        # its reads and its final write are one transaction; READ COMMITTED lets those reads see what the
        # service layer committed earlier in the same turn. On SQLite the shared connection reads without a
        # transaction (each statement sees the latest commit: a snapshot would hide the turn's own actions)
        # and the final write takes its own write transaction.
        self._share_turn_tx = getattr(hub.db, "dialect", "") == "postgresql"

    # ------------------------------------------------------------ plumbing
    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A connection for a lookup: the turn's shared transaction when there is one."""
        tc = self._turn
        if not tc.active:
            with self.hub.db.read() as conn:
                yield conn
            return
        if tc.conn is None:
            tc.cm = self.hub.db.write(urgent=True) if self._share_turn_tx else self.hub.db.read_latest()
            tc.conn = tc.cm.__enter__()
        yield tc.conn

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """The turn's final write: in the shared transaction (committed on exit) when there is one."""
        if not self._share_turn_tx:
            self._end_turn(None)  # SQLite: let go of the shared read connection first
        if not self._turn.active:
            with self.hub.db.write(urgent=True) as conn:
                yield conn
            return
        with self._reading() as conn:
            yield conn
        self._end_turn(None)

    def _end_turn(self, exc: BaseException | None) -> None:
        tc = self._turn
        cm, tc.cm, tc.conn, tc.active = tc.cm, None, None, False
        if cm is not None:
            if exc is None:
                cm.__exit__(None, None, None)
            else:
                cm.__exit__(type(exc), exc, exc.__traceback__)

    @property
    def classify(self) -> Classifier:
        """The classifier (the real NLU unless one was injected)."""
        if self._classify is None:
            self._classify = default_classifier()
        return self._classify

    def now(self) -> datetime:
        """The hub's time."""
        return self.hub.clock.now()  # type: ignore[no-any-return]

    def faq_entries(self) -> list[faqmod.FaqEntry]:
        """FAQ entries, cached for 30 s (edits in the UI show up quickly)."""
        import time as _time

        if self._faq is None or _time.monotonic() - self._faq[0] > 30:
            with self.hub.db.read() as conn:
                self._faq = (_time.monotonic(), faqmod.entries(conn))
        return self._faq[1]

    def invalidate_faq(self) -> None:
        """Forget the cached FAQ (after an edit)."""
        self._faq = None

    def rephraser(self) -> Rephraser | None:
        """The LLM rephraser when configured (off by default)."""
        c = self.config
        return Rephraser(c.llm_url, c.llm_model, c.llm_api_key, c.llm_timeout) if c.llm_url else None

    # ------------------------------------------------------------ sessions
    def new_session(
        self, ip: str | None = None, lang: str = "ko", link_token: str | None = None
    ) -> dict[str, Any]:
        """Open a conversation; returns its id and the greeting.

        With `link_token` (the signed token of a notification's tracking link) the conversation opens
        verified for that order and its customer, as if the order number and phone digits had been given;
        a token that proves nothing raises InvalidLinkToken and opens nothing."""
        sid = secrets.token_urlsafe(24)
        now = self.now()
        lang = "en" if lang == "en" else "ko"
        linked = self._order_from_link(link_token) if link_token is not None else None
        greeting = (
            "Hello! I'm the delivery assistant. I can track your order, cancel it or change the address "
            "before "
            "it ships, start a return or exchange, and report damaged, wrong or missing items. How can "
            "I help?"
            if lang == "en"
            else "안녕하세요! 배송·주문 상담 챗봇이에요. 배송 조회, 출고 전 주문 취소·배송지 변경, 반품·교환 "
            "신청, "
            "파손·오배송·분실 접수를 도와드려요. 무엇을 도와드릴까요?"
        )
        if linked is not None:
            greeting = (
                f"Welcome! You came from the link in our notification, so you're already verified for "
                f"order {linked[0]} and I can help with it right away. How can I help?"
                if lang == "en"
                else f"알림 링크로 들어오셨네요. 주문({linked[0]}) 건으로 본인 확인이 되어 바로 안내해 "
                "드릴 수 있어요. 무엇을 도와드릴까요?"
            )
        with self.hub.db.write(urgent=True) as conn:
            conn.execute(
                q.INSERT_SESSION,
                {
                    "session_id": sid,
                    "created_at": now,
                    "updated_at": now,
                    "lang": lang,
                    "state": "bot",
                    "order_id": linked[0] if linked else None,
                    "customer_id": linked[1] if linked else None,
                    "verified": linked is not None,
                    "verified_at": now if linked else None,
                    "verified_by": "link" if linked else None,
                    "verify_failures": 0,
                    "low_conf_streak": 0,
                    "clarified": False,
                    "bot_answers": 0,
                    "client_ip": (ip or "")[:64],
                    "emitted": [],
                },
            )
            conn.execute(q.INSERT_MESSAGE, {"session_id": sid, "at": now, "role": "bot", "text": greeting})
        out: dict[str, Any] = {"session_id": sid, "greeting": greeting, "verified": linked is not None}
        if linked is not None:
            out["order_id"] = linked[0]
        return out

    def _order_from_link(self, token: str) -> tuple[str, str | None]:
        """(order_id, customer_id) of an existing order behind a valid link token, else InvalidLinkToken.

        The token is checked by the notifications feature (service `order_from_link_token`); without that
        service links are not available here. Every failure says the same thing: nothing is revealed."""
        read = self.hub.services.get("order_from_link_token")
        order_id = None
        if read is not None and isinstance(token, str) and 0 < len(token) <= 400:
            try:
                order_id = read(token)
            except (ValueError, TypeError):  # a malformed token is a bad link, never a server error
                order_id = None
        if order_id:
            with self.hub.db.read() as conn:
                row = conn.execute(q.ORDER_OWNER, {"oid": str(order_id)}).first()
            if row is not None:
                return str(row.order_id), row.customer_id
        raise InvalidLinkToken("token: this link is not valid (it may be incomplete or changed)")

    def messages(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Messages of a session after id `after` (the widget polls this for agent replies)."""
        with self.hub.db.read() as conn:
            if conn.execute(q.SESSION_EXISTS, {"sid": session_id}).first() is None:
                raise SessionNotFound(session_id)
            rows = conn.execute(
                sa.select(ct.chat_messages)
                .where(ct.chat_messages.c.session_id == session_id, ct.chat_messages.c.id > after)
                .order_by(ct.chat_messages.c.id)
            ).all()
        out = []
        for r in rows:
            text = r.text
            csat = "[csat:" in text
            if csat:
                text = re.sub(r"\s*\[csat:[^\]]+\]", "", text)
            out.append({"id": r.id, "role": r.role, "text": text, "at": r.at.isoformat(), "csat": csat})
        return out

    def _load(self, session_id: str) -> dict[str, Any]:
        with self._reading() as conn:
            row = conn.execute(q.LOAD_SESSION, {"sid": session_id}).first()
        if row is None:
            raise SessionNotFound(session_id)
        s = dict(row._mapping)
        s["emitted"] = list(s.get("emitted") or [])
        return s

    # ------------------------------------------------------------ one turn
    def post(self, session_id: str, text: str, ip: str | None = None, staff: bool = False) -> Turn:
        """Handle one customer message and return the bot's answer (None while handed off).

        `ip` is the client address (identity checks are limited per address); `staff` says the request
        carried staff credentials, which may never pass the customer's identity check."""
        text = (text or "").strip()[:2000]
        if not text:
            raise ValueError("text: required")
        self._turn.active = True
        try:
            return self._post(session_id, text, ip, staff)
        except BaseException as exc:
            self._end_turn(exc)
            raise
        finally:
            self._end_turn(None)

    def _post(self, session_id: str, text: str, ip: str | None = None, staff: bool = False) -> Turn:
        s = self._load(session_id)
        s["lang"] = lang_of(text, s["lang"])
        ctx = _TurnCtx(s, text)
        ctx.ip, ctx.staff = ip, staff
        if s["state"] == "handed_off":
            return self._silent(ctx)
        if s["state"] == "closed":
            pending = s.get("pending") or {}
            score = text.strip().rstrip("점").strip()
            if pending.get("need") == "csat" and score.isdigit() and 1 <= int(score) <= 5:
                self.desk.answer_csat(pending["token"], int(score))
                s["pending"] = None
                ctx.reply = (
                    "Thank you for rating us! Have a great day."
                    if s["lang"] == "en"
                    else "소중한 평가 감사해요! 좋은 하루 보내세요."
                )
                ctx.intent = "other"
                return self._finish(ctx)
            s["state"], s["pending"] = "bot", None  # a new question after resolution: the bot serves again
        nlu = self.classify(text)
        ctx.intent = str(nlu.get("intent") or "other")
        ctx.confidence = float(nlu.get("confidence") or 0.0)
        ents = dict(nlu.get("entities") or {})
        self._decide(ctx, nlu, ents)
        return self._finish(ctx)

    def _silent(self, ctx: _TurnCtx) -> Turn:
        s = ctx.s
        now = self.now()
        with self.hub.db.write(urgent=True) as conn:
            conn.execute(
                ct.chat_messages.insert().values(
                    session_id=s["session_id"],
                    at=now,
                    role="customer",
                    text=(dlp.mask_text(ctx.text) or "")[:4000],
                )
            )
            conn.execute(
                ct.chat_sessions.update()
                .where(ct.chat_sessions.c.session_id == s["session_id"])
                .values(updated_at=now, lang=s["lang"])
            )
        if s.get("ticket_id"):
            self.desk.customer_message(int(s["ticket_id"]), ctx.text)
        return Turn(None, None, True, s.get("ticket_id"))

    def _decide(self, ctx: _TurnCtx, nlu: dict[str, Any], ents: dict[str, Any]) -> None:
        s, text, lang = ctx.s, ctx.text, ctx.s["lang"]
        pending = s.get("pending") or {}
        need = pending.get("need")
        reasons = _reasons_for(text, ctx.intent or "other", bool(nlu.get("escalate")))
        if any(r in IMMEDIATE_REASONS for r in reasons):
            self._bind_order(ctx, ents)
            self._handoff(ctx, [r for r in reasons if r in IMMEDIATE_REASONS])
            return
        # A message that answers what the bot asked for continues that request.
        if need == "address" and len(text) >= 5 and ctx.intent not in ("cancel_order", "human_agent"):
            ctx.store_text = "[새 배송지 입력됨]" if lang == "ko" else "[new address given]"
            self._change_address(ctx, text)
            return
        if need in ("confirm_cancel", "offer_return", "offer_cancel", "choose_remedy"):
            if _YES.match(text) or (
                need == "choose_remedy"
                and re.search(r"^[12]\b|교환|반품|환불|exchange|return|refund", text, re.IGNORECASE)
            ):
                self._confirmed(ctx, need, text)
                return
            if _NO.match(text):
                s["pending"] = None
                ctx.intent = "other"
                ctx.reply = (
                    "Understood, I won't change anything. Is there anything else I can help with?"
                    if lang == "en"
                    else "알겠어요, 그대로 둘게요. 더 도와드릴 일이 있을까요?"
                )
                return
        answered_need = (need == "order_id" and (ents.get("order_id") or _ORDER_TOKEN.match(text))) or (
            need == "phone_last4" and (ents.get("phone_last4") or ents.get("phone"))
        )
        intent = ctx.intent or "other"
        if answered_need or (
            pending.get("intent") and (ctx.confidence or 0) < self.config.confidence_threshold
        ):
            intent = ctx.intent = pending.get("intent") or intent
        elif pending.get("intent") and intent == "other" and need in ("order_id", "phone_last4"):
            intent = ctx.intent = pending["intent"]
        if need == "order_id" and not ents.get("order_id"):
            m = _ORDER_TOKEN.match(text)
            if (
                m
                and any(ch.isdigit() for ch in m.group(1))
                and not (m.group(1).isdigit() and len(m.group(1)) == 4)
            ):
                ents["order_id"] = m.group(1).upper()
        self._bind_order(ctx, ents)
        if need == "phone_last4" and (ents.get("phone_last4") or ents.get("phone")):
            last4 = str(ents.get("phone_last4") or re.sub(r"\D", "", str(ents["phone"]))[-4:])
            if not self._verify(ctx, last4):
                return
            intent = ctx.intent = pending.get("intent") or intent
            if self._escalate_after_verify(ctx, intent):
                return
            self._serve(ctx, intent)
            return
        # Low confidence: clarify once, then hand off.
        if (ctx.confidence or 0) < self.config.confidence_threshold and not answered_need:
            entry = self._faq_match(text, intent, force=True)
            if entry is not None:
                self._answer_faq(ctx, entry)
                return
            s["low_conf_streak"] = int(s.get("low_conf_streak") or 0) + 1
            self.desk_note_unanswered(ctx)
            if s["low_conf_streak"] >= 2:
                self._handoff(ctx, ["low_confidence"])
                return
            s["clarified"] = True
            ctx.intent = intent
            ctx.reply = (
                "Sorry, I'm not sure I understood. Could you tell me a little more? For example: "
                '"track my order", "cancel my order", "start a return" or "my item arrived damaged".'
                if lang == "en"
                else "죄송해요, 제가 정확히 이해하지 못했어요. 조금만 더 자세히 말씀해 주시겠어요? 예를 들어 "
                "'배송 "
                "조회', "
                "'주문 취소', '반품 신청', '상품이 파손됐어요'처럼 말씀해 주시면 바로 도와드릴게요."
            )
            return
        s["low_conf_streak"] = 0
        self._route(ctx, intent)

    def desk_note_unanswered(self, ctx: _TurnCtx) -> None:
        """Remember a question the bot could not answer (FAQ candidates)."""
        ctx.unanswered = True

    def _route(self, ctx: _TurnCtx, intent: str) -> None:
        s, text = ctx.s, ctx.text
        if intent == "payment_issue" and _DOUBLE_CHARGE.search(text):
            self._handoff(ctx, ["double_charge"])
            return
        entry = self._faq_match(text, intent)
        if entry is not None:
            self._answer_faq(ctx, entry)
            return
        if intent in ORDER_INTENTS:
            if not s.get("order_id"):
                s["pending"] = {"need": "order_id", "intent": intent}
                ctx.reply = self._empathy(intent, s["lang"]) + self._ask_order(s["lang"])
                return
            if not s.get("verified"):
                s["pending"] = {"need": "phone_last4", "intent": intent}
                ctx.reply = self._empathy(intent, s["lang"]) + self._ask_last4(s["lang"])
                return
            if intent in ACTING_INTENTS and not _may_act(s):
                # A notification link shows the order; acting on it needs the customer's digits too.
                s["pending"] = {"need": "phone_last4", "intent": intent}
                ctx.reply = self._empathy(intent, s["lang"]) + identity.link_act_text(s["lang"])
                return
            if self._escalate_after_verify(ctx, intent):
                return
            self._serve(ctx, intent)
            return
        if intent == "stock_inquiry":
            entry = next((e for e in self.faq_entries() if e.topic == "stock"), None)
            if entry is not None:
                self._answer_faq(ctx, entry)
                return
        if intent in ("payment_issue", "other", "stock_inquiry"):
            entry = self._faq_match(text, intent, force=True)
            if entry is not None:
                self._answer_faq(ctx, entry)
                return
            if re.fullmatch(r"(감사|고마워|고맙|thank|thanks|ty)\S*[.!~ ]*", text, re.IGNORECASE):
                ctx.reply = (
                    "You're welcome! Let me know if there is anything else."
                    if s["lang"] == "en"
                    else "천만에요! 더 궁금한 점이 있으면 언제든 말씀해 주세요."
                )
                return
            if re.fullmatch(r"(안녕|하이|hi|hello|hey)\S*[.!~ ]*", text, re.IGNORECASE):
                ctx.reply = (
                    "Hello! How can I help you today?"
                    if s["lang"] == "en"
                    else "안녕하세요! 무엇을 도와드릴까요?"
                )
                return
            ctx.unanswered = True
            ctx.reply = (
                "I couldn't find an answer to that, sorry. I can track orders, cancel or change the "
                "address before "
                "shipping, start returns and exchanges, and report damaged, wrong or missing items. If "
                "you would "
                'like a person to help, just type "agent".'
                if s["lang"] == "en"
                else "죄송해요, 그 질문에는 제가 바로 답변드리기 어려워요. 저는 배송 조회, 출고 전 "
                "취소·배송지 "
                "변경, "
                "반품·교환 "
                "신청, 파손·오배송·분실 접수를 도와드릴 수 있어요. 상담원과 이야기하고 싶으시면 '상담원 "
                "연결'이라고 "
                "말씀해 주세요."
            )
            return
        ctx.reply = self._ask_order(s["lang"])

    # ------------------------------------------------------------ identity
    def _bind_order(self, ctx: _TurnCtx, ents: dict[str, Any]) -> None:
        s = ctx.s
        oid = ents.get("order_id")
        if not oid or oid == s.get("order_id"):
            return
        with self._reading() as conn:
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

    def _verify(self, ctx: _TurnCtx, last4: str) -> bool:
        """The phone-digit check under the durable lockout (identity.VerifyGuard). Failures never open a
        ticket: a customer who cannot pass is offered the notification link or a person, on request."""
        s, lang = ctx.s, ctx.s["lang"]
        ctx.store_text = "[휴대폰 뒷자리 입력됨]" if lang == "ko" else "[phone digits given]"
        ctx.intent = (s.get("pending") or {}).get("intent") or ctx.intent
        if ctx.staff:
            self._audit_staff_attempt(ctx)
            s["pending"] = None
            ctx.reply = identity.staff_text(lang)
            return False
        if int(s.get("verify_failures") or 0) >= self.config.max_verify_failures:
            s["pending"] = None
            ctx.reply = identity.exhausted_text(lang)
            return False
        order_id = customer_id = expected = None
        if s.get("order_id"):
            with self._reading() as conn:
                owner = conn.execute(q.ORDER_OWNER, {"oid": s["order_id"]}).first()
                if owner is not None:
                    order_id, customer_id = owner.order_id, owner.customer_id
                cust = customer_view(conn, self.hub.keyring, customer_id, "full") if customer_id else None
            phone = re.sub(r"\D", "", str((cust or {}).get("phone") or ""))
            expected = phone[-4:] if len(phone) >= 4 else None
        outcome = self.guard.attempt(order_id, customer_id, ctx.ip, expected, last4[-4:], s["session_id"])
        if outcome.result == identity.OK:
            s.update(
                verified=True,
                verified_by="digits",
                customer_id=customer_id,
                verify_failures=0,
                verified_at=self.now(),
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
        if s["verify_failures"] >= self.config.max_verify_failures:
            s["order_id"] = None
            s["pending"] = None
            ctx.reply = identity.exhausted_text(lang)
            return False
        ctx.reply = (
            "The order number and phone digits don't match our records. Please check them and send the "
            "order number or the last four digits again."
            if lang == "en"
            else "주문번호와 휴대폰 번호 뒷자리가 일치하는 주문을 찾지 못했어요. 주문번호나 휴대폰 번호 "
            "뒷자리 "
            "4자리를 다시 한번 확인해 주시겠어요?"
        )
        return False

    def _audit_staff_attempt(self, ctx: _TurnCtx) -> None:
        """A staff login tried the customer's identity check: refused and recorded."""
        audit = self.hub.services.get("audit")
        if audit is not None:
            audit(
                identity.ACTOR,
                "chat.verify_refused_staff",
                f"order:{ctx.s.get('order_id')}" if ctx.s.get("order_id") else None,
                {"session_id": str(ctx.s["session_id"])[:12]},
                ctx.ip,
            )

    def _escalate_after_verify(self, ctx: _TurnCtx, intent: str) -> bool:
        """Rules that need a verified order: third contact, VIP."""
        s = ctx.s
        since = self.now() - timedelta(days=self.config.repeat_contact_days)
        with self._reading() as conn:
            row = conn.execute(
                q.CONTACTS_AND_SPEND,
                {"oid": s["order_id"], "since": since, "sid": s["session_id"], "cid": s.get("customer_id")},
            ).one()
        contacts = int(row.chats or 0) + int(row.tickets or 0)
        spend = float(row.spend or 0) if intent in COMPLAINT_INTENTS else 0.0
        if contacts + 1 >= 3:
            self._handoff(ctx, ["repeat_contact"])
            return True
        if intent in COMPLAINT_INTENTS and spend >= self.config.vip_min_spend:
            self._handoff(ctx, ["vip"])
            return True
        return False

    # ------------------------------------------------------------ serving a verified request
    def _detail(self, order_id: str) -> dict[str, Any] | None:
        with self._reading() as conn:
            return q.order_status(conn, order_id)

    def _serve(self, ctx: _TurnCtx, intent: str) -> None:
        s, lang = ctx.s, ctx.s["lang"]
        s["pending"] = None
        ctx.intent = intent
        oid = s["order_id"]
        d = self._detail(oid)
        if d is None:
            ctx.reply = "I could not find that order." if lang == "en" else "주문을 찾지 못했어요."
            return
        ctx.answered = True
        prefix = (
            ("Thank you, you're verified. " if lang == "en" else "확인 감사해요. ")
            if ctx.verified_now
            else ""
        )
        if intent in ("track_order", "delivery_delay"):
            ctx.reply = prefix + self.status_text(d, lang, delay=intent == "delivery_delay")
            comp = self.hub.services.get("delay_compensation")
            if intent == "delivery_delay" and comp is not None:
                try:
                    granted = comp(oid)
                except Exception as exc:  # the answer matters more than the coupon
                    log.warning("delay_compensation_failed", error=str(exc)[:200])
                    granted = None
                if granted:
                    ctx.reply += (
                        " As an apology for the delay, we've issued you compensation."
                        if lang == "en"
                        else " 늦어진 데 대한 사과의 뜻으로 보상 쿠폰을 발급해 드렸어요."
                    )
            return
        if intent == "cancel_order":
            if d["stage"] == "cancelled":
                ctx.reply = prefix + (
                    "This order is already cancelled." if lang == "en" else "이미 취소된 주문이에요."
                )
            elif STAGE_RANK.get(str(d["stage"]), -1) >= STAGE_RANK["handed_over"]:
                res = commands.cancel_order(self.hub, oid, "chatbot request", actor="chatbot")
                s["pending"] = {"need": "offer_return", "intent": "return_request"}
                ctx.reply = prefix + (
                    res.message_en + " Would you like me to start a return now?"
                    if lang == "en"
                    else res.message_ko + " 지금 바로 반품 접수를 도와드릴까요? (네/아니요)"
                )
            else:
                s["pending"] = {"need": "confirm_cancel", "intent": "cancel_order"}
                ctx.reply = prefix + (
                    f"Order {oid} has not shipped yet, so I can cancel it right away. Shall I cancel "
                    "it? (yes/no)"
                    if lang == "en"
                    else f"주문({oid})은 아직 출고 전이라 바로 취소할 수 있어요. 취소해 드릴까요? (네/아니요)"
                )
            return
        if intent == "change_address":
            if d["stage"] == "cancelled" or STAGE_RANK.get(str(d["stage"]), -1) >= STAGE_RANK["handed_over"]:
                ctx.reply = prefix + (
                    "The parcel has already left our warehouse, so the address can no longer be changed "
                    "here. You can "
                    'ask the carrier to redirect it, or type "agent" and a person will help.'
                    if lang == "en"
                    else "이미 택배사로 출고되어 여기서는 배송지를 바꿀 수 없어요. 택배사에 직접 변경을 "
                    "요청하시거나 "
                    "'상담원 연결'이라고 말씀해 주시면 상담원이 도와드릴게요."
                )
            else:
                s["pending"] = {"need": "address", "intent": "change_address"}
                ctx.reply = prefix + (
                    "It hasn't shipped yet, so I can change it. Please type the new address (with "
                    "the recipient if it changes)."
                    if lang == "en"
                    else "아직 출고 전이라 변경할 수 있어요. 새 배송지 주소를 한 번에 적어 주세요. "
                    "(받는 분이 바뀌면 함께 적어 주세요)"
                )
            return
        if intent == "return_request":
            if STAGE_RANK.get(str(d["stage"]), -1) < STAGE_RANK["handed_over"] and d["stage"] != "cancelled":
                s["pending"] = {"need": "offer_cancel", "intent": "cancel_order"}
                ctx.reply = prefix + (
                    "It hasn't shipped yet, so instead of a return I can simply cancel it. Shall I "
                    "cancel the order? (yes/no)"
                    if lang == "en"
                    else "아직 출고 전이라 반품 대신 바로 취소할 수 있어요. 주문을 취소해 드릴까요? "
                    "(네/아니요)"
                )
                return
            res = commands.request_return(self.hub, oid, reason=ctx.text[:200], actor="chatbot")
            ctx.reply = prefix + (res.message_en if lang == "en" else res.message_ko)
            ctx.acted = res.ok
            return
        if intent == "exchange_request":
            existing = self._events(oid, ("exchange.requested", "exchange.completed"))
            if existing:
                done = any(e["type"] == "exchange.completed" for e in existing)
                ctx.reply = prefix + (
                    (
                        "Your exchange is complete."
                        if done
                        else "Your exchange is registered; we ship the new item as "
                        "soon as the old one is collected."
                    )
                    if lang == "en"
                    else (
                        "교환이 완료되었어요."
                        if done
                        else f"교환은 {_fmt_time(existing[-1]['occurred_at'], lang)}에 접수되어 진행 "
                        "중이에요. "
                        "기존 "
                        "상품이 "
                        "회수되는 대로 새 상품을 보내드려요."
                    )
                )
                return
            res = commands.request_exchange(self.hub, oid, reason=ctx.text[:200], actor="chatbot")
            ctx.reply = prefix + (res.message_en if lang == "en" else res.message_ko)
            ctx.acted = res.ok
            return
        if intent == "refund_status":
            ctx.reply = prefix + self._refund_text(oid, lang)
            return
        if intent in ("missing_delivery", "wrong_item", "damaged_item"):
            self._claim(ctx, d, intent, prefix)
            return
        if intent == "notification_issue":
            self._notification(ctx, prefix)
            return
        ctx.reply = prefix + self.status_text(d, lang)

    def _claim(self, ctx: _TurnCtx, d: dict[str, Any], intent: str, prefix: str) -> None:
        s, lang, oid = ctx.s, ctx.s["lang"], ctx.s["order_id"]
        kind = {"missing_delivery": "missing", "wrong_item": "wrong_item", "damaged_item": "damage"}[intent]
        amount = float(d.get("total") or 0) or None
        res = commands.open_claim(
            self.hub, oid, kind, amount=amount, note=(dlp.mask_text(ctx.text) or "")[:500], actor="chatbot"
        )
        ctx.acted = res.ok
        delivered_at = d.get("delivered_at")
        if (
            kind == "missing"
            and delivered_at
            and self.now() - datetime.fromisoformat(delivered_at) > timedelta(days=2)
        ):
            self._handoff(ctx, ["missing_old"])
            return
        if amount and amount > self.config.auto_approval_amount:
            self._handoff(ctx, ["claim_amount"])
            return
        if kind == "missing":
            ctx.reply = prefix + (
                "I've registered a missing-parcel claim and asked the carrier where it was left. We'll "
                "tell you the "
                "result within 24 hours. Could you also check the door, the security office and parcel "
                "lockers?"
                if lang == "en"
                else "분실·미수령 접수를 마쳤어요. 택배사에 배송 위치 확인을 요청했고, 24시간 안에 결과를 "
                "알려 "
                "드릴게요. "
                "그동안 문 앞, 경비실, 무인 택배함도 한 번만 확인해 주시겠어요?"
            )
        elif kind == "wrong_item":
            s["pending"] = {"need": "choose_remedy", "intent": "wrong_item"}
            ctx.reply = prefix + (
                "I'm sorry you received the wrong item. I've registered it. Would you like 1) the "
                "correct item sent "
                "(exchange) or 2) a return and refund? Return shipping is on us."
                if lang == "en"
                else "다른 상품을 받으셔서 많이 당황하셨죠, 정말 죄송해요. 오배송 접수를 마쳤어요. 1) 맞는 "
                "상품으로 "
                "다시 "
                "보내드릴까요(교환), 2) 반품 후 환불해 드릴까요? 배송비는 저희가 부담해요."
            )
        else:
            s["pending"] = {"need": "choose_remedy", "intent": "damaged_item"}
            ctx.reply = prefix + (
                "I'm very sorry it arrived damaged. I've registered a damage claim. Please upload a "
                "photo of the item "
                "and the box with the camera button, then tell me: 1) exchange or 2) refund?"
                if lang == "en"
                else "파손된 상품을 받으셔서 정말 속상하셨겠어요. 파손 접수를 마쳤어요. 아래 사진 버튼으로 "
                "상품과 "
                "상자 "
                "사진을 "
                "올려 주시고, 1) 교환과 2) 환불 중 원하시는 방법을 알려 주세요. 배송비는 저희가 부담해요."
            )

    def _confirmed(self, ctx: _TurnCtx, need: str, text: str) -> None:
        s, lang = ctx.s, ctx.s["lang"]
        oid = s.get("order_id")
        s["pending"] = None
        if not oid or not _may_act(s):
            ctx.reply = self._ask_order(lang)
            return
        if need in ("confirm_cancel", "offer_cancel"):
            ctx.intent = "cancel_order"
            res = commands.cancel_order(self.hub, oid, "customer request via chatbot", actor="chatbot")
            ctx.acted = res.ok
            ctx.answered = True
            if res.code == "already_shipped":
                s["pending"] = {"need": "offer_return", "intent": "return_request"}
                ctx.reply = (
                    res.message_en + " Would you like me to start a return now?"
                    if lang == "en"
                    else res.message_ko + " 지금 바로 반품 접수를 도와드릴까요? (네/아니요)"
                )
            else:
                ctx.reply = res.message_en if lang == "en" else res.message_ko
            return
        remedy_exchange = need == "choose_remedy" and re.search(r"^1\b|교환|exchange", text, re.IGNORECASE)
        if remedy_exchange:
            ctx.intent = "exchange_request"
            res = commands.request_exchange(self.hub, oid, reason="chatbot remedy", actor="chatbot")
        else:
            ctx.intent = "return_request"
            res = commands.request_return(
                self.hub,
                oid,
                reason="chatbot remedy" if need == "choose_remedy" else "customer request via chatbot",
                actor="chatbot",
            )
        ctx.acted = res.ok
        ctx.answered = True
        ctx.reply = res.message_en if lang == "en" else res.message_ko
        if need == "choose_remedy" and res.ok and not remedy_exchange:
            ctx.reply += (
                " Since the problem is ours, return shipping is free."
                if lang == "en"
                else " 상품 문제로 인한 반품이라 배송비는 받지 않아요."
            )

    def _change_address(self, ctx: _TurnCtx, text: str) -> None:
        s, lang = ctx.s, ctx.s["lang"]
        s["pending"] = None
        ctx.intent = "change_address"
        if not (s.get("order_id") and _may_act(s)):
            ctx.reply = self._ask_order(lang)
            return
        zip_m = re.search(r"(?<!\d)(\d{5})(?!\d)", text)
        address = {"line1": text[:300], "zip": zip_m.group(1) if zip_m else None}
        res = commands.change_address(
            self.hub, s["order_id"], {k: v for k, v in address.items() if v}, actor="chatbot"
        )
        ctx.acted = res.ok
        ctx.answered = True
        ctx.reply = res.message_en if lang == "en" else res.message_ko

    def _notification(self, ctx: _TurnCtx, prefix: str) -> None:
        s, lang, text = ctx.s, ctx.s["lang"], ctx.text
        changes: dict[str, Any] = {}
        if re.search(
            r"그만|끄|꺼|수신\s*거부|받지\s*않|안\s*받|stop|unsubscribe|opt.?out", text, re.IGNORECASE
        ):
            changes["opt_out"] = True
        for word, channel in (
            ("이메일", "email"),
            ("메일", "email"),
            ("email", "email"),
            ("문자", "sms"),
            ("sms", "sms"),
            ("알림톡", "kakao"),
            ("카톡", "kakao"),
            ("kakao", "kakao"),
        ):
            if word in text.lower() and "opt_out" not in changes:
                changes["channel"] = channel
                break
        if re.search(r"밤|야간|새벽|심야|night|quiet", text, re.IGNORECASE):
            changes["quiet_hours"] = {"start": "21:00", "end": "08:00"}
        if changes and s.get("customer_id") and self._set_preferences(s["customer_id"], changes):
            ctx.acted = True
            parts_ko, parts_en = [], []
            if changes.get("opt_out"):
                parts_ko.append("배송 알림 수신을 중단")
                parts_en.append("stopped delivery notices")
            if changes.get("channel"):
                names = {"email": "이메일", "sms": "문자", "kakao": "알림톡"}
                parts_ko.append(f"알림 채널을 {names[changes['channel']]}(으)로 변경")
                parts_en.append(f"switched notices to {changes['channel']}")
            if changes.get("quiet_hours"):
                parts_ko.append("밤 9시~아침 8시에는 알림을 보내지 않도록 설정")
                parts_en.append("set quiet hours 21:00-08:00")
            ctx.reply = prefix + (
                "Done: " + ", ".join(parts_en) + "."
                if lang == "en"
                else ", ".join(parts_ko) + "했어요. 언제든 다시 바꾸실 수 있어요."
            )
            return
        entry = next((e for e in self.faq_entries() if e.key == "notification_settings"), None)
        ctx.reply = prefix + (
            entry.answer(lang)
            if entry
            else (
                "Tell me what to change: the channel (KakaoTalk, SMS, e-mail), stopping notices, or "
                "quiet hours."
                if lang == "en"
                else "알림 채널(알림톡·문자·이메일), 수신 중단, 야간 알림 제한 중 무엇을 바꿔 드릴까요?"
            )
        )

    def _set_preferences(self, customer_id: str, changes: dict[str, Any]) -> bool:
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
            with self.hub.db.write(urgent=True) as conn:
                update_preferences(conn, self.hub.keyring, customer_id, upd, self.now())
        except (LookupError, ValueError) as exc:
            log.warning("chat_preferences_failed", error=str(exc)[:200])
            return False
        return True

    def _events(self, order_id: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
        with self._reading() as conn:
            rows = conn.execute(
                sa.select(t.inbox.c.type, t.inbox.c.occurred_at, t.inbox.c.data)
                .where(t.inbox.c.order_id == order_id, t.inbox.c.type.in_(types))
                .order_by(t.inbox.c.occurred_at)
            ).all()
        return [{"type": r.type, "occurred_at": r.occurred_at.isoformat(), "data": r.data} for r in rows]

    def _refund_text(self, order_id: str, lang: str) -> str:
        evs = self._events(
            order_id,
            ("return.requested", "return.picked_up", "return.received", "return.refunded", "order.cancelled"),
        )
        last = evs[-1] if evs else None
        if last is None:
            return (
                "There is no cancellation or return on this order yet. If you'd like to return it, just say "
                '"return".'
                if lang == "en"
                else "이 주문에는 아직 취소나 반품 내역이 없어요. 반품을 원하시면 '반품 신청'이라고 말씀해 "
                "주세요."
            )
        when = _fmt_time(last["occurred_at"], lang)
        if last["type"] == "return.refunded":
            amount = (last["data"] or {}).get("amount")
            amt = (
                f" ({amount:,.0f}원)"
                if isinstance(amount, int | float) and lang == "ko"
                else (f" ({amount:,.0f} won)" if isinstance(amount, int | float) else "")
            )
            return (
                f"Your refund{amt} was completed on {when}. Card refunds can take 3-5 business days to show."
                if lang == "en"
                else f"환불{amt}은 {when}에 완료되었어요. 카드 결제는 카드사 사정으로 3~5영업일 뒤에 보일 수 "
                "있어요."
            )
        if last["type"] == "return.received":
            return (
                f"We received your return on {when}; the refund follows within one business day of "
                "inspection."
                if lang == "en"
                else f"반품 상품이 {when}에 물류센터에 도착했어요. 검수 후 1영업일 안에 환불해 드려요."
            )
        if last["type"] == "return.picked_up":
            return (
                f"Your return was picked up on {when}. The refund follows once it reaches us and is "
                "inspected."
                if lang == "en"
                else f"반품 상품은 {when}에 회수되었어요. 물류센터에 도착해 검수가 끝나면 바로 환불해 드려요."
            )
        if last["type"] == "return.requested":
            return (
                f"Your return was registered on {when}; a courier will pick it up within 1-2 days, and "
                "the refund "
                "follows after inspection."
                if lang == "en"
                else f"반품은 {when}에 접수되었어요. 1~2일 안에 택배 기사님이 회수하러 방문하고, 검수 후 "
                "환불해 "
                "드려요."
            )
        return (
            f"The order was cancelled on {when}; the payment is refunded within 3-5 business days."
            if lang == "en"
            else f"주문은 {when}에 취소되었고, 결제 금액은 영업일 기준 3~5일 안에 환불돼요."
        )

    def status_text(self, d: dict[str, Any], lang: str, delay: bool = False) -> str:
        """The live status of an order in an agent's words: stage, carrier, waybill, last scan, ETA, cause."""
        stage = str(d.get("stage") or "received")
        side = d.get("side_state")
        parcels = d.get("parcels") or []
        p = parcels[-1] if parcels else None
        scans = [
            e
            for e in (p or {}).get("tracking") or []
            if e["type"] in SCAN_TYPES
            and (e.get("status") or e.get("location") or e["type"] != "shipment.tracking")
        ]
        last_scan = scans[-1] if scans else None
        eta = (p or {}).get("eta") or d.get("eta")
        promised = d.get("promised_delivery_date")
        today = self.now().astimezone(KST).date()
        late = bool(promised and stage != "delivered" and datetime.fromisoformat(promised).date() < today)
        cause = None
        if last_scan and last_scan.get("reason"):
            cause = last_scan["reason"]
        elif side == "delivery_failed":
            cause = "recipient_absent"
        if lang == "en":
            parts = [f"Your order {d['order_id']} is {STAGE_EN.get(stage, stage)}."]
            if p and p.get("carrier"):
                parts.append(
                    f"It ships with {CARRIER_EN.get(p['carrier'], p['carrier'])}"
                    + (f", tracking number {p['tracking_no']}." if p.get("tracking_no") else ".")
                )
            if last_scan:
                loc = f" at {last_scan['location']}" if last_scan.get("location") else ""
                parts.append(
                    f"Last scan: {last_scan.get('status') or last_scan['type']}{loc}, "
                    f"{_fmt_time(last_scan['occurred_at'], lang)}."
                )
            if stage == "delivered":
                parts.append(f"It was delivered {_fmt_time(d.get('delivered_at'), lang)}.")
            elif eta:
                parts.append(f"Expected delivery: {_fmt_window(eta, lang)}.")
            if late or delay:
                if cause:
                    parts.append(f"The delay is due to: {cause.replace('_', ' ')}.")
                if late:
                    parts.append("It is later than we promised, and we are sorry for that.")
            return " ".join(parts)
        parts = [f"주문하신 상품({d['order_id']})은 현재 '{STAGE_KO.get(stage, stage)}' 단계예요."]
        if p and p.get("carrier"):
            carrier = CARRIER_KO.get(p["carrier"], p["carrier"])
            parts.append(
                f"{carrier}"
                + (
                    f" 운송장번호 {p['tracking_no']}로 배송되고 있어요."
                    if p.get("tracking_no")
                    else "로 배송될 예정이에요."
                )
            )
        if last_scan:
            loc = f"'{last_scan['location']}'에서 " if last_scan.get("location") else ""
            status = STATUS_KO.get(
                str(last_scan.get("status")),
                SCAN_KO.get(last_scan["type"]) or last_scan.get("raw_status") or "스캔",
            )
            parts.append(
                f"마지막 위치는 {_fmt_time(last_scan['occurred_at'], lang)} {loc}{status} 처리된 것으로 "
                "확인돼요."
            )
        if stage == "delivered":
            parts.append(f"{_fmt_time(d.get('delivered_at'), lang)}에 배송 완료되었어요.")
        elif eta:
            window = _fmt_window(eta, lang)
            parts.append(f"도착 예정 시간은 {window}{_copula(window)}.")
        elif stage in ("received", "stock_confirmed", "picked_packed", "waybill_created"):
            parts.append("출고되면 운송장번호와 함께 알림으로 알려 드릴게요.")
        if late or delay:
            if cause:
                parts.append(f"지연 사유는 {REASON_KO.get(cause, cause)}(으)로 확인돼요.")
            if late:
                parts.append("약속드린 날짜보다 늦어지고 있어 정말 죄송해요.")
            elif delay:
                parts.append("기다리시게 해서 죄송해요. 배송 상황이 바뀌면 바로 알려 드릴게요.")
        return " ".join(parts)

    # ------------------------------------------------------------ FAQ
    def _faq_match(self, text: str, intent: str, force: bool = False) -> faqmod.FaqEntry | None:
        policy_like = (
            intent
            in (
                "return_request",
                "exchange_request",
                "refund_status",
                "cancel_order",
                "track_order",
                "delivery_delay",
                "notification_issue",
            )
            and _POLICY_CUE.search(text) is not None
        )
        if not (force or intent in ("other", "payment_issue", "stock_inquiry") or policy_like):
            return None
        entry, _score = faqmod.match(self.faq_entries(), text)
        return entry

    def _answer_faq(self, ctx: _TurnCtx, entry: faqmod.FaqEntry) -> None:
        ctx.s["low_conf_streak"] = 0
        ctx.faq_key = entry.key
        ctx.reply = entry.answer(ctx.s["lang"])

    # ------------------------------------------------------------ phrases
    def _ask_order(self, lang: str) -> str:
        return (
            "Could you give me your order number? You'll find it in the order confirmation message or under "
            "My Page > Orders (e.g. ORD-2026-000123)."
            if lang == "en"
            else "주문번호를 알려 주시겠어요? 주문 완료 문자나 마이페이지 > 주문내역에서 확인하실 수 있어요. "
            "(예: ORD-2026-000123)"
        )

    def _ask_last4(self, lang: str) -> str:
        return (
            "To protect your information, please tell me the last four digits of the phone number used "
            "for the "
            "order."
            if lang == "en"
            else "고객님 정보 보호를 위해 주문하실 때 입력하신 휴대폰 번호 뒷자리 4자리를 알려 주세요."
        )

    def _empathy(self, intent: str, lang: str) -> str:
        ko = {
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
        en = {
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
        return (en if lang == "en" else ko).get(intent, "")

    # ------------------------------------------------------------ hand-off
    def _handoff(self, ctx: _TurnCtx, reasons: list[str]) -> None:
        s, lang = ctx.s, ctx.s["lang"]
        ctx.handoff_reasons = reasons
        ctx.escalated = True
        s["state"] = "handed_off"
        s["pending"] = None
        first = reasons[0] if reasons else "human_request"
        if first in ("threat", "anger"):
            ko = (
                "많이 불편하셨을 텐데 정말 죄송해요. 바로 상담원이 직접 확인하도록 연결해 드릴게요. 지금까지 "
                "말씀해 "
                "주신 "
                "내용과 주문 정보를 함께 전달했으니 같은 내용을 다시 설명하지 않으셔도 돼요."
            )
            en = (
                "I'm truly sorry for the trouble. I'm connecting you to an agent right now, with our "
                "conversation and "
                "your order details, so you won't need to repeat yourself."
            )
        else:
            ko = (
                "상담원에게 연결해 드릴게요. 지금까지 나눈 대화와 주문 정보를 함께 전달했으니 같은 내용을 "
                "다시 "
                "말씀하지 않으셔도 돼요. 상담원이 이 대화창으로 곧 답변드릴게요. (상담 시간: 평일 "
                "09:00~18:00)"
            )
            en = (
                "I'm connecting you to an agent. They will see our conversation and your order details, "
                "so you won't "
                "need to repeat anything, and will reply right here. (Agents: weekdays 9:00-18:00 KST)"
            )
        ctx.reply = en if lang == "en" else ko

    def summary(self, s: dict[str, Any], reasons: list[str], last_text: str, intent: str | None) -> str:
        """One paragraph for the agent: why, which order and where it stands, what the customer wants."""
        reason_txt = ", ".join(REASON_TEXT.get(r, (r, r))[0] for r in reasons) or "상담원 연결"
        parts = [f"챗봇 상담 중 상담원 연결({reason_txt})."]
        if s.get("order_id"):
            stage = None
            with self._reading() as conn:
                stage = conn.execute(
                    sa.select(t.orders.c.stage).where(t.orders.c.order_id == s["order_id"])
                ).scalar()
            parts.append(
                f"주문 {s['order_id']}"
                + (f"(현재 '{STAGE_KO.get(stage, stage)}')" if stage else "")
                + (", 본인 확인 완료." if s.get("verified") else ", 본인 확인 전.")
            )
        else:
            parts.append("주문번호는 아직 받지 못했어요.")
        if intent:
            parts.append(f"문의 유형: {intent}.")
        parts.append(f'마지막 고객 메시지: "{(dlp.mask_text(last_text) or "")[:200]}".')
        return " ".join(parts)

    # ------------------------------------------------------------ write the turn
    def _finish(self, ctx: _TurnCtx) -> Turn:
        s = ctx.s
        now = self.now()
        if ctx.reply and (rp := self.rephraser()) is not None and not ctx.escalated:
            ctx.reply = rp.rephrase(ctx.reply, s["lang"])
        voc = self.desk.voc(ctx.text) if ctx.intent in COMPLAINT_INTENTS or ctx.escalated else None
        if ctx.answered or ctx.faq_key:
            s["bot_answers"] = int(s.get("bot_answers") or 0) + 1
        ticket_id: int | None = s.get("ticket_id")
        new_ticket = False
        # A conversation the bot served is recorded before the turn commits; the session row then says so.
        emitted = False
        if not ctx.escalated and (ctx.answered or ctx.acted) and s.get("verified") and s.get("order_id"):
            emitted = self._emit_conversation(s)
        with self._writing() as conn:
            said = {
                "session_id": s["session_id"],
                "at": now,
                "role": "customer",
                "text": (dlp.mask_text(ctx.store_text or ctx.text) or "")[:4000],
                "intent": ctx.intent,
                "confidence": ctx.confidence,
            }
            conn.execute(q.INSERT_MESSAGE, said)
            if ctx.reply:
                conn.execute(
                    q.INSERT_MESSAGE,
                    {
                        **said,
                        "role": "bot",
                        "text": (dlp.mask_text(ctx.reply) or "")[:4000],
                        "intent": None,
                        "confidence": None,
                    },
                )
            if ctx.unanswered:
                faqmod.record_unanswered(conn, s["session_id"], ctx.text, s["lang"], ctx.intent, now)
            if ctx.escalated:
                transcript = [
                    (
                        r.at,
                        {"customer": "customer", "bot": "bot", "agent": "agent"}.get(r.role, "system"),
                        r.text,
                    )
                    for r in conn.execute(
                        sa.select(ct.chat_messages)
                        .where(ct.chat_messages.c.session_id == s["session_id"])
                        .order_by(ct.chat_messages.c.id)
                    )
                ]
                prio = min(
                    (REASON_PRIORITY.get(r, "normal") for r in ctx.handoff_reasons),
                    key=lambda p: {"urgent": 0, "high": 1, "normal": 2, "low": 3}[p],
                    default="normal",
                )
                order_ok = (
                    bool(s.get("order_id"))
                    and conn.execute(
                        sa.select(t.orders.c.order_id).where(t.orders.c.order_id == s.get("order_id"))
                    ).first()
                    is not None
                )
                subject = "챗봇 상담원 연결: " + ", ".join(
                    REASON_TEXT.get(r, (r, r))[0] for r in ctx.handoff_reasons
                )
                ticket_id = self.desk.insert_ticket(
                    conn,
                    channel="chat",
                    subject=subject[:200],
                    text="",
                    order_id=s["order_id"] if order_ok else None,
                    customer_id=s.get("customer_id") if s.get("verified") else None,
                    session_id=s["session_id"],
                    priority=prio,
                    reason=",".join(ctx.handoff_reasons)[:64],
                    summary=self.summary(s, ctx.handoff_reasons, ctx.text, ctx.intent),
                    verified=bool(s.get("verified")),
                    canonical_id=f"chat-{s['session_id'][:20]}",
                    transcript=transcript,
                    source_ref=f"chat:{s['session_id']}:{now.isoformat()}",
                )
                if voc is not None:
                    conn.execute(
                        ct.tickets.update()
                        .where(ct.tickets.c.id == ticket_id)
                        .values(voc_category=voc["category"], voc_sentiment=voc["sentiment"])
                    )
                new_ticket = True
            values = {
                k: s.get(k)
                for k in (
                    "lang",
                    "state",
                    "order_id",
                    "verified",
                    "verified_at",
                    "verified_by",
                    "verify_failures",
                    "pending",
                    "low_conf_streak",
                    "clarified",
                    "bot_answers",
                )
            }
            values["customer_id"] = s.get("customer_id") if s.get("verified") else None
            values.update(updated_at=now, last_intent=ctx.intent, ticket_id=ticket_id)
            if ctx.escalated:
                values["handed_off_at"] = now
            if emitted:
                values["emitted"] = ["created", "replied", "resolved"]
            if voc is not None and (voc["category"] != "other" or not s.get("voc_category")):
                values.update(voc_category=voc["category"], voc_sentiment=voc["sentiment"])
            conn.execute(q.UPDATE_SESSION, {**values, "b_sid": s["session_id"]})
        if new_ticket and ticket_id is not None:
            self.desk.announce(ticket_id, "chatbot")
        return Turn(
            ctx.reply, ctx.intent, ctx.escalated or s["state"] == "handed_off", ticket_id, ctx.confidence
        )

    def _emit_conversation(self, s: dict[str, Any]) -> bool:
        """A conversation the bot served: ticket.created + ticket.replied{by: bot} + resolved, once each.

        Returns True when events were ingested now (the caller marks the session row in its transaction).
        """
        done = set(s.get("emitted") or [])
        if {"created", "replied", "resolved"} <= done:
            return False
        canonical = f"chat-{s['session_id'][:20]}"
        now = self.now().isoformat()
        base = {"source": "chatbot", "occurred_at": now, "order_id": s["order_id"]}
        events = []
        if "created" not in done:
            events.append(
                {
                    **base,
                    "event_id": f"cs:{canonical}:created",
                    "type": "ticket.created",
                    "data": {
                        "ticket_id": canonical,
                        "channel": "chat",
                        "subject": "챗봇 상담",
                        "category": s.get("voc_category"),
                    },
                }
            )
        if "replied" not in done:
            events.append(
                {
                    **base,
                    "event_id": f"cs:{canonical}:bot-reply",
                    "type": "ticket.replied",
                    "data": {"ticket_id": canonical, "by": "bot"},
                }
            )
        if "resolved" not in done:
            events.append(
                {
                    **base,
                    "event_id": f"cs:{canonical}:bot-resolved",
                    "type": "ticket.resolved",
                    "data": {"ticket_id": canonical},
                }
            )
        self.hub.ingest.ingest(events)
        return True

    # ------------------------------------------------------------ agent help
    def suggest_reply(self, ticket: Any) -> str:
        """A draft answer for the agent: greeting, the live order status, and a next step."""
        lang = "ko"
        if ticket.session_id:
            with self.hub.db.read() as conn:
                lang = (
                    conn.execute(
                        sa.select(ct.chat_sessions.c.lang).where(
                            ct.chat_sessions.c.session_id == ticket.session_id
                        )
                    ).scalar()
                    or "ko"
                )
        d = self._detail(ticket.order_id) if ticket.order_id else None
        if lang == "en":
            body = "Hello, this is the customer care team. I'm sorry for the inconvenience. "
            if d:
                body += self.status_text(d, "en", delay=True) + " "
            return body + "I'll keep an eye on it and update you here as soon as anything changes."
        body = "안녕하세요, 고객센터 상담원입니다. 불편을 드려 정말 죄송합니다. "
        if d:
            body += self.status_text(d, "ko", delay=ticket.voc_category == "delivery_delay") + " "
        else:
            body += "확인을 위해 주문번호를 알려 주시면 바로 살펴보겠습니다. "
        return body + "진행 상황이 바뀌면 바로 이 대화창으로 안내해 드리겠습니다."


class _TurnCtx:
    """Mutable state of one turn."""

    def __init__(self, s: dict[str, Any], text: str) -> None:
        self.s = s
        self.text = text
        self.store_text: str | None = None  # what is stored instead of the text (phone digits, addresses)
        self.reply: str | None = None
        self.intent: str | None = None
        self.confidence: float | None = None
        self.escalated = False
        self.handoff_reasons: list[str] = []
        self.answered = False
        self.acted = False
        self.verified_now = False
        self.ip: str | None = None
        self.staff = False
        self.unanswered = False
        self.faq_key: str | None = None
