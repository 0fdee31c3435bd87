"""Password policy: long enough, not a common or breached password, not a trivial pattern.

NIST SP 800-63B and ISMS-P 2.5.4: length over composition rules, and a check against passwords
known from breaches. The list ships with the package (common_passwords.txt, 5,000 entries); nothing is
downloaded at run time.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

MAX_LENGTH = 1024
MIN_DISTINCT = 5  # "aaaaaaaaaaaa", "abababababab", "111122223333" have fewer different characters
# Digits and punctuation people put around a common word ("Password123!", "!!qwerty2024").
_DECORATION = re.compile(r"^[\d\W_]+|[\d\W_]+$")


class PasswordRejected(ValueError):
    """A password the policy refuses; the message says why in Korean and English."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common/breached passwords (lower case)."""
    text = resources.files("deliveryhub.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_sequence(value: str) -> bool:
    # Runs like "123456789012", "abcdefghijkl" or "987654321098": every step the same +1 or -1.
    steps = {
        (ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
        for a, b in zip(value, value[1:], strict=False)
    }
    return len(steps) == 1 and (steps <= {1, 9, -1})


def check_password(password: str, min_length: int = 12, email: str = "") -> None:
    """Raise PasswordRejected unless `password` satisfies the policy."""
    if not password or not password.strip():
        raise PasswordRejected(
            "비밀번호가 비어 있거나 공백뿐입니다 / password: must not be empty or only spaces"
        )
    if len(password) < min_length:
        raise PasswordRejected(
            f"비밀번호는 {min_length}자 이상이어야 합니다 / password: at least {min_length} characters"
        )
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(
            f"비밀번호는 {MAX_LENGTH}자 이하여야 합니다 / password: at most {MAX_LENGTH} characters"
        )
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT or _is_sequence(lowered):
        raise PasswordRejected(
            "비밀번호에 같은 문자나 단순한 순서만 반복할 수 없습니다 / "
            "password: too few different characters or a simple sequence"
        )
    common = common_passwords()
    core = _DECORATION.sub("", lowered)
    if lowered in common or lowered.replace(" ", "") in common or (len(core) >= 4 and core in common):
        raise PasswordRejected(
            "널리 알려진(유출된) 비밀번호입니다. 다른 비밀번호를 쓰세요 / "
            "password: a common or breached password; choose another"
        )
    local = email.split("@", 1)[0].lower()
    if email and (lowered == email.lower() or (len(local) >= 4 and local in lowered)):
        raise PasswordRejected(
            "비밀번호에 이메일 주소를 넣을 수 없습니다 / password: must not contain the e-mail address"
        )
