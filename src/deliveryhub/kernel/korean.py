"""Korean particles chosen by the preceding word's final consonant (받침).

``josa("운송장번호 567890123400", "으로/로")`` → ``"으로"`` (영 ends in ㅇ), ``josa("서울", "으로/로")`` →
``"로"`` (ㄹ + 으로 becomes 로), ``attach("배송 완료", "은/는")`` → ``"배송 완료는"``.

The pairs understood are 은/는, 이/가, 을/를, 으로/로, 과/와, 이에요/예요, 이랑/랑, 아/야 in either order.
The word's last sound is read from its last Hangul syllable, digit (numbers of five or more digits are
read digit by digit, as people read order and tracking numbers; shorter ones as a quantity: 10 십, 100 백,
1000 천) or Latin letter (its Korean letter name: L 엘, M 엠, N 엔, R 알); closing quotes, brackets and
spaces are skipped."""

from __future__ import annotations

# (after a final consonant, after a vowel)
_PAIRS: dict[str, tuple[str, str]] = {}
for _cons, _vowel in (
    ("은", "는"),
    ("이", "가"),
    ("을", "를"),
    ("으로", "로"),
    ("과", "와"),
    ("이에요", "예요"),
    ("이랑", "랑"),
    ("아", "야"),
):
    _PAIRS[f"{_cons}/{_vowel}"] = _PAIRS[f"{_vowel}/{_cons}"] = (_cons, _vowel)

# Final consonant of each digit's Korean reading: "" none, "ㄹ", or "x" (any other consonant).
# 영 일 이 삼 사 오 육 칠 팔 구
_DIGIT_FINAL = dict(zip("0123456789", ("x", "ㄹ", "", "x", "", "", "x", "ㄹ", "ㄹ", ""), strict=True))
_LETTER_FINAL = {"l": "ㄹ", "r": "ㄹ", "m": "x", "n": "x"}
_SKIP = " \t\n'\"’”)]}>」』"
_RIEUL = 8  # index of ㄹ among the 28 final-consonant slots


def final_consonant(word: str) -> str:
    """The last sound of `word`: '' (a vowel), 'ㄹ', or 'x' (another final consonant)."""
    text = word.rstrip(_SKIP)
    if not text:
        return ""
    last = text[-1]
    if "가" <= last <= "힣":
        jong = (ord(last) - 0xAC00) % 28
        return "" if jong == 0 else ("ㄹ" if jong == _RIEUL else "x")
    if last.isdigit():
        digits = text[len(text.rstrip("0123456789")) :]
        zeros = len(digits) - len(digits.rstrip("0"))
        if len(digits) < 5 and 0 < zeros < len(digits):
            return "x"  # 십 (ㅂ), 백 (ㄱ), 천 (ㄴ): a quantity ending in zeros ends in its unit's sound
        return _DIGIT_FINAL[last]
    return _LETTER_FINAL.get(last.lower(), "")


def josa(word: str, pair: str) -> str:
    """The particle of `pair` ("은/는", "으로/로", ...) that follows `word`."""
    cons, vowel = _PAIRS[pair]
    final = final_consonant(word)
    if cons == "으로":
        return vowel if final in ("", "ㄹ") else cons
    return cons if final else vowel


def attach(word: str, pair: str) -> str:
    """`word` followed by its particle from `pair` ("서울" + "으로/로" → "서울로")."""
    return word + josa(word, pair)
