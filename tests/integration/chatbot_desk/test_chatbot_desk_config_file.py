"""The `chatbot:` section of the one config file: SLA policies, breach actions, business hours and the
bot's thresholds reach the desk; a bad value refuses the start naming its line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.bootstrap import bootstrap
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.config import ChatbotCfg, load_section
from deliveryhub.config_file import ConfigError
from deliveryhub.kernel.clock import ManualClock

MONDAY_1000_KST = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

GOOD = """\
timezone: Asia/Seoul
chatbot:
  sla:
    normal: {first_response: 3, next_response: 20, resolution: 600}
  on_breach: {first_response: reassign}
  business_hours: {timezone: Asia/Seoul, workdays: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
  confidence_threshold: 0.6
  auto_approval_amount: 20000
  repeat_contact_days: 3
  max_verify_failures: 2
  llm: {url: "http://127.0.0.1:9/v1", model: small, api_key: "${DH_TEST_LLM_KEY}", timeout: 2}
"""


def _hub(tmp_path: Path, master_key: str, config: Path, clock: Any = None) -> Any:
    return bootstrap(
        clock=clock or ManualClock(MONDAY_1000_KST),
        db_url=f"sqlite:///{tmp_path}/hub.db",
        data_dir=tmp_path,
        master_key=master_key,
        env="test",
        config_file=config,
    )


def test_chatbot_section_reaches_the_desk(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DH_TEST_LLM_KEY", "sk-from-env")
    path = tmp_path / "deliveryhub.yaml"
    path.write_text(GOOD, encoding="utf-8")
    clock = ManualClock(MONDAY_1000_KST)
    hub = _hub(tmp_path, master_key, path, clock)
    try:
        cfg = hub.chat.config
        assert cfg.sla["normal"].first_response == 3 and cfg.sla["urgent"].first_response == 5  # default kept
        assert cfg.on_breach["first_response"] == "reassign" and cfg.on_breach["resolution"] == "alert"
        assert cfg.business_hours is not None and cfg.business_hours.days == (0, 1, 2, 3, 4)
        assert (cfg.confidence_threshold, cfg.auto_approval_amount) == (0.6, 20000)
        assert (cfg.repeat_contact_days, cfg.max_verify_failures) == (3, 2)
        assert (cfg.llm_url, cfg.llm_model, cfg.llm_api_key) == (
            "http://127.0.0.1:9/v1",
            "small",
            "sk-from-env",
        )
        # The file's 3-minute first-response target is what a new ticket is due by.
        tid = hub.chat.desk.create_ticket(channel="api", subject="문의", text="언제 와요?")
        with hub.db.read() as conn:
            row = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == tid)).one()
        assert row.first_due == MONDAY_1000_KST + timedelta(minutes=3)
    finally:
        hub.close()


def test_the_shops_own_closed_days_stop_the_desk_too(tmp_path: Path, master_key: str) -> None:
    # A company holiday on Tuesday 2026-11-24, declared once for the whole shop (top-level business_hours):
    # a ticket written on Monday at 17:58 with a 3-minute target is due on Wednesday at 09:01, and the
    # desk tells a customer on the holiday that agents answer again on Wednesday.
    path = tmp_path / "deliveryhub.yaml"
    path.write_text(
        GOOD.replace(
            "timezone: Asia/Seoul\n",
            'timezone: Asia/Seoul\nbusiness_hours:\n  extra_holidays: ["2026-11-24"]\n',
        ),
        encoding="utf-8",
    )
    monday_1758 = datetime(2026, 11, 23, 8, 58, tzinfo=UTC)
    hub = _hub(tmp_path, master_key, path, ManualClock(monday_1758))
    try:
        cfg = hub.chat.config
        assert cfg.business_hours is not None and date(2026, 11, 24) in cfg.business_hours.extra_closures
        tid = hub.chat.desk.create_ticket(channel="api", subject="문의", text="언제 와요?")
        with hub.db.read() as conn:
            row = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == tid)).one()
        assert row.first_due == datetime(2026, 11, 25, 0, 1, tzinfo=UTC)  # Wednesday 09:01 KST
        # Without desk hours of its own, the agents' calendar (what the bot promises) closes that day too.
        cfg.business_hours = None
        holiday_noon = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
        assert cfg.agent_calendar().next_opening(holiday_noon) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    finally:
        hub.close()


@pytest.mark.parametrize(
    ("snippet", "line", "needle"),
    [
        (
            "chatbot:\n  sla:\n    normal: {first_response: -1, next_response: 1, resolution: 1}\n",
            3,
            "first_response",
        ),
        ("chatbot:\n  sla:\n    vip: {first_response: 1, next_response: 1, resolution: 1}\n", 3, "vip"),
        ("chatbot:\n  on_breach: {first_response: shout}\n", 2, "on_breach.first_response"),
        ("chatbot:\n  business_hours: {start: 9:00}\n", 2, "quoted"),
        ("chatbot:\n  business_hours:\n    workdays: [mon, funday]\n", 3, "funday"),
        ("chatbot:\n  confidence_threshold: 1.5\n", 2, "confidence_threshold"),
        ("chatbot:\n  llm: {url: ftp://x}\n", 2, "http"),
        ("chatbot:\n  sla_minutes: 5\n", 2, "sla_minutes"),
        ("chatbot: [1, 2]\n", 1, "mapping"),
    ],
)
def test_chatbot_section_refused_with_its_line(tmp_path: Path, snippet: str, line: int, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_section(path)
    message = str(info.value)
    assert f"bad.yaml:{line} (line {line})" in message and needle in message, message


def test_chatbot_bad_section_stops_the_start(tmp_path: Path, master_key: str) -> None:
    path = tmp_path / "deliveryhub.yaml"
    path.write_text("chatbot:\n  max_verify_failures: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"deliveryhub.yaml:2 .*max_verify_failures"):
        _hub(tmp_path, master_key, path)


def test_chatbot_no_file_or_no_section_keeps_defaults(tmp_path: Path) -> None:
    assert load_section(None) == ChatbotCfg()
    path = tmp_path / "other.yaml"
    path.write_text("timezone: Asia/Seoul\n", encoding="utf-8")
    assert load_section(path) == ChatbotCfg()


def test_chatbot_documented_section_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `chatbot:` example in docs/CONFIG.md loads as written."""
    import re

    doc = (Path(__file__).resolve().parents[3] / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if b.startswith("chatbot:"))
    path = tmp_path / "doc.yaml"
    path.write_text(block, encoding="utf-8")
    monkeypatch.setenv("LLM_KEY", "k")
    section = load_section(path)
    assert section.sla["urgent"].first_response == 5 and section.on_breach["resolution"] == "reassign"
    assert section.llm is not None and section.llm.url == "https://llm.example/v1"
