"""The password policy and the login backoff schedule (pure logic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deliveryhub.security.logins import FREE_FAILURES, MAX_WAIT, wait_after
from deliveryhub.security.passwords import PasswordRejected, check_password, common_passwords


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",  # the probe's example, at policy length
        "          \t  ",  # whitespace only
        "ab" * 8,  # too few different characters
        "123456789012",
        "abcdefghijklmn",
        "password1234",
        "Password1234!!",
        "QWERTYUIOP12",
        "iloveyou2026!",
        "1q2w3e4r5t6y",
        "short1!",
        "kim.minsu.2026@x",  # contains the e-mail's local part
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(PasswordRejected) as err:
        check_password(password, 12, "kim.minsu@example.com")
    message = str(err.value)
    assert "비밀번호" in message and "password" in message


@pytest.mark.parametrize("password", ["correct horse battery staple", "택배-상자-42-파란색", "vN7#qL2!mZ9$"])
def test_good_passwords_pass(password: str) -> None:
    check_password(password, 12, "ops@example.com")


def test_the_list_ships_with_the_package_and_is_big_enough() -> None:
    words = common_passwords()
    assert len(words) >= 4000 and "password" in words and "qwerty123456" in words


def test_the_minimum_length_is_the_setting() -> None:
    check_password("vN7#qL2!mZ9$", 12)
    with pytest.raises(PasswordRejected, match="16"):
        check_password("vN7#qL2!mZ9$", 16)


def test_backoff_doubles_and_is_capped_never_permanent() -> None:
    assert [wait_after(n) for n in range(FREE_FAILURES)] == [None] * FREE_FAILURES
    waits = [wait_after(n) for n in range(FREE_FAILURES, FREE_FAILURES + 12)]
    assert waits[0] == timedelta(seconds=30) and waits[1] == timedelta(seconds=60)
    assert max(w for w in waits if w) == MAX_WAIT and waits[-1] == MAX_WAIT
