"""Log redaction and traceback shape: secrets masked in every rendering, tracebacks without locals."""

from __future__ import annotations

import logging

import pytest
import structlog

from deliveryhub.logs import RedactingFormatter, configure_logging, redact

KEY = "dhk_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0uvw"
SESSION = "dhs_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0fed"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {KEY}",
        f"(b'authorization', b'Bearer {KEY}')",
        f'{{"authorization": "Bearer {KEY}"}}',
        f"headers=[(b'cookie', b'dh_session={SESSION}; dh_csrf=tok123456')]",
        f"Cookie: dh_session={SESSION}",
        f"set-cookie: dh_session={SESSION}; HttpOnly",
        f"GET /v1/orders?api_key={KEY}&token={SESSION}",
        "email=a%40b.co&password=hunter2-but-long&totp=123456&csrf=abcdef",
        '{"password": "correct horse battery", "totp": "654321"}',
        f"key was {KEY} and session {SESSION}",
        f"Basic {KEY[4:]}",
        f"x-api-key: {KEY[4:]}",
    ],
)
def test_redact_masks_every_rendering_of_a_secret(text: str) -> None:
    out = redact(text)
    for secret in (KEY[4:], SESSION[4:], "hunter2-but-long", "correct horse battery", "123456", "654321",
                   "tok123456", "abcdef"):
        assert secret not in out, (text, out)


def test_redact_keeps_ordinary_text() -> None:
    line = "order O-123 delivered by cj in 2 days; basic validation failed; retry in 3 s; event_id=e-9"
    assert redact(line) == line


def test_structlog_tracebacks_carry_no_locals_and_no_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()

    def handler(headers: dict[str, str]) -> None:
        authorization = headers["authorization"]  # a local the old Rich traceback printed
        raise ValueError("bad token " + authorization)

    try:
        handler({"authorization": f"Bearer {KEY}", "cookie": f"dh_session={SESSION}"})
    except ValueError:
        structlog.get_logger("t").exception("unhandled_error", headers={"cookie": SESSION}, token=KEY)
    out = capsys.readouterr().out
    assert "unhandled_error" in out and "Traceback" in out and "ValueError" in out
    assert KEY[4:] not in out and SESSION[4:] not in out
    assert "authorization =" not in out and "│" not in out  # no locals table, no Rich frame boxes
    assert len(out.splitlines()) < 20


def test_stdlib_records_and_their_tracebacks_are_redacted() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise RuntimeError(f"Cookie: dh_session={SESSION}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "auth %s", (f"Bearer {KEY}",),
                                   sys.exc_info())
    text = formatter.format(record)
    assert KEY[4:] not in text and SESSION[4:] not in text and "RuntimeError" in text
