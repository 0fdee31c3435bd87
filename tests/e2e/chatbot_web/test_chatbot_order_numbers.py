"""Issue 18 items 1 and 2 over HTTP against a live server with the real NLU: order numbers in five shops'
formats found by lookup (alone then the phone digits, or both in one sentence), the per-order lock after
five wrong tries from new sessions (audited), and a hand-off on a Saturday or a public holiday that tells
the next business opening. The hub's clock is pinned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.kernel.korean import attach
from deliveryhub.security.audit import audit_log_of
from dh_testkit import handed_over, make_hub, order_created, serve_hub, tracking, waybill

KST = ZoneInfo("Asia/Seoul")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=KST)
# (format, order id as the shop issues it, phone digits, waybill)
FORMATS = [
    ("demo", "ORD-261204-7900123", "6709", "567890123406"),
    ("naver", "2026120418273645", "3321", "567890123401"),
    ("coupang", "30001234567890", "1187", "567890123402"),
    ("cafe24", "20261204-0001234", "5540", "567890123403"),
    ("custom", "A-2026-12-00042", "9072", "567890123400"),
]
LOCKED_ORDER, LOCKED_DIGITS = "ORD-261203-1100456", "2468"
LOCKED_KO = "본인 확인을 잠시 멈춰 두었어요"
WAYBILL_ORDER, WAYBILL_DIGITS, WAYBILL = "ORD-261202-3300789", "8813", "567890123488"


def _order(n: int, oid: str, digits: str, tracking_no: str) -> list[dict[str, Any]]:
    cust = {"name": "한지민", "phone": f"010-58{n:02d}-{digits}"}
    return [
        order_created(f"o{n}", oid, "2026-12-03T10:00:00+09:00", cust, promised_delivery_date="2026-12-08"),
        waybill(f"w{n}", oid, "2026-12-04T09:00:00+09:00", "cj", tracking_no),
        handed_over(f"h{n}", oid, "2026-12-04T13:00:00+09:00", "cj"),
        tracking(f"t{n}", oid, "2026-12-05T06:10:00+09:00", "cj", status="in_transit", location="대전HUB"),
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, ManualClock]]:
    import base64
    import secrets

    clock = ManualClock(MONDAY_10)
    hub = make_hub(
        tmp_path_factory.mktemp("orders"), base64.b64encode(secrets.token_bytes(32)).decode(), clock=clock
    )
    events = [e for n, (_f, oid, d, tn) in enumerate(FORMATS) for e in _order(n, oid, d, tn)]
    events += _order(9, LOCKED_ORDER, LOCKED_DIGITS, "567890123499")
    events += _order(8, WAYBILL_ORDER, WAYBILL_DIGITS, WAYBILL)
    hub.ingest.ingest(events)
    with serve_hub(hub) as base:
        yield base, hub, clock


@pytest.fixture
def chat(served: tuple[str, Any, ManualClock]) -> Iterator[httpx.Client]:
    """A client of the served hub, its clock on a Monday at 10:00 (the desk is open)."""
    served[2].set(MONDAY_10)
    with httpx.Client(base_url=served[0], timeout=120) as c:
        yield c


def new_session(c: httpx.Client) -> str:
    r = c.post("/v1/chat/sessions", json={})
    assert r.status_code == 200, r.text
    return str(r.json()["session_id"])


def say(c: httpx.Client, sid: str, text: str) -> dict[str, Any]:
    r = c.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _live_answer(turn: dict[str, Any], oid: str, tracking_no: str) -> None:
    reply = turn["reply"] or ""
    assert not turn["escalated"], turn
    assert f"({oid})" in reply and "'배송 중' 단계" in reply, reply
    assert f"운송장번호 {tracking_no}" in reply and "'대전HUB'" in reply, reply
    assert "뒷자리" not in reply and "일치" not in reply, reply


@pytest.mark.parametrize(("fmt", "oid", "digits", "tracking_no"), FORMATS, ids=[f[0] for f in FORMATS])
def test_number_alone_then_the_digits_and_both_in_one_sentence(
    chat: httpx.Client, fmt: str, oid: str, digits: str, tracking_no: str
) -> None:
    c = chat
    typed = oid.lower() if fmt == "custom" else oid  # typed in lower case: found regardless of case
    if fmt == "coupang":  # typed on a phone keyboard in full-width digits, no "주문번호" before it
        wide = oid.translate({ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789"})
        one_sentence = f"{wide} 배송 어디쯤이에요? 폰 뒷자리 {digits}"
    elif fmt == "demo":  # the issue's own sentence, without a question: the number and digits say it
        one_sentence = f"주문번호 {oid} 이고 전화번호 뒷자리는 {digits}예요"
    else:
        one_sentence = f"주문번호 {oid}이고 전화번호 뒷자리는 {digits}예요. 배송 언제 와요?"
    sid = new_session(c)
    assert "주문번호" in (say(c, sid, "택배 언제 와요?")["reply"] or "")
    assert "뒷자리" in (say(c, sid, f"{typed}이요")["reply"] or "")
    # "전화번호 뒷자리는 …" gives the digits: 전화 is no request for a call (the model reads one).
    answer = digits if fmt == "demo" else f"전화번호 뒷자리는 {attach(digits, '이에요/예요')}"
    _live_answer(say(c, sid, answer), oid, tracking_no)
    # A new conversation: the number and the digits in one message answer at once.
    _live_answer(say(c, new_session(c), one_sentence), oid, tracking_no)


def test_five_wrong_tries_from_new_sessions_lock_the_order_and_are_audited(
    chat: httpx.Client, served: tuple[str, Any, ManualClock]
) -> None:
    for guess in ("1111", "2222", "3333", "4444", "5555"):
        turn = say(chat, new_session(chat), f"주문번호 {LOCKED_ORDER} 뒷자리 {guess} 배송 조회해 주세요")
        assert "일치하는 주문을 찾지 못했어요" in (turn["reply"] or ""), turn
        assert not turn["escalated"]
    # A sixth new session with the RIGHT digits is refused: the order is locked for a while.
    turn = say(chat, new_session(chat), f"주문번호 {LOCKED_ORDER} 뒷자리 {LOCKED_DIGITS} 배송 조회해 주세요")
    assert LOCKED_KO in (turn["reply"] or "") and "대전HUB" not in (turn["reply"] or ""), turn
    locks = [e for e in audit_log_of(served[1]).entries(limit=50) if e["action"] == "chat.verify_locked"]
    assert f"order:{LOCKED_ORDER}" in {e["target"] for e in locks}


@pytest.mark.parametrize(
    ("now", "said"),
    [
        (datetime(2026, 12, 5, 11, 0, tzinfo=KST), ("주말이라", "12월 7일(월) 09:00부터")),  # Saturday
        (datetime(2026, 12, 25, 10, 0, tzinfo=KST), ("기독탄신일 휴무일이라", "12월 28일(월) 09:00부터")),
        (datetime(2026, 9, 25, 10, 0, tzinfo=KST), ("휴무일이라", "9월 28일(월) 09:00부터")),  # 추석
        (MONDAY_10, ("곧 답변드릴게요", "평일 09:00~18:00")),  # open: an agent answers soon
    ],
    ids=["saturday", "christmas", "chuseok", "monday"],
)
def test_a_hand_off_tells_when_an_agent_answers(
    chat: httpx.Client, served: tuple[str, Any, ManualClock], now: datetime, said: tuple[str, str]
) -> None:
    served[2].set(now)
    turn = say(chat, new_session(chat), "상담원 연결해 주세요")
    reply = turn["reply"] or ""
    assert turn["escalated"] and all(s in reply for s in said), reply
    assert ("곧 답변" in reply) == (now == MONDAY_10), reply


def test_a_waybill_number_typed_instead_of_the_order_number_finds_the_order(chat: httpx.Client) -> None:
    turn = say(chat, new_session(chat), f"송장번호 5678-9012-3488 언제 와요? 뒷자리 {WAYBILL_DIGITS}")
    _live_answer(turn, WAYBILL_ORDER, WAYBILL)


@pytest.mark.parametrize(
    ("held", "unheld"), [("2026120418273645", "2026120499999999"), ("30001234567890", "30009999999990")]
)
def test_the_answer_does_not_tell_whether_an_order_exists(chat: httpx.Client, held: str, unheld: str) -> None:
    replies = [say(chat, new_session(chat), f"{n} 배송 언제 와요?")["reply"] for n in (held, unheld)]
    assert replies[0] == replies[1] and "뒷자리" in (replies[0] or ""), replies
    wrong = [
        say(chat, new_session(chat), f"{n} 배송 언제 와요? 뒷자리 0000")["reply"] for n in (held, unheld)
    ]
    assert wrong[0] == wrong[1] and "일치하는 주문을 찾지 못했어요" in (wrong[0] or ""), wrong
