"""Text normalisation for customer messages (Korean first, English and Portuguese tolerated).

What :func:`normalize` does, in order:

* full-width ASCII (``ＡＢＣ１２３！``) and the ideographic space become plain ASCII;
* Latin letters are lower-cased and their accents dropped (``Não`` -> ``nao``) -- Hangul is untouched
  (no NFKC: that would turn compatibility jamo such as ``ㅠ`` into conjoining jamo);
* emoticons are mapped to a small set of stable tokens (``T_T`` / ``ㅜ.ㅜ`` -> ``ㅠㅠ``, ``^^`` / ``:)`` ->
  ``ㅎㅎ``, ``-_-`` / ``;;`` -> ``;;``, ``:(`` -> ``ㅠㅠ``);
* runs of the same non-digit character longer than two are cut to two (``ㅠㅠㅠㅠ`` -> ``ㅠㅠ``,
  ``ㅋㅋㅋㅋ`` -> ``ㅋㅋ``, ``!!!`` -> ``!!``, ``ㅇㅇㅇ`` -> ``ㅇㅇ``); mixed ``ㅜㅠㅜ`` become ``ㅠㅠ``;
* frequent spacing/spelling variants are unified (``안와`` and ``안 와`` both become ``안 와``;
  ``어케`` -> ``어떻게``; ``언제옴`` -> ``언제 옴``) so that word features agree;
* Konglish loanwords become the Korean shop term (``캔슬`` -> ``취소``, ``리펀`` -> ``환불``, ``알람`` ->
  ``알림``, ``트래킹 넘버`` -> ``송장번호``) and a few frequent misspellings of the key nouns are fixed
  (``결재`` -> ``결제``, ``반폼`` -> ``반품``, ``환뷸`` -> ``환불``);
* whitespace is collapsed.

Digits are never changed (order and tracking numbers stay intact).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

_LATIN_ACCENTS = str.maketrans(
    "áàâãäåéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ",
    "aaaaaaeeeeiiiiooooouuuucnAAAAAAEEEEIIIIOOOOOUUUUCN",
)

_OTHER_CHARS = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "～": "~",
        "…": "...",
        "\u200b": "",
        "\ufeff": "",
        "\u00a0": " ",
    }
)


def any_of(*parts: str) -> re.Pattern[str]:
    """One compiled pattern matching any of the alternatives given."""
    return re.compile("|".join(parts))


def rx_table(rows: Mapping[str, str]) -> list[tuple[re.Pattern[str], str]]:
    """A table of (compiled pattern, value) rows, in the order written (patterns compiled once)."""
    return [(re.compile(pattern), value) for pattern, value in rows.items()]


# (pattern, replacement) applied on the lower-cased text; order matters.
_EMOTICONS = rx_table(
    {
        r"[tㅜㅠ][_.\-]+[tㅜㅠ]": " ㅠㅠ ",
        r"[ㅜㅠ]{2,}|ㅜ|ㅠ": "ㅠㅠ",
        r"(?<!\w)[:;]-?[(\[]|(?<!\w)\)-?[:;](?!\w)": " ㅠㅠ ",
        r"(?<!\w)[:;]-?[)\]d](?!\w)|(?<!\w)\(-?[:;](?!\w)": " ㅎㅎ ",
        r"\^[_.\-o]?\^+": " ㅎㅎ ",
        r"(?<![\w-])-_+-(?![\w-])|ㅡㅡ+|ㅡ_ㅡ|;{2,}": " ;; ",
        r"ㅋ{2,}": "ㅋㅋ",
        r"ㅎ{2,}": "ㅎㅎ",
        r"[♡♥❤]+|<3": " ♡ ",
    }
)

_REPEAT = re.compile(r"(\D)\1{2,}")
_SPACES = re.compile(r"\s+")

# Spacing / spelling variants seen in chat; the right side is the canonical form.
_VARIANTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"어케|어캐|어떡케|어떻케", "어떻게"),
        (r"언제\s*(옴|와|오나|와요|오나요|옵니까|오냐|오죠|와여)", r"언제 \1"),
        (r"안\s*(와요|왔어요|와|옴|오네|왔|와여|오는|온다|와서|오고|와있|보여|보이|됨|되|돼)", r"안 \1"),
        (r"못\s*(받|받았|받은|받음)", r"못 \1"),
        (r"왜케|왜캐|왜이렇게|왜 이케", "왜 이렇게"),
        (r"넘\s", "너무 "),
        (r"빨랑|빨리좀", "빨리 좀"),
        (r"(\w)좀(?=\s|$)", r"\1 좀"),
        (r"ㅇㅋ", "오케이"),
        (r"ㄱㅅ|ㄳ", "감사"),
        (r"ㅈㅅ|ㅈㅅㅈㅅ", "죄송"),
        (r"ㅅㅂ|ㅆㅂ|시바|씨바", "시발"),
        (r"택베|택뱌|택ㅂ배", "택배"),
        (r"배숑|배쏭|베송", "배송"),
        (r"환불좀", "환불 좀"),
        # Konglish loanwords customers type for the shop's own terms -> the Korean word the model knows
        (r"캔슬", "취소"),
        (r"리펀드|리펀트|리펀", "환불"),
        (r"리스탁|리스톡", "재입고"),
        (r"익스체인지", "교환"),
        (r"노티피케이션|노티(?![드스])", "알림"),
        (r"알람(?!\s*시계)", "알림"),
        (r"(트래킹|트랙킹)\s*(넘버|번호)", "송장번호"),
        (r"딜리버리", "배송"),
        (r"어드레스", "주소"),
        (r"리턴", "반품"),
        (r"오더", "주문"),
        # frequent misspellings of the key nouns (vowel slips, 결재 for 결제)
        (r"결재", "결제"),
        (r"반[폼퓸픔]", "반품"),
        (r"환[뷸볼벌]", "환불"),
        (r"취쇼|춰소", "취소"),
        (r"[재제]잉고|제입고", "재입고"),
        (r"교횐|교한(?=[ 신요을이해])", "교환"),
        (r"주문번호", "주문번호 "),
        (r"송장번호", "송장번호 "),
    ]
]


def fold_width(text: str) -> str:
    """Full-width letters and digits (``ＯＲＤ－１２３``), dashes and quotes as ASCII; case kept."""
    return text.translate(_FULLWIDTH).translate(_OTHER_CHARS)


def basic_clean(text: str) -> str:
    """Width, accents, quotes, case and whitespace only (no emoticon or variant rewriting)."""
    text = fold_width(text).translate(_LATIN_ACCENTS)
    return _SPACES.sub(" ", text.lower()).strip()


def _emoticons(text: str) -> str:
    out = text
    for pattern, repl in _EMOTICONS:
        out = pattern.sub(repl, out)
    return out


def squeeze_repeats(text: str) -> str:
    """Cut runs of the same non-digit character to two (``ㅋㅋㅋㅋ`` -> ``ㅋㅋ``)."""
    return _REPEAT.sub(r"\1\1", text)


def normalize(text: str) -> str:
    """Return the canonical form of one message used by every feature extractor."""
    out = basic_clean(text)
    out = squeeze_repeats(out)
    out = _emoticons(out)
    for pattern, repl in _VARIANTS:
        out = pattern.sub(repl, out)
    out = squeeze_repeats(out)
    return _SPACES.sub(" ", out).strip()


def normalize_many(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Normalise a batch (module-level so it can sit inside a pickled scikit-learn pipeline)."""
    return [normalize(t) for t in texts]


def compact(text: str) -> str:
    """Normalised text without any spaces, for spacing-insensitive keyword matching."""
    return normalize(text).replace(" ", "")
