"""Buyers' cancels on 쿠팡 Wing, polled from the local Wing server: the return/cancel request list
with ``cancelType=CANCEL`` (no status, nextToken paging, 429 backoff within the poller's window and lease).
A cancel of the whole order cancels it; a cancel of some items keeps the order open
(x-order.partially_cancelled) until the rest is cancelled too. ``connectors replay coupang FILE --dry-run``
maps the same list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors.coupang.mapper import KST
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.coupang_poll import CoupangPoller, read_cursor
from dh_testkit import drain, make_hub, serving
from integration.connectors_coupang.fake_wing import (
    ACCESS,
    SECRET,
    VENDOR,
    Wing,
    build,
    cancel_request,
    sheet,
)

PARTIAL = "x-order.partially_cancelled"


@pytest.fixture
def wing() -> Iterator[tuple[Wing, str]]:
    state = Wing()
    with serving(build(state)) as base:
        yield state, base


@pytest.fixture
def hub(
    tmp_path: Path, master_key: str, wing: tuple[Wing, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    for name, value in {
        "BASE_URL": wing[1],
        "VENDOR_ID": VENDOR,
        "ACCESS_KEY": ACCESS,
        "SECRET_KEY": SECRET,
        "MAX_PER_PAGE": "1",
        "RETURN_STATUSES": "",  # only the cancel list under returnRequests, to aim the 429 at it
        "EXCHANGES": "false",
        "ACKNOWLEDGE": "false",
    }.items():
        monkeypatch.setenv(f"DELIVERYHUB_COUPANG_{name}", value)
    hub = make_hub(tmp_path, master_key)
    try:
        yield hub
    finally:
        hub.close()


def _ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S")


def _events(hub: Any, *types: str) -> list[tuple[str, str, str]]:
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.inbox.c.event_id, t.inbox.c.type, t.inbox.c.order_id)
            .where(t.inbox.c.type.in_(types))
            .order_by(t.inbox.c.id)
        ).all()
    return [(r.event_id, r.type, r.order_id) for r in rows]


def _side_state(hub: Any, order_id: str) -> str | None:
    drain(hub)
    with hub.db.read() as conn:
        return conn.execute(  # type: ignore[no-any-return]
            sa.select(t.orders.c.side_state).where(t.orders.c.order_id == order_id)
        ).scalar_one_or_none()


def test_cancel_list_is_polled_and_a_partial_cancel_keeps_the_order_open(
    hub: Any, wing: tuple[Wing, str]
) -> None:
    state, _ = wing
    whole, split = 97000000000001, 97000000000002
    state.sheets.append(sheet(whole, 9901, "ACCEPT", _ago(40), [9911]))
    state.sheets.append(sheet(split, 9902, "ACCEPT", _ago(40), [9921, 9922]))  # two items, one box
    state.cancels += [
        cancel_request(whole, 710001, _ago(20), [(9911, 9901, 1, 1)]),
        cancel_request(split, 710002, _ago(15), [(9921, 9902, 1, 1)]),  # 9922 stays ordered
    ]
    state.fail["/returnRequests"] = [(429, {"Retry-After": "3"}, {"code": 429, "message": "Too many"})]
    poller = CoupangPoller(hub, settings=None)
    first = poller.run(force=True)
    assert first.error is not None and "rate limited" in first.error
    assert read_cursor(hub)[0] is None  # the window is read again, whole, after the backoff
    report = poller.run(force=True)
    assert report.error is None and report.unmapped == []
    cancel_calls = [c[2] for c in state.calls_to("/returnRequests") if c[2].get("cancelType") == "CANCEL"]
    assert cancel_calls and all("status" not in q and "orderId" not in q for q in cancel_calls)
    assert all(q["searchType"] == "timeFrame" for q in cancel_calls)
    assert [q.get("nextToken") for q in cancel_calls[1:]] == [None, "1"]  # two pages of one after the 429
    assert _events(hub, "order.cancelled", PARTIAL) == [
        ("coupang:cancel:710001", "order.cancelled", str(whole)),
        ("coupang:cancel:710002", PARTIAL, str(split)),
    ]
    assert _side_state(hub, str(whole)) == "cancelled"
    assert _side_state(hub, str(split)) is None  # one item of two: the order goes on

    # A re-poll of the same window is a duplicate; then the buyer cancels the other item too.
    poller.run(force=True)
    state.cancels.append(cancel_request(split, 710003, _ago(5), [(9922, 9902, 1, 1)]))
    poller.run(force=True)
    assert _events(hub, "order.cancelled", PARTIAL) == [
        ("coupang:cancel:710001", "order.cancelled", str(whole)),
        ("coupang:cancel:710002", PARTIAL, str(split)),
        ("coupang:cancel:710003", "order.cancelled", str(split)),
    ]
    assert _side_state(hub, str(split)) == "cancelled"


def test_replay_dry_run_maps_the_cancel_list(tmp_path: Path, master_key: str) -> None:
    page = {
        "code": 200,
        "message": "OK",
        "data": [
            cancel_request(97000000000011, 720001, "2026-11-02T09:15:00", [(9931, 9903, 1, 1)]),
            cancel_request(97000000000012, 720002, "2026-11-02T09:20:00", [(9941, 9904, 2, 1)]),
        ],
        "nextToken": "",
    }
    path = tmp_path / "coupang_cancels.json"
    path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_ENV": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "connectors", "replay", "coupang", str(path)]
        + ["--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [(e["type"], e["event_id"], e["order_id"], e["occurred_at"]) for e in events] == [
        ("order.cancelled", "coupang:cancel:720001", "97000000000011", "2026-11-02T09:15:00+09:00"),
        (PARTIAL, "coupang:cancel:720002", "97000000000012", "2026-11-02T09:20:00+09:00"),
    ]
    assert events[0]["data"]["reason"] == "CHANGEMIND"
    assert events[1]["data"]["items"][0]["qty"] == 1
