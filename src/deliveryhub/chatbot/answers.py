"""Answers about an order from the read models, in an agent's words: where it is (stage, carrier,
waybill, last scan, ETA, why it is late), how a refund stands, and the hand-off summary for the agent.

Stage, tracking-tag, carrier and delay-reason names come from the one label table (kernel/labels.py), so
the bot says what the notices and the pages say."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from deliveryhub.chatbot.phrases import pick
from deliveryhub.chatbot.queries import SCAN_TYPES
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.kernel.korean import attach, josa
from deliveryhub.kernel.labels import label, labels
from deliveryhub.kernel.timefmt import parse_datetime

KST = ZoneInfo("Asia/Seoul")
WEEKDAY_KO = "월화수목금토일"

# Stages before the parcel leaves: the customer hears about the waybill when it ships.
BEFORE_SHIPPING = ("received", "stock_confirmed", "picked_packed", "waybill_created")
# Stages after which no delivery is on its way: never an ETA nor "배송되고 있어요" next to them.
FINISHED = ("delivered", "cancelled", "returned")
REFUND_EVENTS = (
    "return.requested",
    "return.pickup_booked",
    "return.picked_up",
    "return.received",
    "return.inspected",
    "return.refunded",
    "payment.refunded",
    "order.cancelled",
)


def copula(word: str) -> str:
    """'이에요' after a final consonant, '예요' after a vowel (해요체 copula)."""
    return josa(word, "이에요/예요")


def _lower_first(text: str) -> str:
    """An English label inside a sentence ("Being prepared" → "being prepared")."""
    return text[:1].lower() + text[1:]


def fmt_time(value: str | datetime | None, lang: str) -> str:
    """A moment as the customer reads it, in Korean time ('11월 24일(화) 14:05')."""
    dt = parse_datetime(value) if value else None
    if dt is None:
        return ""
    local = dt.astimezone(KST)
    if lang == "en":
        return local.strftime("%a %b %-d, %H:%M")
    return f"{local.month}월 {local.day}일({WEEKDAY_KO[local.weekday()]}) {local.hour:02d}:{local.minute:02d}"


def fmt_window(eta: dict[str, Any] | None, lang: str) -> str:
    """A delivery window ('11월 24일(화) 13시~15시', or a span of days)."""
    lo_at = parse_datetime((eta or {}).get("eta_min"))
    if lo_at is None or eta is None:
        return ""
    lo = lo_at.astimezone(KST)
    hi = (parse_datetime(eta.get("eta_max")) or lo_at).astimezone(KST)
    if lang == "en":
        if lo.date() == hi.date():
            return f"{lo.strftime('%a %b %-d')}, {lo.strftime('%H:%M')}-{hi.strftime('%H:%M')}"
        return f"{lo.strftime('%a %b %-d')} - {hi.strftime('%a %b %-d')}"
    day = f"{lo.month}월 {lo.day}일({WEEKDAY_KO[lo.weekday()]})"
    if lo.date() == hi.date():
        return f"{day} {lo.hour}시~{hi.hour if hi.minute == 0 else hi.hour + 1}시"
    return f"{day}~{hi.month}월 {hi.day}일({WEEKDAY_KO[hi.weekday()]})"


def _last_scan(parcel: dict[str, Any] | None) -> dict[str, Any] | None:
    scans = [
        e
        for e in (parcel or {}).get("tracking") or []
        if e["type"] in SCAN_TYPES
        and (e.get("status") or e.get("location") or e["type"] != "shipment.tracking")
    ]
    return scans[-1] if scans else None


def _scan_status(scan: dict[str, Any], lang: str = "ko") -> str:
    """A scan's status from the label table (its tracking tag, else its event type, else the raw text)."""
    status = labels("tag", lang).get(str(scan.get("status")))
    if status:
        return status if lang == "ko" else _lower_first(status)
    if scan["type"] != "shipment.tracking":
        return label("event_type", scan["type"], lang)
    return str(scan.get("raw_status") or pick(lang, "스캔", "scan"))


def status_text(d: dict[str, Any], lang: str, today: date, delay: bool = False) -> str:
    """The live status of an order (queries.order_status) on `today` (a Korean date)."""
    stage = str(d.get("stage") or "received")
    parcels = d.get("parcels") or []
    p = parcels[-1] if parcels else None
    last_scan = _last_scan(p)
    eta = (p or {}).get("eta") or d.get("eta")
    promised = parse_datetime(d.get("promised_delivery_date"))
    done = stage in FINISHED
    late = bool(promised and not done and promised.date() < today)
    cause = None
    if last_scan and last_scan.get("reason"):
        cause = str(last_scan["reason"])
    elif d.get("side_state") == "delivery_failed":
        cause = "recipient_absent"
    carrier = label("carrier", p["carrier"], lang) if p and p.get("carrier") else None
    if lang == "en":
        parts = [f"Your order {d['order_id']} is {_lower_first(label('stage', stage, 'en'))}."]
        if p and carrier:
            parts.append(
                f"It {'shipped' if done else 'ships'} with {carrier}"
                + (f", tracking number {p['tracking_no']}." if p.get("tracking_no") else ".")
            )
        loc = f" at {last_scan['location']}" if last_scan and last_scan.get("location") else ""
        if stage == "delivered":  # the delivery is the last scan: said once
            parts.append(f"It was delivered{loc} {fmt_time(d.get('delivered_at'), lang)}.")
        elif last_scan:
            when = fmt_time(last_scan["occurred_at"], lang)
            parts.append(f"Last scan: {_scan_status(last_scan, 'en')}{loc}, {when}.")
        if eta and not done:
            parts.append(f"Expected delivery: {fmt_window(eta, lang)}.")
        if late or delay:
            if cause:
                parts.append(f"The delay is due to: {_reason_en(cause)}.")
            if late:
                parts.append("It is later than we promised, and we are sorry for that.")
        return " ".join(parts)
    stage_name = label("stage", stage)
    parts = [f"주문하신 상품({d['order_id']})은 현재 '{stage_name}' 단계예요."]
    if p and carrier:
        parts.append(_parcel_ko(stage, carrier, p.get("tracking_no")))
    if stage == "delivered":
        # The delivery itself is the last scan: one sentence, never "on its way" next to "delivered".
        place = f" '{last_scan['location']}'에서" if last_scan and last_scan.get("location") else ""
        when = fmt_time(d.get("delivered_at") or (p or {}).get("delivered_at"), lang)
        parts.append(f"{when}{place} {stage_name}되었어요." if when else f"{stage_name}되었어요.")
    elif last_scan:
        loc = f"'{last_scan['location']}'에서 " if last_scan.get("location") else ""
        parts.append(
            f"마지막 위치는 {fmt_time(last_scan['occurred_at'], lang)} {loc}{_scan_status(last_scan)} "
            "처리된 것으로 확인돼요."
        )
    if eta and not done:
        window = fmt_window(eta, lang)
        parts.append(f"도착 예정 시간은 {window}{copula(window)}.")
    elif stage in BEFORE_SHIPPING:
        parts.append("출고되면 운송장번호와 함께 알림으로 알려 드릴게요.")
    if late or delay:
        if cause:
            reason = labels("reason", "ko").get(cause, cause)
            parts.append(f"지연 사유는 {attach(reason, '으로/로')} 확인돼요.")
        if late:
            parts.append("약속드린 날짜보다 늦어지고 있어 정말 죄송해요.")
        elif delay:
            parts.append("기다리시게 해서 죄송해요. 배송 상황이 바뀌면 바로 알려 드릴게요.")
    return " ".join(parts)


def _parcel_ko(stage: str, carrier: str, tracking_no: str | None) -> str:
    """Which carrier and waybill carry the order, in the tense of its stage."""
    if not tracking_no:
        return f"{attach(carrier, '으로/로')} 배송될 예정이에요."
    waybill = f"{carrier} 운송장번호 {tracking_no}"
    if stage in FINISHED:
        return f"{attach(waybill, '으로/로')} 보내 드렸어요."
    if stage in BEFORE_SHIPPING:
        return f"{attach(waybill, '으로/로')} 곧 출고될 예정이에요."
    return f"{attach(waybill, '으로/로')} 배송되고 있어요."


def _reason_en(cause: str) -> str:
    known = labels("reason", "en").get(cause)
    return known.lower() if known else cause.replace("_", " ")


def _won(amount: Any, lang: str) -> str:
    if not isinstance(amount, int | float):
        return ""
    return f" ({amount:,.0f} won)" if lang == "en" else f" ({amount:,.0f}원)"


def refund_text(events: list[dict[str, Any]], lang: str, facts: dict[str, str] | None = None) -> str:
    """How a cancellation or return stands, from the order's last refund-related event; lead times from
    the returns policy's `facts` (policy_facts), the same the FAQ quotes."""
    facts = facts or {}
    refund_days = facts.get("refund_business_days", "3")
    pickup_days = facts.get("pickup_business_days", "3")
    last = events[-1] if events else None
    if last is None:
        return pick(
            lang,
            "이 주문에는 아직 취소나 반품 내역이 없어요. 반품을 원하시면 '반품 신청'이라고 말씀해 주세요.",
            "There is no cancellation or return on this order yet. If you'd like to return it, just say "
            '"return".',
        )
    when = fmt_time(last["occurred_at"], lang)
    data = last.get("data") or {}
    if last["type"] in ("return.refunded", "payment.refunded"):
        amt = _won(data.get("amount"), lang)
        return pick(
            lang,
            f"환불{amt}은 {when}에 완료되었어요. 카드 결제는 카드사 사정으로 며칠 뒤에 보일 수 있어요.",
            f"Your refund{amt} was completed on {when}. Card refunds can take a few days to show.",
        )
    if last["type"] == "return.inspected":
        if data.get("result") == "fail":
            return pick(
                lang,
                f"반품 상품 검수({when})에서 확인이 더 필요한 부분이 있어 담당자가 따로 연락드릴게요.",
                f"The inspection on {when} needs a closer look; a person will contact you.",
            )
        return pick(
            lang,
            f"반품 상품 검수가 {when}에 끝났어요. 곧 결제하신 수단으로 환불해 드려요.",
            f"Your return passed inspection on {when}; the refund to your payment method follows shortly.",
        )
    if last["type"] == "return.received":
        return pick(
            lang,
            f"반품 상품이 {when}에 물류센터에 도착했어요. 검수 후 받은 날부터 {refund_days}영업일 안에 "
            "환불해 드려요.",
            f"We received your return on {when}; the refund follows within {refund_days} business days.",
        )
    if last["type"] == "return.picked_up":
        return pick(
            lang,
            f"반품 상품은 {when}에 회수되었어요. 물류센터에 도착해 검수가 끝나면 바로 환불해 드려요.",
            f"Your return was picked up on {when}. The refund follows once it reaches us and is inspected.",
        )
    if last["type"] == "return.pickup_booked":
        return pick(
            lang,
            f"반품 회수가 {when}에 예약되었어요. 택배 기사님이 방문해 상품을 가져가요.",
            f"The pickup of your return was booked on {when}; a courier will collect it.",
        )
    if last["type"] == "return.requested":
        return pick(
            lang,
            f"반품은 {when}에 접수되었어요. 영업일 기준 {pickup_days}일 안에 택배 기사님이 회수하러 "
            "방문하고, 검수 후 환불해 드려요.",
            f"Your return was registered on {when}; a courier will pick it up within {pickup_days} business "
            "days, and the refund follows after inspection.",
        )
    return pick(
        lang,
        f"주문은 {when}에 취소되었어요. 결제하신 금액이 있으면 영업일 기준 {refund_days}일 안에 "
        "환불해 드려요.",
        f"The order was cancelled on {when}; anything paid is refunded within {refund_days} business days.",
    )


def exchange_text(events: list[dict[str, Any]], lang: str) -> str:
    """How an exchange already asked for stands."""
    done = any(e["type"] == "exchange.completed" for e in events)
    if lang == "en":
        if done:
            return "Your exchange is complete."
        return "Your exchange is registered; we ship the new item as soon as the old one is collected."
    if done:
        return "교환이 완료되었어요."
    return (
        f"교환은 {fmt_time(events[-1]['occurred_at'], lang)}에 접수되어 진행 중이에요. "
        "기존 상품이 회수되는 대로 새 상품을 보내드려요."
    )


_WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def agent_hours(cal: BusinessCalendar) -> tuple[str, str]:
    """The desk's hours and closed days as said to customers ('평일 09:00~18:00, 주말·공휴일 휴무')."""
    days = sorted(cal.workdays)
    weekdays = days == [0, 1, 2, 3, 4]
    if weekdays:
        ko, en = "평일", "weekdays"
    else:
        ko, en = "·".join(WEEKDAY_KO[d] for d in days), "/".join(_WEEKDAY_EN[d] for d in days)
    closed_ko = [w for w, on in (("주말", weekdays), ("공휴일", cal.country is not None)) if on]
    closed_en = [w for w, on in (("weekends", weekdays), ("public holidays", cal.country is not None)) if on]
    ko = f"{ko} {cal.start:%H:%M}~{cal.end:%H:%M}" + (f", {'·'.join(closed_ko)} 휴무" if closed_ko else "")
    en = f"{en} {cal.start:%H:%M}-{cal.end:%H:%M} KST" + (
        f", closed on {' and '.join(closed_en)}" if closed_en else ""
    )
    return ko, en


def agents_away(cal: BusinessCalendar, now: datetime) -> tuple[str, str] | None:
    """None while agents work; otherwise why they do not now and when they answer (Korean, English)."""
    if cal.is_open(now):
        return None
    day = cal.local_date(now)
    opens = cal.next_opening(now)
    holiday = cal.holiday_name(day)
    if holiday:
        why = f"오늘은 {holiday} 휴무일이라", f"We are closed today for a public holiday ({holiday}), so"
    elif day.weekday() not in cal.workdays:
        why = "주말이라", "It's the weekend, so"
    else:
        why = "지금은 상담 시간이 아니라", "We are outside our working hours now, so"
    return f"{why[0]} {fmt_time(opens, 'ko')}부터", f"{why[1]} from {fmt_time(opens, 'en')}"


def handoff_summary(
    s: dict[str, Any], stage: str | None, reasons: list[str], masked_text: str, intent: str | None
) -> str:
    """One paragraph for the agent: why, which order and where it stands, what the customer wants."""
    reason_txt = ", ".join(label("escalation", r) for r in reasons) or "상담원 연결"
    parts = [f"챗봇 상담 중 상담원 연결({reason_txt})."]
    if s.get("order_id"):
        parts.append(
            f"주문 {s['order_id']}"
            + (f"(현재 '{label('stage', stage)}')" if stage else "")
            + (", 본인 확인 완료." if s.get("verified") else ", 본인 확인 전.")
        )
    else:
        parts.append("주문번호는 아직 받지 못했어요.")
    if intent:
        parts.append(f"문의 유형: {label('intent', intent)}.")
    parts.append(f'마지막 고객 메시지: "{masked_text[:200]}".')
    return " ".join(parts)
