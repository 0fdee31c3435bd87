from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.chatbot.nlu.escalation import escalation_reasons, problem_families, should_escalate
from deliveryhub.chatbot.nlu.model import DATA_DIR, read_jsonl


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("상담원 연결해주세요", "human_request"),
        ("사람이랑 얘기하고 싶어요", "human_request"),
        ("I want to talk to a human", "human_request"),
        ("소비자원에 신고할게요", "threat"),
        ("경찰에 신고합니다", "threat"),
        ("고소하겠습니다", "threat"),
        ("변호사 선임했어요", "threat"),
        ("이거 완전 사기네요", "threat"),
        ("씨발 진짜", "anger"),
        ("장난하세요?", "anger"),
        ("세 번째 문의입니다", "repeat_contact"),
        ("몇 번을 말해야 돼요", "repeat_contact"),
        ("3번째 연락드려요", "repeat_contact"),
        ("배송도 늦었고 그리고 박스도 파손됐고 다른 상품이 왔어요", "multi_problem"),
    ],
)
def test_reasons(text: str, reason: str) -> None:
    assert reason in escalation_reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        "배송 언제 와요?",
        "환불 언제 돼요",
        "사이즈 교환하고 싶어요",
        "안녕하세요",
        "배송이 좀 늦네요",
        "쿠폰 적용이 안 돼요",
    ],
)
def test_calm_messages_do_not_escalate(text: str) -> None:
    assert not should_escalate(text)


def test_human_agent_intent_always_escalates() -> None:
    assert should_escalate("연결", intent="human_agent")


def test_problem_families() -> None:
    fams = problem_families("택배가 늦게 왔는데 깨져 있었어요")
    assert "late" in fams and "damaged" in fams


# Reasons of the original escalation corpus; the quiet-anger round's rows (reason = a quiet family) are
# measured by test_quiet_anger.py with their own floor.
_FIRST_ROUND = {"", "threat", "anger", "repeat_contact", "multi_problem", "human_request"}


def _recall(path: Path) -> tuple[float, float]:
    rows = [r for r in read_jsonl(path) if r.get("reason", "") in _FIRST_ROUND]
    pos = [r for r in rows if r["escalate"]]
    neg = [r for r in rows if not r["escalate"]]
    recall = sum(should_escalate(r["text"]) for r in pos) / len(pos)
    false_pos = sum(should_escalate(r["text"]) for r in neg) / max(1, len(neg))
    return recall, false_pos


def test_heldout_escalation_recall() -> None:
    recall, false_pos = _recall(DATA_DIR / "escalation_test.jsonl")
    assert recall >= 0.90, recall
    assert false_pos <= 0.10, false_pos


def test_heldout_intent_split_escalation_recall() -> None:
    rows = [r for r in read_jsonl(DATA_DIR / "intents_test.jsonl") if r["escalate"]]
    recall = sum(should_escalate(r["text"], intent=r["intent"]) for r in rows) / len(rows)
    assert recall >= 0.90, recall
