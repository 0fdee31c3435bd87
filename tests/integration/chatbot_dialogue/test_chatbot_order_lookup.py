"""Order numbers found by lookup among the orders the hub holds, on SQLite and PostgreSQL: exact, ignoring
case, and by the waybill number; nothing for numbers the hub does not hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.chatbot import queries as q
from deliveryhub.chatbot.nlu.entities import order_candidates
from dh_testkit import make_hub, order_created, waybill

ORDERS = ["ORD-261204-7900123", "2026120418273645", "20261204-0001234", "A-2026-12-00042"]


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: Any, tmp_path: Path, master_key: str) -> Iterator[Any]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    h = make_hub(tmp_path, master_key, db_url=url)
    cust = {"name": "한지민", "phone": "010-5800-6709"}
    events = [order_created(f"o{i}", oid, "2026-12-03T10:00:00+09:00", cust) for i, oid in enumerate(ORDERS)]
    events.append(waybill("w0", ORDERS[0], "2026-12-04T09:00:00+09:00", "cj", "567890123406"))
    h.ingest.ingest(events)
    yield h
    h.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("주문번호 ORD-261204-7900123이고 뒷자리 6709예요", "ORD-261204-7900123"),
        ("ord-261204-7900123 배송 언제 와요", "ORD-261204-7900123"),  # case ignored
        ("네이버 주문 2026120418273645로 했어요", "2026120418273645"),
        ("２０２６１２０４－０００１２３４ 취소", "20261204-0001234"),  # full-width, typed on a phone
        ("a-2026-12-00042는요?", "A-2026-12-00042"),
        ("송장 5678-9012-3406 어디쯤", "ORD-261204-7900123"),  # the waybill names its order
        ("ORD-261204-7900999 배송 언제 와요", None),  # not held: nothing is made up
        ("010-5800-6709 로 주문했어요", None),
    ],
)
def test_the_number_typed_is_looked_up(hub: Any, text: str, expected: str | None) -> None:
    with hub.db.read() as conn:
        assert q.find_order_id(conn, order_candidates(text)) == expected
