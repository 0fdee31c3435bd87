"""`deliveryhub export --anonymize` leaves no personal data from free text and unknown fields: neither
from events ingested now (masked at ingest) nor from rows stored in clear before ingest masked them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import event, make_hub

AT = "2026-11-03T14:05:00+09:00"
CUSTOMER = {"name": "강호동", "phone": "010-7261-8394", "email": "hodong.kang@example.com"}
# Everything personal the seeded order carries, in the forms it was sent.
SECRETS = [
    "강호동",
    "7261-8394",
    "72618394",
    "hodong.kang",
    "3141-5926",
    "31415926",
    "gift.sender@example.net",
    "gift.sender",
    "880412-1234567",
    "1234567",
    "유재석",
    "98765432",
    "9876-5432",
    "테헤란로 152",
    "EXP-ORDER-7",
    "SHIP-EXP-ORDER-7-1",
    "4111 1111 1111 1111",
    "이광수",
]


def seeded_events() -> list[dict[str, Any]]:
    oid = "EXP-ORDER-7"
    return [
        event(
            f"{oid}-created",
            "order.created",
            oid,
            AT,
            {
                "customer": CUSTOMER,
                "address": {"zip": "06236", "line1": "서울특별시 강남구 테헤란로 152"},
                "items": [{"sku": "MUG", "qty": 1, "price": 12000, "engraving": "880412-1234567"}],
                "total": 12000,
                "memo": f"문 앞에 놓아주세요 010-3141-5926 ({oid})",
                "gift_message": "보낸 사람 메일 gift.sender@example.net",
                "note": "카드 4111 1111 1111 1111 로 결제",
                "shopify": {"shipping_address": {"name": "유재석", "phone": "01098765432"}},
                "수령인": "이광수",
            },
        ),
        event(
            f"{oid}-tracking",
            "shipment.tracking",
            oid,
            AT,
            {"status": "out_for_delivery", "message": "배송기사 유재석 010-9876-5432 (SHIP-EXP-ORDER-7-1)"},
            source="carrier:cj",
            shipment_id=f"SHIP-{oid}-1",
        ),
    ]


def legacy_row(event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An inbox row as stored before ingest masked unknown fields (personal data in clear)."""
    return {
        "source": "oms",
        "event_id": event_id,
        "type": "order.paid",
        "order_id": "EXP-ORDER-7",
        "shipment_id": None,
        "occurred_at": datetime(2026, 11, 3, 5, 6, tzinfo=UTC),
        "received_at": datetime(2026, 11, 3, 5, 6, tzinfo=UTC),
        "data": data,
        "manual": False,
        "schema_version": 1,
    }


def _export(tmp_path: Path, master_key: str, db_url: str, out: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": db_url,
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_ENV": "test",
    }
    cli = str(Path(sys.executable).parent / "deliveryhub")
    r = subprocess.run(
        [cli, "export", "--out", str(out), "--anonymize"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_anonymized_export_greps_clean(
    tmp_path: Path, master_key: str, backend: str, request: pytest.FixtureRequest
) -> None:
    db_url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/hub.db"
    hub = make_hub(tmp_path, master_key, db_url=db_url)
    try:
        assert [r.status for r in hub.ingest.ingest(seeded_events())] == ["accepted", "accepted"]
        with hub.db.write() as conn:
            conn.execute(
                t.inbox.insert(),
                [
                    legacy_row(
                        "legacy-1",
                        {
                            "amount": 12000,
                            "memo": "연락처 010-3141-5926, 메일 hodong.kang@example.com",
                            "receiver_phone": 1098765432,
                            "수령인": "강호동",
                            "010-7261-8394": "a phone number as a key",
                        },
                    ),
                    legacy_row(
                        "legacy-2",
                        {
                            "amount": 1,
                            "vendor": {"buyer": {"name": "유재석", "mobile": "010.9876.5432"}},
                            "note": "주민번호 880412-1234567 / 주문 EXP-ORDER-7",
                        },
                    ),
                ],
            )
    finally:
        hub.close()
    out = tmp_path / "export"
    summary = _export(tmp_path, master_key, db_url, out)
    assert summary["events"] == 4 and summary["anonymized"] is True
    jsonl = (out / "events.jsonl").read_text(encoding="utf-8")
    parquet = json.dumps(pq.read_table(out / "events.parquet").to_pylist(), ensure_ascii=False, default=str)
    for name, text in (("jsonl", jsonl), ("parquet", parquet)):
        for secret in SECRETS:
            assert secret not in text, (name, secret)
    rows = [json.loads(line) for line in jsonl.splitlines()]
    created = next(r for r in rows if r["type"] == "order.created")
    # still useful for analytics: the memo keeps its meaning, amounts and SKUs stay
    assert created["data"]["memo"].startswith("문 앞에 놓아주세요 010-****-****")
    assert created["data"]["items"][0]["sku"] == "MUG" and created["data"]["total"] == 12000
    assert created["order_id"] in created["data"]["memo"]  # the order id in the text became its pseudonym
