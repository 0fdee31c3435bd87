"""The address change with the 도로명주소 search answering (a local juso API): an address typed without
its 우편번호 is found, confirmed with the zip the search gave and the detail line the customer typed, and
an island address is flagged for the extra shipping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.service_layer import commands
from dh_testkit import drain, event, make_hub, order_created
from providers.juso_server import juso_server

OID = "ORD-2026-000611"


@pytest.fixture
def shop(tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    with juso_server() as juso:
        monkeypatch.setenv("DELIVERYHUB_JUSO_KEY", juso.confm_key)
        monkeypatch.setenv("DELIVERYHUB_JUSO_URL", juso.api_url)
        hub = make_hub(tmp_path, master_key)
        hub.ingest.ingest(
            [
                order_created(
                    "l1", OID, "2026-11-20T08:00:00+09:00", {"name": "한지우", "phone": "010-6060-7070"}
                ),
                event("l2", "fulfillment.packed", OID, "2026-11-20T08:30:00+09:00", {}, source="wms"),
            ]
        )
        drain(hub)
        try:
            yield hub, juso
        finally:
            hub.close()


def test_an_address_without_its_zip_is_found_by_the_road_name_search(shop: tuple[Any, Any]) -> None:
    hub, juso = shop
    alone = commands.change_address(hub, OID, "서울 강남구 테헤란로 152 12층")
    assert alone.code == "confirm_address", alone.message_ko
    addr = alone.data["address"]
    assert addr["zip"] == "06236" and addr["source"] == "juso" and addr["line2"] == "12층"
    assert "테헤란로 152" in addr["line1"] and juso.requests
    done = commands.change_address(hub, OID, {k: addr[k] for k in ("zip", "line1", "line2")}, confirm=True)
    assert done.ok and done.code == "address_changed"


def test_an_island_address_is_flagged(shop: tuple[Any, Any]) -> None:
    hub, _ = shop
    res = commands.change_address(hub, OID, "경북 울릉군 울릉읍 도동길 1")
    assert res.code == "confirm_address", res.message_ko
    assert res.data["address"]["remote"] and res.data["address"]["extra_shipping"]
    assert "도서산간" in res.message_ko
