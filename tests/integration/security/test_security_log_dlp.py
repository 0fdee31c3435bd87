"""Logs of a wired hub (SQLite) carry no personal data, through structlog and the standard library."""

from __future__ import annotations

import logging

import structlog

from deliveryhub.pii import dlp
from dh_testkit import rrn

VALID_RRN = rrn("900101", "1", "23456")


def test_configured_structlog_and_stdlib_logs_carry_no_personal_data(hub, capsys) -> None:  # noqa: ANN001
    # security wiring (run by the `hub` fixture) installs the processor in structlog's chain
    structlog.get_logger("t").info("customer called", phone="010-2222-3333", text="RRN " + VALID_RRN)
    out = capsys.readouterr().out
    assert "2222-3333" not in out and VALID_RRN not in out and "customer called" in out
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", ("kim@example.com",), None)
    assert dlp.PiiLogFilter().filter(record)
    assert "kim@example.com" not in record.getMessage()
