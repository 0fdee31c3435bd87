"""Pure parts of the chatbot (no database, no network): language, wording, answers from an order view,
business-time arithmetic over Korean holidays, the rephraser guard and the LLM adapter's request."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from deliveryhub.adapters.llm.rephraser import OpenAiRephraser
from deliveryhub.chatbot import answers, lexicon, phrases
from deliveryhub.chatbot import faq as faqmod
from deliveryhub.chatbot.answers import copula, handoff_summary, refund_text, status_text
from deliveryhub.chatbot.lexicon import lang_of
from deliveryhub.chatbot.session import TurnCtx, safe_rephrase
from deliveryhub.chatbot.settings import BusinessHours
from deliveryhub.chatbot.sla import add_business_minutes, business_minutes_between
from deliveryhub.chatbot.verify import last4
from deliveryhub.kernel.labels import label

KST = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 23)


def test_lang_and_copula() -> None:
    assert lang_of("Where is my order ORD-2026-000123?") == "en"
    assert lang_of("ORD-2026-000123", "ko") == "ko"
    assert lang_of("배송 언제 와요") == "ko"
    assert copula("16시") == "예요" and copula("11월 23일") == "이에요"


def test_business_hours_arithmetic() -> None:
    bh = BusinessHours(tz="Asia/Seoul", days=(0, 1, 2, 3, 4), start=time(9), end=time(18))
    fri_1750 = datetime(2026, 11, 20, 8, 50, tzinfo=UTC)  # 17:50 KST Friday
    due = add_business_minutes(fri_1750, 30, bh)
    assert due == datetime(2026, 11, 23, 0, 20, tzinfo=UTC)  # Monday 09:20 KST
    assert business_minutes_between(fri_1750, due, bh) == pytest.approx(30)
    assert add_business_minutes(fri_1750, 30, None) == fri_1750 + timedelta(minutes=30)


def test_business_minutes_skip_seollal_and_extra_closures() -> None:
    bh = BusinessHours()
    eve = datetime(2026, 2, 13, 17, 30, tzinfo=KST)  # Friday before 설날 (16-18 February 2026)
    assert add_business_minutes(eve, 60, bh) == datetime(2026, 2, 19, 9, 30, tzinfo=KST)
    assert business_minutes_between(eve, datetime(2026, 2, 19, 9, 30, tzinfo=KST), bh) == pytest.approx(60)
    closed = BusinessHours(extra_closures=frozenset({date(2026, 2, 19)}))  # the shop's own day off
    assert add_business_minutes(eve, 60, closed) == datetime(2026, 2, 20, 9, 30, tzinfo=KST)


def test_faq_matches_policy_questions_in_both_languages() -> None:
    entries = faqmod.load_file()
    assert faqmod.match(entries, "반품 기간이 어떻게 되나요?")[0].key == "return_window"  # type: ignore[union-attr]
    assert faqmod.match(entries, "How much is the return shipping fee?")[0].key == "return_fee"  # type: ignore[union-attr]
    assert faqmod.match(entries, "고객센터 운영시간 알려주세요")[0].key == "hours"  # type: ignore[union-attr]
    assert faqmod.match(entries, "오늘 날씨 좋네요")[0] is None


def _order(stage: str, **extra: Any) -> dict[str, Any]:
    return {"order_id": "ORD-2026-000123", "stage": stage, "parcels": [], **extra}


@pytest.mark.parametrize("stage", ["received", "stock_confirmed", "picked_packed", "in_transit", "delivered"])
def test_the_bot_names_each_stage_as_the_label_table_does(stage: str) -> None:
    text = status_text(_order(stage, delivered_at="2026-11-22T05:00:00+00:00"), "ko", TODAY)
    assert f"'{label('stage', stage)}' 단계" in text
    en = status_text(_order(stage, delivered_at="2026-11-22T05:00:00+00:00"), "en", TODAY)
    assert label("stage", stage, "en").lower() in en.lower()


def test_status_text_with_carrier_scan_eta_and_a_late_promise() -> None:
    d = _order(
        "in_transit",
        promised_delivery_date="2026-11-21",
        parcels=[
            {
                "carrier": "cj",
                "tracking_no": "612345678901",
                "eta": {"eta_min": "2026-11-24T04:00:00+00:00", "eta_max": "2026-11-24T06:00:00+00:00"},
                "tracking": [
                    {
                        "type": "shipment.tracking",
                        "occurred_at": "2026-11-22T01:10:00+00:00",
                        "status": "in_transit",
                        "location": "대전HUB",
                        "reason": "weather_delay",
                    }
                ],
            }
        ],
    )
    ko = status_text(d, "ko", TODAY)
    assert "CJ대한통운 운송장번호 612345678901" in ko and "'대전HUB'에서 이동 중" in ko
    assert "11월 24일(화) 13시~15시예요" in ko and "기상 악화" in ko and "약속드린 날짜" in ko
    en = status_text(d, "en", TODAY)
    assert "It ships with CJ Logistics, tracking number 612345678901." in en
    assert "due to: bad weather" in en and "later than we promised" in en
    assert "Last scan: in transit at 대전HUB" in en


def _parcel(tracking_no: str, *scans: dict[str, Any]) -> dict[str, Any]:
    return {"carrier": "cj", "tracking_no": tracking_no, "eta": None, "tracking": list(scans)}


def test_a_delivered_order_is_never_said_to_be_on_its_way() -> None:
    at = "2026-11-22T05:00:00+00:00"
    scan = {"type": "shipment.delivered", "occurred_at": at, "status": "delivered", "location": "문 앞"}
    d = _order("delivered", delivered_at="2026-11-22T05:00:00+00:00", parcels=[_parcel("123456789406", scan)])
    ko = status_text(d, "ko", TODAY)
    assert "배송되고 있어요" not in ko and "도착 예정" not in ko, ko
    assert ko.count("'배송 완료'") == 1 and "11월 22일(일) 14:00 '문 앞'에서 배송 완료되었어요" in ko
    assert "운송장번호 123456789406으로 보내 드렸어요" in ko  # 육: 으로, not 로
    en = status_text(d, "en", TODAY)
    assert "shipment.delivered" not in en and "Last scan" not in en and "Expected" not in en, en
    assert "It shipped with CJ Logistics" in en and "It was delivered at 문 앞 Sun Nov 22, 14:00." in en


@pytest.mark.parametrize(
    ("tracking_no", "particle"), [("123456789406", "으로"), ("123456789401", "로"), ("123456789402", "로")]
)
def test_the_waybill_takes_the_particle_its_last_digit_needs(tracking_no: str, particle: str) -> None:
    d = _order("in_transit", parcels=[_parcel(tracking_no)])
    assert f"운송장번호 {tracking_no}{particle} 배송되고 있어요" in status_text(d, "ko", TODAY)


def test_refund_text_follows_the_last_event() -> None:
    assert "반품 신청" in refund_text([], "ko")
    refunded = [
        {"type": "return.requested", "occurred_at": "2026-11-20T01:00:00+00:00", "data": {}},
        {"type": "return.refunded", "occurred_at": "2026-11-22T01:00:00+00:00", "data": {"amount": 12000}},
    ]
    assert refund_text(refunded, "ko").startswith("환불 (12,000원)은 11월 22일(일) 10:00에 완료")
    assert "(12,000 won)" in refund_text(refunded, "en")


def test_handoff_summary_names_reasons_and_stage() -> None:
    s = {"order_id": "ORD-1", "verified": True}
    text = handoff_summary(s, "stock_confirmed", ["anger", "vip"], "빨리 주세요", "delivery_delay")
    assert text.startswith(f"챗봇 상담 중 상담원 연결({label('escalation', 'anger')}, VIP 고객).")
    assert f"(현재 '{label('stage', 'stock_confirmed')}')" in text and "본인 확인 완료" in text


def test_hand_off_is_a_state_on_the_turn() -> None:
    ctx = TurnCtx({"lang": "ko", "state": "bot", "pending": {"need": "order_id"}}, "상담원")
    ctx.hand_off(["anger"])
    assert ctx.escalated and ctx.s["state"] == "handed_off" and ctx.s["pending"] is None
    assert ctx.handoff_reasons == ["anger"]  # the message is said when the turn is written
    assert "죄송" in phrases.handoff("anger", "ko") and "곧 답변" in phrases.handoff("anger", "ko")


@pytest.mark.parametrize(
    ("now", "why", "opens"),
    [
        (datetime(2026, 12, 5, 11, 0, tzinfo=KST), "주말이라", "12월 7일(월) 09:00부터"),  # Saturday
        (
            datetime(2026, 12, 25, 10, 0, tzinfo=KST),
            "오늘은 기독탄신일 휴무일이라",
            "12월 28일(월) 09:00부터",
        ),
        (datetime(2026, 9, 24, 15, 0, tzinfo=KST), "휴무일이라", "9월 28일(월) 09:00부터"),  # 추석 연휴
        (datetime(2026, 12, 7, 19, 30, tzinfo=KST), "상담 시간이 아니라", "12월 8일(화) 09:00부터"),
    ],
)
def test_a_hand_off_outside_hours_tells_the_next_business_opening(
    now: datetime, why: str, opens: str
) -> None:
    cal = BusinessHours().calendar()
    away = answers.agents_away(cal, now)
    assert away is not None and why in away[0] and away[0].endswith(opens), away
    text = phrases.handoff("human_request", "ko", answers.agent_hours(cal), away)
    assert "곧" not in text and opens in text and "평일 09:00~18:00" in text
    assert "from " in phrases.handoff("human_request", "en", answers.agent_hours(cal), away)


def test_a_hand_off_in_working_hours_says_soon() -> None:
    cal = BusinessHours().calendar()
    assert answers.agents_away(cal, datetime(2026, 12, 7, 10, 0, tzinfo=KST)) is None  # Monday 10:00


def test_short_answers_and_phone_digits() -> None:
    assert lexicon.order_token("ord-2026-000123.") == "ORD-2026-000123"
    assert lexicon.order_token("5678") is None  # four digits are phone digits
    assert lexicon.YES.match("네 부탁드려요") is None and lexicon.YES.match("네") is not None
    assert last4("+82 10-1234-5678") == last4("010.1234.5678") == "5678"
    assert last4("12") is None


class Echo:
    def __init__(self, out: str | Exception) -> None:
        self.out = out
        self.seen: list[str] = []

    def rephrase(self, text: str, lang: str) -> str:
        self.seen.append(text)
        if isinstance(self.out, Exception):
            raise self.out
        return self.out


def test_safe_rephrase_keeps_facts_and_personal_data() -> None:
    answer = "주문(ORD-2026-000123)은 11월 24일 도착 예정이에요."
    assert (
        safe_rephrase(Echo("주문(ORD-2026-000123)은 11월 24일에 도착할 예정입니다."), answer, "ko") != answer
    )
    assert safe_rephrase(Echo("곧 도착해요."), answer, "ko") == answer  # a number was dropped
    assert safe_rephrase(Echo(RuntimeError("down")), answer, "ko") == answer  # the LLM is down
    private = Echo("whatever 010-1234-5678")
    assert safe_rephrase(private, "연락처 010-1234-5678로 안내드릴게요.", "ko").startswith("연락처 010")
    assert private.seen == []  # an answer with personal data is never sent out


def test_openai_rephraser_request_shape() -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"choices": [{"message": {"content": " 다듬은 답변 "}}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    llm = OpenAiRephraser("https://llm.example/v1/", "small", "k-1", 2.0, client=client)
    assert llm.rephrase("원래 답변", "ko") == "다듬은 답변"
    assert seen["url"] == "https://llm.example/v1/chat/completions" and seen["auth"] == "Bearer k-1"
    assert seen["body"]["model"] == "small" and seen["body"]["messages"][1]["content"] == "원래 답변"
    failing = OpenAiRephraser(
        "https://llm.example/v1",
        "small",
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))),
    )
    with pytest.raises(httpx.HTTPStatusError):
        failing.rephrase("x", "en")


def test_phone_digits_are_not_a_call_request_unless_a_person_is_asked_for() -> None:
    digits = {"phone_last4": "6709"}
    assert lexicon.digits_not_a_call("전화번호 뒷자리는 6709예요", "human_agent", digits)
    asked = "전화번호 뒷자리는 6709예요 상담원 연결해 주세요"
    assert not lexicon.digits_not_a_call(asked, "human_agent", digits)
    assert not lexicon.digits_not_a_call("상담원이랑 통화하고 싶어요", "human_agent", {})
    assert not lexicon.digits_not_a_call("전화번호 뒷자리는 6709예요", "track_order", digits)
    assert lexicon.escalates("사기꾼들아 신고할게요", "track_order")
    assert not lexicon.escalates("전화번호 뒷자리는 6709예요", "track_order")


@pytest.mark.parametrize("stage", ["cancelled", "returned"])
def test_a_finished_order_gets_no_eta_nor_on_its_way(stage: str) -> None:
    parcel = {**_parcel("123456789401"), "eta": {"eta_min": "2026-11-24T04:00:00+00:00"}}
    d = _order(stage, promised_delivery_date="2026-11-21", parcels=[parcel])
    ko, en = status_text(d, "ko", TODAY), status_text(d, "en", TODAY)
    assert "도착 예정" not in ko and "배송되고 있어요" not in ko and "늦어지고" not in ko, ko
    assert "운송장번호 123456789401로 보내 드렸어요" in ko
    assert "Expected delivery" not in en and "It shipped with" in en


def test_the_desk_hours_said_follow_its_calendar() -> None:
    assert answers.agent_hours(BusinessHours().calendar())[0] == "평일 09:00~18:00, 주말·공휴일 휴무"
    six_days = BusinessHours(days=(0, 1, 2, 3, 4, 5), end=time(17)).calendar()
    assert answers.agent_hours(six_days)[0] == "월·화·수·목·금·토 09:00~17:00, 공휴일 휴무"
    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=KST)
    assert answers.agents_away(six_days, saturday) is None  # its Saturday is open
    away = answers.agents_away(six_days, datetime(2026, 12, 5, 17, 30, tzinfo=KST))
    assert away is not None and away[0] == "지금은 상담 시간이 아니라 12월 7일(월) 09:00부터"
