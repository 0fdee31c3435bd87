from __future__ import annotations

import pytest

from deliveryhub.chatbot.nlu.normalize import compact, normalize, normalize_many, squeeze_repeats


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("택배 안와요ㅠㅠㅠㅠ", "택배 안 와요ㅠㅠ"),
        ("ㅋㅋㅋㅋㅋ", "ㅋㅋ"),
        ("ㅜㅠㅜ", "ㅠㅠ"),
        ("ＡＢＣ１２３！！！", "abc123!!"),
        ("Where IS my ORDER", "where is my order"),
        ("Não recebi o produto", "nao recebi o produto"),
        ("감사합니다 ^^", "감사합니다 ㅎㅎ"),
        ("좋아요 :)", "좋아요 ㅎㅎ"),
        ("늦어요 :(", "늦어요 ㅠㅠ"),
        ("T_T 늦네요", "ㅠㅠ 늦네요"),
        ("왜케 늦어요 -_-", "왜 이렇게 늦어요 ;;"),
        ("배송  언제   와요", "배송 언제 와요"),
        ("어케 해요", "어떻게 해요"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_spacing_variants_agree() -> None:
    assert normalize("택배가 안와요") == normalize("택배가 안 와요")
    assert compact("배송 언제 와요") == compact("배송언제와요")


def test_digits_are_never_squeezed() -> None:
    assert "ORD-2024-000123".lower() in normalize("ORD-2024-000123 주문")
    assert squeeze_repeats("1110000") == "1110000"
    assert normalize("010-1111-2222") == "010-1111-2222"


def test_compatibility_jamo_survive() -> None:
    # NFKC would turn ㅠ into a conjoining jamo; we must not.
    assert "ㅠ" in normalize("ㅠㅠ")
    assert normalize("ㅇㅇㅇㅇ") == "ㅇㅇ"


def test_empty_and_batch() -> None:
    assert normalize("   ") == ""
    assert normalize_many(["A", "ｂ"]) == ["a", "b"]
