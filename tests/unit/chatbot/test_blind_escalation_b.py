"""Blind set b and hold-out sets d and e (issue 18 item 3, second round): shape and no leakage only.

blind_escalation_b.yaml (121 messages, 60 escalate / 61 polite look-alikes) was written by a second
author and committed before any change of this round; baseline on the untouched code: escalation recall
0.667 at precision 0.870, intent accuracy 0.752. Scored once at the end: recall 0.967, precision 0.983,
intent 0.860. That final figure is optimistic -- the same person then wrote the rules with the set in
memory (no sentence was copied, but the phenomena and some word choices were in mind).

The honest checks are the two hold-out sets written by the same author but never tuned on:
holdout_escalation_d.yaml (60, written after the first rules) recall 0.567, precision 1.000, intent 0.700
(0.300 / 0.818 / 0.633 on the code before this round), and holdout_escalation_e.yaml (50, written after
all rule rounds) recall 0.560, precision 0.737, intent 0.660 (0.520 / 0.684 / 0.560 before).

The acceptance bars (recall >= 0.90 at precision >= 0.85, intent >= 0.92 on text others wrote) are NOT
met on held-out text, so no test here asserts them; the figures are reported instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deliveryhub.chatbot.nlu.model import DATA_DIR, INTENTS

HERE = Path(__file__).parent
SETS = ("blind_escalation_b.yaml", "holdout_escalation_d.yaml", "holdout_escalation_e.yaml")
# Already a generated line of escalation_test.jsonl (rules-only dev data, no model trains on it) before set b
# was written: the same short threat, written independently.
PREEXISTING = {"공정거래위원회에 민원 넣겠습니다"}


def _rows(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize("name", SETS)
def test_set_shape(name: str) -> None:
    rows = _rows(name)
    assert len(rows) >= 50 and len({r["text"] for r in rows}) == len(rows)
    assert 0.4 <= sum(bool(r["escalate"]) for r in rows) / len(rows) <= 0.6
    assert {r["intent"] for r in rows} <= set(INTENTS)


def test_blind_b_size() -> None:
    assert len(_rows("blind_escalation_b.yaml")) >= 120


@pytest.mark.parametrize("name", SETS)
def test_not_in_the_shipped_corpus(name: str) -> None:
    """No blind or hold-out sentence is in the training material (templates or generated corpora)."""
    shipped = "".join(p.read_text(encoding="utf-8") for p in sorted(DATA_DIR.glob("*")) if p.is_file())
    flat = shipped.replace(" ", "")
    texts = [r["text"] for r in _rows(name) if r["text"] not in PREEXISTING]
    copied = [t for t in texts if t.replace(" ", "") in flat]
    assert not copied, copied
