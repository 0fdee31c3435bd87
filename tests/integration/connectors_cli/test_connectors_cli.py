"""`deliveryhub connectors …` through a subprocess: replay (dry run and ingest), unknown source, broken file,
list. Runs `python -m deliveryhub.entrypoints.connectors_cli` until cli.py mounts `connectors_app`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MODULE = "deliveryhub.entrypoints.cli"

TRACK = {
    "carrierId": "kr.cjlogistics",
    "trackingNumber": "553825406594",
    "data": {
        "track": {
            "lastEvent": None,
            "events": {
                "edges": [
                    {
                        "node": {
                            "time": "2030-01-01T15:00:00+09:00",
                            "status": {"code": "AT_PICKUP", "name": "집화처리"},
                            "description": "배송기사 김민수 010-1234-5678",
                        }
                    },
                    {
                        "node": {
                            "time": "2030-01-02T18:00:00+09:00",
                            "status": {"code": "DELIVERED", "name": "배송완료"},
                        }
                    },
                ]
            },
        }
    },
}


def _run(tmp_path: Path, master_key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", MODULE, "connectors", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_replay_dry_run_prints_canonical_events(tmp_path: Path, master_key: str) -> None:
    payload = tmp_path / "track.json"
    payload.write_text(json.dumps(TRACK, ensure_ascii=False), encoding="utf-8")
    done = _run(
        tmp_path, master_key, "replay", "trackerdelivery", str(payload), "--dry-run", "--order-id", "O-1"
    )
    assert done.returncode == 0, done.stderr
    events = _lines(done.stdout)
    assert [(e["type"], e["data"].get("status")) for e in events] == [
        ("shipment.tracking", "in_transit"),
        ("shipment.tracking", "delivered"),
        ("shipment.handed_over", None),
        ("shipment.delivered", None),
    ]
    assert all(e["order_id"] == "O-1" and e["source"] == "carrier:trackerdelivery" for e in events)
    assert events[0]["data"]["message"] == "배송기사 김*수 010-****-5678"
    assert "nothing stored" in done.stderr
    assert not (tmp_path / "hub.db").exists()  # a dry run opens no database


def test_unknown_source_and_broken_file_exit_2(tmp_path: Path, master_key: str) -> None:
    payload = tmp_path / "x.json"
    payload.write_text("{not json", encoding="utf-8")
    unknown = _run(tmp_path, master_key, "replay", "nosuch", str(payload), "--dry-run")
    assert unknown.returncode == 2
    assert (
        "nosuch" in unknown.stderr
        and "trackerdelivery" in unknown.stderr
        and "sweettracker" in unknown.stderr
    )
    broken = _run(tmp_path, master_key, "replay", "sweettracker", str(payload), "--dry-run")
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr and "Traceback" not in broken.stderr
    missing = _run(tmp_path, master_key, "replay", "sweettracker", str(tmp_path / "none.json"), "--dry-run")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_replay_ingests_and_list_shows_the_source(tmp_path: Path, master_key: str) -> None:
    payload = tmp_path / "sweet.json"
    body = {
        "invoiceNo": "512345678901",
        "t_code": "05",
        "trackingDetails": [{"timeString": "2030-01-01 15:00:00", "level": 2, "kind": "집하완료"}],
    }
    payload.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    done = _run(tmp_path, master_key, "replay", "sweettracker", str(payload), "--order-id", "O-9")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["accepted"] == 2
    again = _run(tmp_path, master_key, "replay", "sweettracker", str(payload), "--order-id", "O-9")
    assert json.loads(again.stdout.strip().splitlines()[-1])["duplicate"] == 2
    listed = _run(tmp_path, master_key, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["source"]: row for row in _lines(listed.stdout)}
    assert {"shopify", "sweettracker", "trackerdelivery", "aftership", "easypost"} <= set(rows)
    assert rows["sweettracker"]["configured"] is False and rows["trackerdelivery"]["carriers"] == []
    synced = _run(tmp_path, master_key, "sync", "sweettracker", "--once")
    assert synced.returncode == 1 and "nothing to poll" in synced.stderr


def test_sync_once_polls_a_routed_carrier_through_its_source(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sync trackerdelivery --once` against a local tracker.delivery: the order's parcel is tracked."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from dh_testkit import drain, event, make_hub, serving, waybill

    asked: list[dict[str, Any]] = []

    async def graphql(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "TRACKQL-API-KEY cid:s3cr3t-td":
            return JSONResponse({"errors": [{"message": "unauthorized"}]}, status_code=401)
        variables = (await request.json())["variables"]
        asked.append(variables)
        return JSONResponse(
            TRACK if variables["carrierId"] == "kr.cjlogistics" else {"data": {"track": None}}
        )

    hub = make_hub(tmp_path, master_key)
    try:
        at = "2030-01-01T09:00:00+09:00"
        created = event(
            "c1", "order.created", "O-7", at, {"customer": {"name": "김고객"}, "items": [], "total": 0}
        )
        hub.ingest.ingest([created, waybill("w1", "O-7", at, "cj", "553825406594")])
        drain(hub)
    finally:
        hub.close()
    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    with serving(app) as url:
        env = {
            "DELIVERYHUB_TRACKERDELIVERY_BASE_URL": f"{url}/graphql",
            "DELIVERYHUB_TRACKERDELIVERY_CLIENT_ID": "cid",
            "DELIVERYHUB_TRACKERDELIVERY_CLIENT_SECRET": "s3cr3t-td",
            "DELIVERYHUB_TRACKERDELIVERY_CARRIERS": "cj",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        synced = _run(tmp_path, master_key, "sync", "trackerdelivery", "--once")
        listed = _run(tmp_path, master_key, "list", "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout.strip().splitlines()[-1])
    assert report["polled"] == {"cj": 1} and report["accepted"] > 0
    assert asked == [{"carrierId": "kr.cjlogistics", "trackingNumber": "553825406594"}]
    assert "s3cr3t-td" not in synced.stdout + synced.stderr + listed.stdout + listed.stderr
    rows = {row["source"]: row for row in _lines(listed.stdout)}
    assert rows["trackerdelivery"]["configured"] is True and rows["trackerdelivery"]["carriers"] == ["cj"]
    assert rows["trackerdelivery"]["last_success_at"] is not None
