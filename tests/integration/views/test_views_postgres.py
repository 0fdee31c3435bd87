"""The order search and the actionable drill-down on PostgreSQL (JSON as text, replace(), lower(), date
comparisons), the same answers as on SQLite."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e" / "orders_web"))
from orders_web_kit import MARKET_NO, NOW, PHONE, shop_hub  # noqa: E402

pytestmark = pytest.mark.postgres


def test_search_and_drill_down_on_postgresql(tmp_path: Path, master_key: str, pg_url: str) -> None:
    from deliveryhub.views.drill import actionable_orders, describe_orders
    from deliveryhub.views.orders import order_detail
    from deliveryhub.views.search import search_orders

    hub = shop_hub(tmp_path, master_key, db_url=pg_url)
    with hub.db.read() as conn:
        for q, oid, how in (
            ("O-LATE", "O-LATE", "order_id"),
            ("o-ok", "O-OK", "order_id"),
            (MARKET_NO, "O-OK", "external_id"),
            ("4123 5678 9012", "O-LATE", "tracking_no"),
            (PHONE, "O-LATE", "phone"),
        ):
            assert [(o["order_id"], o["matched"]) for o in search_orders(conn, hub.keyring, q)] == [
                (oid, how)
            ], q
        today = NOW.date()
        d = actionable_orders(conn, "delivery_delay_rate", today)
        assert d["total"] == 1 and d["orders"][0]["order_id"] == "O-LATE" and d["orders"][0]["days_late"] == 3
        done = describe_orders(conn, ["O-DONE"], today)[0]
        assert done["stage_label"] == "배송 완료" and done["days_late"] == 3
        claims = order_detail(conn, "O-LATE")["claims"]  # type: ignore[index]
    assert [c["type"] for c in claims] == ["claim.opened"]
    hub.close()
