# ruff: noqa: E501  -- Korean lexicon/template lines: ruff counts Hangul as double width.
"""Deterministic generator of the shipped chatbot corpora (intents, escalation, VOC).

Run ``python -m deliveryhub.chatbot.data.generate_corpus`` (or this file directly) to rewrite the
``*.jsonl`` files beside it. The material is hand-written (corpus_templates.py): templates use a tiny grammar --
``(a|b|c)`` picks one alternative, ``[x]`` is optional, ``{slot}`` draws from a slot filler list --
and every generated line is then perturbed the way people type in chat (spacing dropped, typos,
ㅠㅠ/ㅋㅋ, greetings). Whole templates (about one in five per label) are held out for the test split
so the held-out score measures generalisation to unseen phrasings, not memorised templates.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from deliveryhub.chatbot.data.corpus_templates import (
    ADDRESSES,
    ADDRESSES_EN,
    CARRIERS_KO,
    CODE_SWITCH,
    COLOURS,
    COLOURS_EN,
    CONTEXTS,
    DATES,
    ESCALATION_PHRASES_TEST,
    ESCALATION_PHRASES_TRAIN,
    EXTRA_TEMPLATES,
    FORMAL_CLOSE,
    FORMAL_OPEN,
    FREE_FORM,
    GREET,
    INTENT_TEMPLATES,
    ITEMS,
    ITEMS_EN,
    MULTI_CONNECT,
    ROUND2_TEMPLATES,
    SIZES,
    SIZES_EN,
    TAIL,
    TYPO_SWAP,
    VOC_FREE,
    VOC_TEMPLATES,
    VOWEL_SLIPS,
)
from deliveryhub.chatbot.data.quiet_templates import QUIET_ESCALATE, QUIET_HOLDOUT, QUIET_LOOKALIKE
from deliveryhub.chatbot.data.tone_templates import TONE_ANGRY, TONE_PER_TEMPLATE, TONE_POLITE

SEED = 20241103
HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------------------------
# slot fillers
# ----------------------------------------------------------------------------------------------


def _order_id(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"ORD-{rng.choice([2023, 2024, 2025])}-{rng.randint(1, 999999):06d}"
    if kind < 0.7:
        return f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{rng.randint(1, 9999999):07d}"
    if kind < 0.85:
        return str(rng.randint(10000000, 99999999))
    return f"ord-2024-{rng.randint(1, 999999):06d}"


def _tracking(rng: random.Random) -> str:
    n = rng.choice([10, 11, 12, 12, 13])
    return str(rng.randint(10 ** (n - 1), 10**n - 1))


def _order_phrase(rng: random.Random) -> str:
    if rng.random() < 0.55:
        return ""
    oid = _order_id(rng)
    return rng.choice(
        [
            f"주문번호 {oid}",
            f"{oid}",
            f"주문번호 {oid}인데요",
            f"{oid} 주문",
            f"주문번호는 {oid}",
            f"주문 {oid}",
            "제 주문",
            "제가 주문한 거",
            "주문한 물건",
            f"order {oid}",
            f"{oid} 건",
        ]
    )


def _order_en(rng: random.Random) -> str:
    return rng.choice(["", "", f"#{_order_id(rng)}", f"{_order_id(rng)}", f"(order {_order_id(rng)})"])


def _track_phrase(rng: random.Random) -> str:
    trk = _tracking(rng)
    return rng.choice(
        [
            f"송장번호 {trk}",
            f"운송장 {trk}",
            f"{trk}",
            f"{rng.choice(CARRIERS_KO)} {trk}",
            f"송장 {trk}",
            f"운송장번호 {trk}",
        ]
    )


SLOTS: dict[str, Callable[[random.Random], str]] = {
    "o": _order_phrase,
    "oe": _order_en,
    "oid": _order_id,
    "t": _track_phrase,
    "item": lambda r: r.choice(ITEMS),
    "iteme": lambda r: r.choice(ITEMS_EN),
    "opt": lambda r: r.choice(COLOURS + SIZES),
    "opt2": lambda r: r.choice(COLOURS + SIZES),
    "col": lambda r: r.choice(COLOURS),
    "size": lambda r: r.choice(SIZES),
    "c": lambda r: r.choice(CARRIERS_KO),
    "d": lambda r: r.choice(DATES),
    "n": lambda r: r.choice(["2", "3", "4", "5", "7", "10"]),
    "phone": lambda r: f"010-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
    "addr": lambda r: r.choice(ADDRESSES),
    "addre": lambda r: r.choice(ADDRESSES_EN),
    "cole": lambda r: r.choice(COLOURS_EN),
    "sizee": lambda r: r.choice(SIZES_EN),
    "ctx": lambda r: r.choice(CONTEXTS),
    "kid": lambda r: r.choice(["90", "100", "110", "120", "130", "140", "150", "160"]),
    "won": lambda r: r.choice(
        [
            f"{r.randint(5, 99)},{r.choice(['000', '500', '900'])}원",
            f"{r.randint(5, 99)}000원",
            f"{r.randint(5, 99)},000 won",
            f"₩{r.randint(5, 99)},000",
        ]
    ),
}

_ALT = re.compile(r"\(([^()\[\]]*)\)")
_OPT = re.compile(r"\[([^()\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def expand(template: str, rng: random.Random) -> str:
    """Expand one template with random choices (innermost groups first, so groups may nest)."""
    text = template
    for _ in range(20):
        new = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), text)
        new = _OPT.sub(lambda m: m.group(1) if rng.random() < 0.5 else "", new)
        if new == text:
            break
        text = new
    text = _SLOT.sub(lambda m: SLOTS[m.group(1)](rng), text)
    return re.sub(r"\s+", " ", text).strip()


# ----------------------------------------------------------------------------------------------
# chat-style perturbations
# ----------------------------------------------------------------------------------------------


def perturb(text: str, rng: random.Random, korean: bool = True) -> str:
    out = text
    if korean:
        r = rng.random()
        if r < 0.15:
            out = out.replace(" ", "")
        elif r < 0.35:
            words = out.split(" ")
            out = "".join(w + (" " if rng.random() < 0.5 else "") for w in words).strip()
        if rng.random() < 0.12:
            chars = list(out)
            idxs = [i for i, ch in enumerate(chars) if ch in TYPO_SWAP]
            if idxs:
                i = rng.choice(idxs)
                chars[i] = TYPO_SWAP[chars[i]]
                out = "".join(chars)
        if rng.random() < 0.05 and len(out) > 6:
            i = rng.randrange(1, len(out) - 1)
            out = out[:i] + out[i + 1 :]
        if rng.random() < 0.25:
            g = rng.choice(GREET)
            if g:
                out = f"{g} {out}" if rng.random() < 0.8 else f"{g}, {out}"
        if rng.random() < 0.45:
            out = out.rstrip("?.!") + rng.choice(TAIL) if rng.random() < 0.5 else out + rng.choice(TAIL)
    else:
        r = rng.random()
        if r < 0.3:
            out = out.lower()
        elif r < 0.4:
            out = out.capitalize()
        if rng.random() < 0.3:
            out = out + rng.choice(["?", "!", "...", " please", " pls", " asap", " thanks", ""])
        if rng.random() < 0.15:
            out = rng.choice(["hi, ", "hello ", "hey ", "excuse me, "]) + out
    return re.sub(r"\s+", " ", out).strip()


def _is_korean(text: str) -> bool:
    return bool(re.search(r"[가-힣]", text))


# ----------------------------------------------------------------------------------------------
# escalation: several problems in one message
# ----------------------------------------------------------------------------------------------


def _problem_lines(rng: random.Random) -> dict[str, list[str]]:
    return {
        "late": [
            "배송이 일주일이나 늦었고",
            "택배가 너무 늦게 왔는데",
            "배송도 늦었고",
            "주문한 지 열흘 만에 왔는데",
        ],
        "damaged": [
            "박스가 찌그러져서 안에 컵이 깨졌어요",
            "제품이 파손돼서 왔어요",
            "불량이에요",
            "화면에 금이 가 있어요",
        ],
        "wrong": [
            "색상도 다른 게 왔어요",
            "사이즈가 잘못 왔어요",
            "구성품도 누락됐어요",
            "다른 상품이 왔어요",
        ],
        "refund": ["환불도 아직 안 됐어요", "환불은 언제 되는지 말도 없어요"],
        "payment": ["결제도 두 번 됐어요", "중복결제까지 됐네요"],
        "missing": ["한 박스는 분실됐어요", "나머지 하나는 못 받았어요"],
    }


# ----------------------------------------------------------------------------------------------
# generation
# ----------------------------------------------------------------------------------------------
TRAIN_PER_TEMPLATE = 16
TEST_PER_TEMPLATE = 14
ESCALATION_OVERLAY_P = 0.12
HOLDOUT_EVERY = 5  # one template in five goes to the test split


def _split_indices(n: int, rng: random.Random) -> set[int]:
    """Indices held out for the test split: ~1/HOLDOUT_EVERY of n, at least one when n >= 4."""
    idx = list(range(n))
    rng.shuffle(idx)
    k = max(1 if n >= 4 else 0, round(n / HOLDOUT_EVERY))
    return set(idx[:k])


def _sample_template(tpl: str, count: int, rng: random.Random, seen: set[str]) -> list[str]:
    out: list[str] = []
    for _ in range(count * 3):
        if len(out) >= count:
            break
        base = expand(tpl, rng)
        text = perturb(base, rng, korean=_is_korean(base))
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def _overlay(text: str, phrases: dict[str, list[str]], rng: random.Random) -> tuple[str, str]:
    reason = rng.choice(sorted(phrases))
    phrase = rng.choice(phrases[reason])
    if rng.random() < 0.7:
        joined = f"{text.rstrip()} {phrase}" if rng.random() < 0.6 else f"{text.rstrip()}. {phrase}"
    else:
        joined = f"{phrase} {text}"
    return joined, reason


_CS_PATTERN = re.compile("|".join(sorted(map(re.escape, CODE_SWITCH), key=len, reverse=True)))

AUG_PER_INTENT = 90


def code_switch(text: str, rng: random.Random) -> str:
    """Replace one shop term with the English word or Konglish a customer might type instead."""
    spans = list(_CS_PATTERN.finditer(text))
    if not spans:
        return text
    m = rng.choice(spans)
    return text[: m.start()] + rng.choice(CODE_SWITCH[m.group(0)]) + text[m.end() :]


def jamo_typo(text: str, rng: random.Random) -> str:
    """One syllable-level slip: a look-alike vowel, a dropped final consonant or a doubled syllable."""
    idxs = [i for i, ch in enumerate(text) if "가" <= ch <= "힣"]
    if not idxs:
        return text
    i = rng.choice(idxs)
    code = ord(text[i]) - 0xAC00
    lead, vowel, tail = code // 588, (code % 588) // 28, code % 28
    r = rng.random()
    if r < 0.6 and vowel in VOWEL_SLIPS:
        vowel = rng.choice(VOWEL_SLIPS[vowel])
    elif r < 0.85 and tail:
        tail = 0
    else:
        return text[: i + 1] + text[i:]
    return text[:i] + chr(0xAC00 + lead * 588 + vowel * 28 + tail) + text[i + 1 :]


def frame(text: str, rng: random.Random) -> str:
    """Put a neutral context sentence or a business-letter opening/closing around a request."""
    if rng.random() < 0.55:
        return f"{rng.choice(CONTEXTS)} {text}"
    return f"{rng.choice(FORMAL_OPEN)} {text.rstrip('?.!')}. {rng.choice(FORMAL_CLOSE)}"


def augment(text: str, rng: random.Random) -> str:
    """A variant of one training line: code-switched, mistyped and/or framed (Korean lines only)."""
    if not _is_korean(text):
        return text
    r = rng.random()
    if r < 0.4:
        out = code_switch(text, rng)
        return out if out != text else jamo_typo(text, rng)
    if r < 0.65:
        return jamo_typo(text, rng)
    if r < 0.85:
        return frame(text, rng)
    return frame(code_switch(text, rng), rng)


def _round2(train: list[dict[str, object]], test_texts: set[str], seen: set[str]) -> list[dict[str, object]]:
    """Second-round training rows: the ROUND2 templates and augmented copies of existing lines."""
    rng = random.Random(SEED + 7)
    out: list[dict[str, object]] = []
    for intent, templates in ROUND2_TEMPLATES.items():
        for tpl in templates:
            for text in _sample_template(tpl, TRAIN_PER_TEMPLATE, rng, seen):
                if text not in test_texts:
                    out.append({"text": text, "intent": intent, "escalate": False})
    by_intent: dict[str, list[dict[str, object]]] = {}
    for rec in train:
        if _is_korean(str(rec["text"])):
            by_intent.setdefault(str(rec["intent"]), []).append(rec)
    for intent in INTENT_TEMPLATES:
        pool = by_intent.get(intent, [])
        added = 0
        for rec in rng.sample(pool, min(len(pool), AUG_PER_INTENT * 2)):
            if added >= AUG_PER_INTENT:
                break
            text = re.sub(r"\s+", " ", augment(str(rec["text"]), rng)).strip()
            if text and text not in seen and text not in test_texts:
                seen.add(text)
                out.append({"text": text, "intent": intent, "escalate": rec["escalate"]})
                added += 1
    return out


QUIET_TRAIN_PER_TEMPLATE = 8
QUIET_TEST_PER_TEMPLATE = 5
QUIET_INTENT_PER_TEMPLATE = 3


def build_quiet(split: str, seen: set[str], count: int = 0) -> list[dict[str, object]]:
    """Quiet-anger rows (escalate) and their polite look-alikes (do not) of one split, from their own stream
    so the rows generated before this round stay byte-identical."""
    rng = random.Random(SEED + 11 + (split == "test"))
    count = count or (QUIET_TEST_PER_TEMPLATE if split == "test" else QUIET_TRAIN_PER_TEMPLATE)
    out: list[dict[str, object]] = []
    for family, templates in QUIET_ESCALATE.items():
        for i, (intent, tpl) in enumerate(templates):
            if (i < QUIET_HOLDOUT) == (split == "test"):
                for text in _sample_template(tpl, count, rng, seen):
                    out.append({"text": text, "intent": intent, "escalate": True, "reason": family})
    for i, (intent, tpl) in enumerate(QUIET_LOOKALIKE):
        if (i % 4 == 0) == (split == "test"):
            for text in _sample_template(tpl, count, rng, seen):
                out.append({"text": text, "intent": intent, "escalate": False, "reason": ""})
    rng.shuffle(out)
    return out


def build_tone(seen: set[str]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(train, test) intent rows under an angry or a polite tone (tone_templates.py), from their own stream
    and appended last, so every row generated before stays byte-identical. Every fifth template is held
    out whole for the test split. Polite rows carry ``"src": "tone"`` so the VOC models do not borrow them."""
    rng = random.Random(SEED + 21)
    out: dict[bool, list[dict[str, object]]] = {True: [], False: []}
    rows = [(intent, tpl, True) for intent, tpl in TONE_ANGRY] + [(i, t, False) for i, t in TONE_POLITE]
    for n, (intent, tpl, angry) in enumerate(rows):
        for text in _sample_template(tpl, TONE_PER_TEMPLATE, rng, seen):
            rec: dict[str, object] = {"text": text, "intent": intent, "escalate": angry}
            if not angry:
                rec["src"] = "tone"
            out[n % 5 == 0].append(rec)
    rng.shuffle(out[False])
    rng.shuffle(out[True])
    return out[False], out[True]


def build_intents(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    train: list[dict[str, object]] = []
    test: list[dict[str, object]] = []
    seen: set[str] = set()
    for intent, templates in INTENT_TEMPLATES.items():
        held = _split_indices(len(templates), rng)
        for i, tpl in enumerate(templates):
            is_test = i in held
            count = TEST_PER_TEMPLATE if is_test else TRAIN_PER_TEMPLATE
            phrases = ESCALATION_PHRASES_TEST if is_test else ESCALATION_PHRASES_TRAIN
            for text in _sample_template(tpl, count, rng, seen):
                escalate = intent == "human_agent"
                if intent not in {"human_agent", "other"} and rng.random() < ESCALATION_OVERLAY_P:
                    text, _reason = _overlay(text, phrases, rng)
                    escalate = True
                rec = {"text": text, "intent": intent, "escalate": escalate}
                (test if is_test else train).append(rec)
        free = FREE_FORM.get(intent, [])
        held_free = _split_indices(len(free), rng)
        for i, line in enumerate(free):
            rec = {"text": line, "intent": intent, "escalate": intent == "human_agent"}
            (test if i in held_free else train).append(rec)
    extra_rng = random.Random(SEED + 6)
    for intent, templates in EXTRA_TEMPLATES.items():
        for tpl in templates:
            # all to training: the held-out split keeps measuring the original unseen templates
            for text in _sample_template(tpl, TRAIN_PER_TEMPLATE, extra_rng, seen):
                train.append({"text": text, "intent": intent, "escalate": False})
    round2 = _round2(train, {str(r["text"]) for r in test}, seen)
    train_texts = {str(r["text"]) for r in train}
    test = [r for r in test if str(r["text"]) not in train_texts]
    rng.shuffle(train)
    rng.shuffle(test)
    # the round-2 rows are mixed in with their own stream so the test split stays byte-identical
    train.extend(round2)
    random.Random(SEED + 8).shuffle(train)
    test_texts = {str(r["text"]) for r in test}
    # fewer per template than the escalation corpus: the intent split keeps its held-out share
    # Only the escalating rows: the look-alikes would also reach the VOC models (intent rows reused there).
    quiet = [
        r
        for r in build_quiet("train", seen, QUIET_INTENT_PER_TEMPLATE)
        if r["escalate"] and str(r["text"]) not in test_texts
    ]
    train.extend({"text": r["text"], "intent": r["intent"], "escalate": r["escalate"]} for r in quiet)
    tone_train, tone_test = build_tone(seen)
    train.extend(r for r in tone_train if str(r["text"]) not in test_texts)
    test.extend(tone_test)
    return train, test


def build_escalation(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    problems = _problem_lines(rng)
    for split, phrases in (("train", ESCALATION_PHRASES_TRAIN), ("test", ESCALATION_PHRASES_TEST)):
        recs = out[split]
        for reason, lines in phrases.items():
            for line in lines:
                recs.append({"text": line, "escalate": True, "reason": reason})
        # request + escalation phrase, and plain requests as negatives
        intents = [k for k in INTENT_TEMPLATES if k not in {"human_agent"}]
        for _ in range(160 if split == "train" else 80):
            intent = rng.choice(intents)
            tpls = INTENT_TEMPLATES[intent]
            held = sorted(_split_indices(len(tpls), random.Random(len(tpls))))
            pool = [t for i, t in enumerate(tpls) if (i in held) == (split == "test")] or tpls
            base = perturb(expand(rng.choice(pool), rng), rng)
            if intent != "other" and rng.random() < 0.5:
                text, reason = _overlay(base, phrases, rng)
                recs.append({"text": text, "escalate": True, "reason": reason})
            else:
                recs.append({"text": base, "escalate": False, "reason": ""})
        for _ in range(40 if split == "train" else 25):
            fams = rng.sample(sorted(problems), rng.choice([2, 2, 3]))
            parts = [rng.choice(problems[f]) for f in fams]
            if len(parts) == 3 or rng.random() < 0.8:
                text = f" {rng.choice(MULTI_CONNECT)} ".join(parts)
            else:
                text = " ".join(parts)
            recs.append({"text": text, "escalate": True, "reason": "multi_problem"})
        human = INTENT_TEMPLATES["human_agent"]
        for tpl in human[:9] if split == "train" else human[9:]:
            recs.append({"text": perturb(expand(tpl, rng), rng), "escalate": True, "reason": "human_request"})
        rng.shuffle(recs)
    seen: set[str] = set()
    for split in ("test", "train"):
        out[split].extend(
            {"text": r["text"], "escalate": r["escalate"], "reason": r["reason"]}
            for r in build_quiet(split, seen)
        )
    return out["train"], out["test"]


def build_voc(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    train: list[dict[str, object]] = []
    test: list[dict[str, object]] = []
    seen: set[str] = set()
    for category, templates in VOC_TEMPLATES.items():
        held = _split_indices(len(templates), rng)
        for i, (tpl, sentiment) in enumerate(templates):
            is_test = i in held
            count = TEST_PER_TEMPLATE if is_test else TRAIN_PER_TEMPLATE
            for text in _sample_template(tpl, count, rng, seen):
                (test if is_test else train).append(
                    {"text": text, "category": category, "sentiment": sentiment}
                )
        for text, sentiment in VOC_FREE.get(category, []):
            train.append({"text": text, "category": category, "sentiment": sentiment})
    train_texts = {str(r["text"]) for r in train}
    test = [r for r in test if str(r["text"]) not in train_texts]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def _write(name: str, records: list[dict[str, object]], out_dir: Path) -> None:
    with (out_dir / name).open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def generate(out_dir: Path = HERE, seed: int = SEED) -> dict[str, int]:
    """Write every corpus file into ``out_dir``; returns the line count per file."""
    counts: dict[str, int] = {}
    files = {}
    files["intents_train.jsonl"], files["intents_test.jsonl"] = build_intents(random.Random(seed))
    files["escalation_train.jsonl"], files["escalation_test.jsonl"] = build_escalation(
        random.Random(seed + 1)
    )
    files["voc_train.jsonl"], files["voc_test.jsonl"] = build_voc(random.Random(seed + 2))
    for name, recs in files.items():
        _write(name, recs, out_dir)
        counts[name] = len(recs)
    return counts


if __name__ == "__main__":
    for fname, n in generate().items():
        print(f"{fname}: {n}")
