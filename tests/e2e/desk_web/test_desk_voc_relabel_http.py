"""A CS lead relabels a ticket's VOC category over HTTP (issue 18 item 5): validated (422 naming the field),
404 for an unknown ticket, a lead's permission (not a plain agent's), audited; the desk's CS metrics count
the new category; the export feeds the next VOC model, which then answers the lead's category for that text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deliveryhub.chatbot import relabel, voc
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.entrypoints.api.routers.desk import RELABEL_PERMISSION
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.kpi.report import voc_shares
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.audit import audit_log_of
from deliveryhub.security.rbac import PERMISSIONS
from dh_testkit import drain, make_hub, order_created

NOW = datetime.fromisoformat("2026-12-01T10:00:00+09:00")
OID = "ORD-2026-008801"
# A ticket the classifier reads as one thing and a lead reads as another: the parcel went out without the
# notice the customer had been promised, so the lead files it under 안내 미흡.
TEXT = "주문한 화분 받았는데 출발한다는 연락을 한 번도 못 받았어서 집에 아무도 없었어요"


@pytest.fixture
def desk(tmp_path: Path, master_key: str) -> Iterator[tuple[Any, TestClient, dict[str, dict[str, str]]]]:
    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    try:
        hub.ingest.ingest([order_created("v1", OID, "2026-11-28T10:00:00+09:00", {"name": "한지우"})])
        drain(hub)
        keys = {
            role: {"Authorization": f"Bearer {create_api_key(hub.db, role, role)}"}
            for role in ("ops", "cs_agent")
        }
        with TestClient(create_app(hub, run_worker=False)) as c:
            yield hub, c, keys
    finally:
        hub.close()


def _ticket(c: TestClient, h: dict[str, str]) -> int:
    r = c.post("/v1/tickets", json={"subject": "배송 문의", "text": TEXT, "order_id": OID}, headers=h)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_lead_relabels_and_the_desk_counts_it(desk: Any) -> None:
    hub, c, keys = desk
    assert "cs_agent" not in PERMISSIONS[RELABEL_PERMISSION] and "ops" in PERMISSIONS[RELABEL_PERMISSION]
    tid = _ticket(c, keys["ops"])
    before = c.get(f"/v1/tickets/{tid}", headers=keys["ops"]).json()
    assert before["voc_relabels"] == []
    first = before["voc_category"]
    target = "status_notice" if first != "status_notice" else "delivery_delay"

    r = c.patch(f"/v1/tickets/{tid}/voc", json={"category": target}, headers=keys["cs_agent"])
    assert r.status_code == 403
    r = c.patch(f"/v1/tickets/{tid}/voc", json={"category": "late"}, headers=keys["ops"])
    assert r.status_code == 422 and r.json()["error"]["field"] == "category", r.text
    assert "delivery_delay" in r.json()["error"]["message"]
    r = c.patch(f"/v1/tickets/{tid}/voc", json={}, headers=keys["ops"])
    assert r.status_code == 422 and r.json()["error"]["field"] == "category", r.text
    r = c.patch("/v1/tickets/987654/voc", json={"category": target}, headers=keys["ops"])
    assert r.status_code == 404

    r = c.patch(f"/v1/tickets/{tid}/voc", json={"category": target}, headers=keys["ops"])
    assert r.status_code == 200, r.text
    assert r.json()["voc_category"] == target and r.json()["previous"] == first
    view = c.get(f"/v1/tickets/{tid}", headers=keys["cs_agent"]).json()
    assert view["voc_category"] == target
    assert [(h["from"], h["to"]) for h in view["voc_relabels"]] == [(first, target)]
    audit = [e for e in audit_log_of(hub).entries(limit=20) if e["action"] == "ticket.voc_relabelled"]
    assert len(audit) == 1 and audit[0]["target"] == f"ticket:{tid}"
    assert audit[0]["details"] == {"from": first, "to": target}
    # The desk's CS metrics (the header and the VOC shares) count the lead's category.
    m = c.get("/v1/cs/metrics", params={"from": "2026-12-01", "to": "2026-12-01"}, headers=keys["ops"]).json()
    assert m["voc"]["counts"].get(target) == 1 and first not in m["voc"]["counts"]
    # ...and so do the KPIs (computed from canonical events): the monthly report's VOC shares agree.
    drain(hub)
    assert hub.kpi is not None
    shares, total, _source = voc_shares(hub.kpi.engine, date(2026, 12, 1), date(2026, 12, 31), "Asia/Seoul")
    assert total == 1 and [s["key"] for s in shares if s["count"]] == [target], shares


def test_the_next_model_answers_the_leads_category(
    desk: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, c, keys = desk
    tid = _ticket(c, keys["ops"])
    first = c.get(f"/v1/tickets/{tid}", headers=keys["ops"]).json()["voc_category"]
    target = "status_notice" if first != "status_notice" else "delivery_delay"
    assert voc.classify_voc(TEXT)["category"] == first
    r = c.patch(f"/v1/tickets/{tid}/voc", json={"category": target}, headers=keys["ops"])
    assert r.status_code == 200, r.text

    out = tmp_path / "relabels.jsonl"
    assert relabel.export_relabels(hub.db, out).startswith("1 VOC relabels")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"text": TEXT, "category": target}]
    # The next training round: the VOC models retrain with the exported relabels next to the corpus.
    monkeypatch.setenv(voc.RELABELS_ENV, str(out))
    voc.reset_voc_models()
    try:
        models = voc.load_models()
        assert models.category.name == "voc2_category_relabelled" and models.relabels
        # the retrained model itself (not only the exact-text memory) now reads the lead's category
        assert models.category.predict([TEXT])[0][0] == target
        assert voc.classify_voc(TEXT)["category"] == target
        assert voc.classify_voc("배송이 너무 늦어요")["category"] == "delivery_delay"  # the rest unchanged
    finally:
        monkeypatch.delenv(voc.RELABELS_ENV)
        voc.reset_voc_models()
