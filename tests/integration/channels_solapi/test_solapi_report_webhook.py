"""SOLAPI's delivery report webhook (POST /v1/webhooks/solapi): 알림톡 sent through the local SOLAPI, then
reports posted as SOLAPI posts them (a JSON array of message objects, or of groups to look up). A report
updates its job once, a FAILED 알림톡 is sent again once as SMS, a replay changes nothing; without the
shop's secret it is 401 and nothing is stored; a bad body is a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from chat_sms_fakes import API_KEY, API_SECRET, PF_ID, Recorder
from chat_sms_fakes import reset as reset_fakes
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app, create_platform_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.notifications.tables import notification_receipts as receipts_t
from dh_testkit import drain, make_hub
from notif_kit import lifecycle, send_all

START = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
CUSTOMER = {"name": "김민지", "phone": "010-2345-6789", "email": "minji@example.com"}
SECRET = "solapi-report-secret-1"
URL = "/v1/webhooks/solapi"


def _env(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    for k, v in {
        "DELIVERYHUB_KAKAO_PROVIDER": "solapi",
        "DELIVERYHUB_SMS_PROVIDER": "solapi",
        "DELIVERYHUB_SOLAPI_URL": base,
        "DELIVERYHUB_SOLAPI_API_KEY": API_KEY,
        "DELIVERYHUB_SOLAPI_API_SECRET": API_SECRET,
        "DELIVERYHUB_SOLAPI_SENDER_NO": "02-1234-5678",
        "DELIVERYHUB_SOLAPI_PF_ID": PF_ID,
        "DELIVERYHUB_SOLAPI_WEBHOOK_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(k, v)


def _jobs(hub: Any) -> list[Any]:
    with hub.db.read() as conn:
        return list(
            conn.execute(sa.select(jobs_t).where(jobs_t.c.audience == "customer").order_by(jobs_t.c.id)).all()
        )


def _stored(hub: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every job's mutable state and every receipt: what a refused report must leave alone."""
    with hub.db.read() as conn:
        jobs = conn.execute(
            sa.select(jobs_t.c.id, jobs_t.c.status, jobs_t.c.channels, jobs_t.c.fallback).order_by(
                jobs_t.c.id
            )
        ).all()
        receipts = conn.execute(sa.select(receipts_t).order_by(receipts_t.c.id)).all()
    return [tuple(r) for r in jobs], [tuple(r) for r in receipts]


def _report(group_id: str, code: str, message: str = "", kind: str = "ATA") -> dict[str, Any]:
    """One message object as SOLAPI's 메시지 리포트 webhook posts it (fields of GET /messages/v4/list)."""
    return {
        "messageId": "M4V" + group_id[3:],
        "groupId": group_id,
        "type": kind,
        "to": "01023456789",
        "from": "0212345678",
        "country": "82",
        "statusCode": code,
        "statusMessage": message,
        "replacement": False,
        "dateCreated": "2026-12-06T01:00:01.000Z",
        "dateReceived": "2026-12-06T01:00:05.000Z",
    }


def test_reports_update_once_fall_back_to_sms_once_and_refuse_the_unauthenticated(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, solapi: tuple[str, Recorder]
) -> None:
    base, state = solapi
    reset_fakes(state)
    _env(monkeypatch, base)
    hub = make_hub(tmp_path, master_key, clock=ManualClock(START))
    hub.ingest.ingest(lifecycle("O-RPT-1", START, CUSTOMER)[:2] + lifecycle("O-RPT-2", START, CUSTOMER)[:1])
    drain(hub)
    send_all(hub)
    jobs = _jobs(hub)
    assert len(jobs) == 3 and all((j.status, j.channel) == ("sent", "kakao") for j in jobs)
    first, second, third = (j.provider_message_id for j in jobs)
    assert len(state.ok("ATA")) == 3 and not state.ok("SMS")

    with TestClient(create_app(hub, run_worker=False)) as client:
        # No secret, a wrong one, the secret of nobody: 401 and nothing stored.
        before = _stored(hub)
        body = [_report(first, "4000")]
        for params, headers in (
            ({}, {}),
            ({"token": "wrong"}, {}),
            ({}, {"X-Deliveryhub-Token": SECRET + "x"}),
        ):
            res = client.post(URL, params=params, headers=headers, json=body)
            assert res.status_code == 401, res.text
            assert res.json()["error"]["field"] == "token"
        assert _stored(hub) == before

        # Garbage: a 4xx naming the field, never a 500, nothing stored.
        auth = {"token": SECRET}
        for content, status, field in (
            (b"not json", 400, "body"),
            (b'"a string"', 422, "body"),
            (b"[1]", 422, "body[0]"),
            (b'[{"statusCode": "4000"}]', 422, "body[0].groupId"),
            (b'[{"groupId": "G4V1", "statusCode": {"x": 1}}]', 422, "body[0].statusCode"),
            (b'[{"groupId": ["G4V1"]}]', 422, "body[0].groupId"),
        ):
            res = client.post(URL, params=auth, content=content, headers={"Content-Type": "application/json"})
            assert res.status_code == status, (content, res.text)
            assert res.json()["error"]["field"] == field
        assert _stored(hub) == before

        # A genuine 수신완료 report (header secret this time): delivered, one receipt; the replay: nothing.
        res = client.post(URL, headers={"X-Deliveryhub-Token": SECRET}, json=[_report(first, "4000")])
        assert res.status_code == 200 and res.json()["applied"] == 1, res.text
        after_first = _stored(hub)
        res = client.post(URL, params=auth, json=[_report(first, "4000")])
        assert res.status_code == 200 and res.json()["applied"] == 0
        assert _stored(hub) == after_first
        assert _jobs(hub)[0].status == "delivered" and _jobs(hub)[0].delivered_at is not None

        # Still on its way (3000): nothing changes yet. A message of another system: acknowledged, ignored.
        res = client.post(URL, params=auth, json=[_report(second, "3000"), _report("G4VNOTOURS0001", "4000")])
        assert res.status_code == 200 and res.json() == {
            "received": 2,
            "applied": 0,
            "pending": 1,
            "ignored": 1,
        }
        assert _stored(hub) == after_first

        # 3104 카카오톡 미사용자: the 알림톡 failed; the job is queued again for SMS, once.
        failed = [_report(second, "3104", "카카오톡 미사용자")]
        res = client.post(URL, params=auth, json=failed)
        assert res.status_code == 200 and res.json()["applied"] == 1
        job = _jobs(hub)[1]
        assert (job.status, job.channels[0], job.fallback) == ("retry", "sms", True)
        assert "3104" in job.last_error
        for _ in range(2):  # replays, before and after the SMS went out
            assert client.post(URL, params=auth, json=failed).json()["applied"] == 0
            send_all(hub)
        job = _jobs(hub)[1]
        assert (job.status, job.channel, job.fallback) == ("sent", "sms", True)
        sms = [r for r in state.ok("SMS") + state.ok("LMS")]
        assert len(sms) == 1 and sms[0]["json"]["messages"][0]["to"] == "01023456789"
        with hub.db.read() as conn:
            receipts = conn.execute(
                sa.select(receipts_t.c.channel, receipts_t.c.status, receipts_t.c.error)
                .where(receipts_t.c.job_id == job.id)
                .order_by(receipts_t.c.id)
            ).all()
        assert [(r.channel, r.status) for r in receipts] == [
            ("kakao", "sent"),
            ("kakao", "failed"),
            ("sms", "sent"),
        ]
        assert "3104" in receipts[1].error and "카카오톡 미사용자" in receipts[1].error

        # A 그룹 리포트 (groups, no status): the hub asks SOLAPI's list for the group, as the poll does.
        res = client.post(URL, params=auth, json=[{"groupId": third, "count": {"total": 1}}])
        assert res.status_code == 200 and res.json()["applied"] == 1
        assert _jobs(hub)[2].status == "delivered"

    # The receipts job finds nothing left to ask about those three (each receipt had its one effect).
    assert hub.notifications.dispatcher.poll_receipts(hub.clock.now()) == 0
    hub.close()


def test_each_shop_takes_reports_with_its_own_secret(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch, solapi: tuple[str, Recorder]
) -> None:
    base, _state = solapi
    _env(monkeypatch, base)  # the platform's own (default shop's) secret is SECRET
    config = tmp_path / "shop-a.yaml"
    config.write_text("notifications:\n  solapi_webhook_secret: shop-a-only-secret\n")
    platform = make_hub(tmp_path, master_key)
    app = create_platform_app(platform, run_worker=False)
    app.hubs.directory.create("가나다 상점", "shop-a", platform.clock.now(), config_file=str(config))
    body = [_report("G4VSOMEOTHERGROUP01", "4000")]
    try:
        with TestClient(app) as client:
            shop_url = "/s/shop-a" + URL
            assert client.post(shop_url, params={"token": "shop-a-only-secret"}, json=body).status_code == 200
            assert client.post(shop_url, params={"token": SECRET}, json=body).status_code == 401
            assert client.post(URL, params={"token": "shop-a-only-secret"}, json=body).status_code == 401
            assert client.post(URL, params={"token": SECRET}, json=body).status_code == 200
    finally:
        app.hubs.close()
        platform.close()
