"""`deliveryhub doctor` on the notification channels, against the local SOLAPI, Slack and KakaoWork
servers: healthy ones pass with a plain line (and receive no message), a wrong key or secret is named in
words, and no secret is ever part of the output."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_sms_fakes import API_KEY, API_SECRET, CONVERSATION, KAKAOWORK_KEY, Recorder
from chat_sms_fakes import reset as reset_fakes
from typer.testing import CliRunner

from deliveryhub.notifications.doctor import notification_checks
from deliveryhub.service_layer.doctor import run_checks

SLACK_PATH = "/services/T000/B000/XXXX"


def _env(monkeypatch: pytest.MonkeyPatch, solapi: str, chat: str, **override: str) -> None:
    env = {
        "DELIVERYHUB_KAKAO_PROVIDER": "solapi",
        "DELIVERYHUB_SMS_PROVIDER": "solapi",
        "DELIVERYHUB_SOLAPI_URL": solapi,
        "DELIVERYHUB_SOLAPI_API_KEY": API_KEY,
        "DELIVERYHUB_SOLAPI_API_SECRET": API_SECRET,
        "DELIVERYHUB_SOLAPI_PF_ID": "KA01PF000000000000000000000000",
        "DELIVERYHUB_OPS_SLACK_WEBHOOK_URL": chat + SLACK_PATH,
        "DELIVERYHUB_OPS_KAKAOWORK_APP_KEY": KAKAOWORK_KEY,
        "DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID": CONVERSATION,
        "DELIVERYHUB_OPS_KAKAOWORK_URL": chat,
        **override,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def _results(config: Path | None = None) -> dict[str, tuple[bool, str]]:
    return {r.name: (r.ok, r.detail) for r in run_checks(notification_checks(config))}


def test_healthy_channels_pass_without_sending_anything(
    monkeypatch: pytest.MonkeyPatch,
    solapi: tuple[str, Recorder],
    chat: tuple[str, Recorder, Recorder],
) -> None:
    (sbase, state), (cbase, slack, kakaowork) = solapi, chat
    reset_fakes(state, slack, kakaowork)
    _env(monkeypatch, sbase, cbase)
    results = _results()
    assert set(results) == {"notifications solapi", "ops chat slack", "ops chat kakaowork"}
    assert all(ok for ok, _ in results.values()), results
    assert "잔액 12000원" in results["notifications solapi"][1]
    assert "no DELIVERYHUB_SOLAPI_WEBHOOK_SECRET" in results["notifications solapi"][1]
    assert "is live" in results["ops chat slack"][1] and "XXXX" not in results["ops chat slack"][1]
    assert "배송알림봇" in results["ops chat kakaowork"][1]
    # Nothing was sent: one signed balance read, an empty Slack probe it refused, one bots.info.
    assert [r["kind"] for r in state.requests] == ["balance"]
    assert not slack.ok("slack") and [r["json"] for r in slack.requests] == [{}]
    assert [r["kind"] for r in kakaowork.requests] == ["bots.info"]


@pytest.mark.parametrize(
    ("override", "name", "words"),
    [
        (
            {"DELIVERYHUB_SOLAPI_API_KEY": "NCSWRONGKEY00001"},
            "notifications solapi",
            "DELIVERYHUB_SOLAPI_API_KEY",
        ),
        (
            {"DELIVERYHUB_SOLAPI_API_SECRET": "not-the-secret-000000000000000"},
            "notifications solapi",
            "DELIVERYHUB_SOLAPI_API_SECRET",
        ),
        (
            {"DELIVERYHUB_OPS_KAKAOWORK_APP_KEY": "kw-wrong-app-key"},
            "ops chat kakaowork",
            "DELIVERYHUB_OPS_KAKAOWORK_APP_KEY",
        ),
        ({"DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID": "general"}, "ops chat kakaowork", "CONVERSATION_ID"),
    ],
)
def test_a_wrong_credential_is_named_and_never_printed(
    monkeypatch: pytest.MonkeyPatch,
    solapi: tuple[str, Recorder],
    chat: tuple[str, Recorder, Recorder],
    override: dict[str, str],
    name: str,
    words: str,
) -> None:
    (sbase, state), (cbase, slack, kakaowork) = solapi, chat
    reset_fakes(state, slack, kakaowork)
    _env(monkeypatch, sbase, cbase, **override)
    results = _results()
    ok, detail = results[name]
    assert not ok and words in detail, detail
    assert all(ok for n, (ok, _) in results.items() if n != name)
    secrets = [API_SECRET, KAKAOWORK_KEY, "XXXX", *override.values()]
    for _n, (_ok, text) in results.items():
        assert not any(s in text for s in secrets if s not in ("general",)), text


def test_slack_url_shape_and_a_removed_hook(
    monkeypatch: pytest.MonkeyPatch, solapi: tuple[str, Recorder], chat: tuple[str, Recorder, Recorder]
) -> None:
    (sbase, _state), (cbase, _slack, _kw) = solapi, chat
    _env(monkeypatch, sbase, cbase, DELIVERYHUB_OPS_SLACK_WEBHOOK_URL="https://example.com/hook")
    ok, detail = _results()["ops chat slack"]
    assert not ok and "not an incoming-webhook URL" in detail
    _env(monkeypatch, sbase, cbase, DELIVERYHUB_OPS_SLACK_WEBHOOK_URL=cbase + "/services/T000/B000/GONE")
    ok, detail = _results()["ops chat slack"]
    assert not ok and "HTTP 404" in detail and "GONE" not in detail


def test_the_doctor_command_prints_the_channel_lines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    solapi: tuple[str, Recorder],
    chat: tuple[str, Recorder, Recorder],
) -> None:
    from deliveryhub.entrypoints.cli import app

    (sbase, _state), (cbase, _slack, _kw) = solapi, chat
    _env(monkeypatch, sbase, cbase, DELIVERYHUB_SOLAPI_API_KEY="NCSWRONGKEY00001")
    monkeypatch.setenv("DELIVERYHUB_DATA_DIR", str(tmp_path))
    out = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path}/hub.db", "--bus", "inprocess://", "doctor"])
    assert out.exit_code == 1, out.output
    assert "notifications solapi" in out.output and "DELIVERYHUB_SOLAPI_API_KEY" in out.output
    assert "ops chat kakaowork" in out.output and "배송알림봇" in out.output
    assert API_SECRET not in out.output and KAKAOWORK_KEY not in out.output
