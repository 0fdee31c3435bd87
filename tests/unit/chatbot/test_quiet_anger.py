"""Quiet anger (issue 18 item 3): the cue families, the elapsed-time reading, and look-alikes that stay
with the bot. Examples are written for this test (never taken from the blind set)."""

from __future__ import annotations

import pytest

from deliveryhub.chatbot.nlu.escalation import escalation_reasons
from deliveryhub.chatbot.nlu.model import DATA_DIR, read_jsonl
from deliveryhub.chatbot.nlu.normalize import normalize
from deliveryhub.chatbot.nlu.quiet import elapsed_days, impatient, quiet_cues


def _c(text: str) -> str:
    return normalize(text).replace(" ", "")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("이게 말이 되나요 돈은 받아가시고", "anger"),
        ("주문서를 읽기는 하시는 건가요", "anger"),
        ("와 진짜 신속하시네요 3주 걸렸네요", "anger"),
        ("돈 받고 잠수 타신 거죠?", "threat"),
        ("짝퉁 보내 놓고 모른 척하시네요", "threat"),
        ("카드사에 이의제기 신청했습니다", "threat"),
        ("차지백 걸겠습니다", "threat"),
        ("후기에 낱낱이 적어서 올리겠습니다", "threat"),
        ("소보원 1372 상담 예약했어요", "threat"),
        ("지난번에도 색상 잘못 오더니 또 틀렸네요", "repeat_contact"),
        ("상담 채팅을 다섯 번 했어요", "repeat_contact"),
        ("주문하고 3주째 감감무소식", "long_wait"),
        ("환불 신청한 지 한 달이 넘었어요", "long_wait"),
        ("이어폰이 귀에서 터져서 화상 입었어요", "harm"),
        ("우리 애가 부품을 삼킬뻔했어요", "harm"),
        ("배송 늦은 것도 모자라 포장이 다 찢어져 왔어요", "multi_problem"),
    ],
)
def test_quiet_anger_escalates(text: str, reason: str) -> None:
    assert reason in escalation_reasons(text), escalation_reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        "현금영수증 다시 발행해 주세요",  # 다시 발행 is not 시발
        "리뷰 정성껏 남길게요",
        "카드사 무이자 할부 되나요",
        "두 번째 주문이에요 잘 부탁드립니다",
        "배송 연기 가능할까요? 다음 주에 받고 싶어요",  # 연기 = postpone, not smoke
        "한 달 넘게 썼는데 지퍼가 고장났어요 수리되나요",  # how long it was used, not a wait
        "2주 정도 걸린다고 들었는데 맞나요",
        "알레르기 성분 들어 있나요",
        "병원 앞으로 배송 가능할까요",
        "블로그에 후기 올려도 되나요",
        "이 사이즈로 사기 괜찮을까요",
        "조작하기 쉬운 제품인가요",
        "문의 2건 드려요 배송비랑 교환이요",
    ],
)
def test_polite_lookalikes_stay_with_the_bot(text: str) -> None:
    assert escalation_reasons(text) == []


@pytest.mark.parametrize(
    ("text", "days"),
    [("벌써 2주째예요", 14), ("열흘이나 기다렸어요", 10), ("보름 넘게 그대로", 15), ("3일 만에 왔어요", 3),
     ("며칠째 그대로예요", 3), ("한 달 넘게 사용했는데", 0), ("며칠 지나면 오나요", 0)],
)
def test_elapsed_days(text: str, days: int) -> None:
    assert elapsed_days(_c(text)) == days


def test_impatience_alone_is_not_a_hand_off_but_is_noticed() -> None:
    text = "도대체 언제 와요 며칠째예요"
    assert escalation_reasons(text) == [] and impatient(_c(text))
    assert not impatient(_c("배송 언제쯤 올까요"))
    assert quiet_cues(_c("이제 지쳤어요")) == ["exasperation"]


def _quiet_rows(name: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows = read_jsonl(DATA_DIR / name)
    quiet = [r for r in rows if r["reason"] not in ("", "threat", "anger", "repeat_contact", "multi_problem",
                                                    "human_request")]
    return quiet, [r for r in rows if not r["escalate"]]


def test_dev_split_quiet_rows() -> None:
    """The corpus round's quiet-anger templates: the rules were written against the training templates;
    the held-out templates (two per family, never looked at while writing rules) measure how far they
    carry to new phrasings -- today only about half of them, a floor, not the issue's target."""
    for name, floor in (("escalation_train.jsonl", 0.95), ("escalation_test.jsonl", 0.55)):
        quiet, negatives = _quiet_rows(name)
        recall = sum(bool(escalation_reasons(str(r["text"]))) for r in quiet) / len(quiet)
        false_alarms = sum(bool(escalation_reasons(str(r["text"]))) for r in negatives)
        assert len(quiet) >= 80 and recall >= floor, (name, recall)
        assert false_alarms / len(negatives) <= 0.05, (name, false_alarms)
