"""The vendors' carrier-code tables, checked both ways against the public sources named in each module.

Vendor code -> hub carrier (reading orders, shipments and scans) and hub carrier -> vendor code
(write-back: Naver 발송처리, Coupang 송장 업로드, Cafe24 shipments, tracking requests). Each code fixed
in this pass has its own test naming the source; an unknown vendor code is quarantined with the code
named (marketplaces) or kept visible under a vendor prefix (tracking sources, Cafe24), never guessed.
"""

from __future__ import annotations

from typing import Any

import pytest

from deliveryhub.adapters.connectors.cafe24 import mapper as cafe24
from deliveryhub.adapters.connectors.coupang import codes as coupang
from deliveryhub.adapters.connectors.coupang.mapper import map_payload as coupang_map
from deliveryhub.adapters.connectors.naver import codes as naver
from deliveryhub.adapters.connectors.naver.mapper import map_details as naver_map
from deliveryhub.adapters.connectors.statuses import korean_carriers
from deliveryhub.adapters.connectors.sweettracker import codes as sweet
from deliveryhub.adapters.connectors.trackerdelivery import carriers as tracker

MAJOR = ("cj", "lotte", "hanjin", "epost", "logen")

# Naver: apicenter.commerce.naver.com "seller-dispatch-product-orders-pay-order-seller"
# (github.com/myso-kr/naver-commerce-api-docs-cli
# docs/api/v1/pay-order/seller/product-orders/dispatch.POST.md)
NAVER = {
    "cj": "CJGLS",
    "lotte": "HYUNDAI",
    "hanjin": "HANJIN",
    "logen": "KGB",
    "epost": "EPOST",
    "kdexp": "KDEXP",
    "daesin": "DAESIN",
    "ilyang": "ILYANG",
    "chunil": "CHUNIL",
    "hdexp": "HDEXP",
    "cvsnet": "CVSNET",
    "cupost": "CUPARCEL",
    "kunyoung": "KUNYOUNG",
    "honam": "HONAM",
}
# Coupang: portal page "택배사 코드" (github.com/optionalg/coupang-developers.github.io
# assets/docs/season-2/distribution-center-api/ko/lookup-delivery-code.document.ts)
COUPANG = {
    "cj": "CJGLS",
    "lotte": "HYUNDAI",
    "hanjin": "HANJIN",
    "epost": "EPOST",
    "logen": "KGB",
    "kdexp": "KDEXP",
    "daesin": "DAESIN",
    "ilyang": "ILYANG",
    "cvsnet": "CVS",
    "chunil": "CHUNIL",
    "hdexp": "HDEXP",
    "kunyoung": "KUNYOUNG",
    "honam": "HONAM",
    "coupang": "COUPANG",
    "direct": "DIRECT",
}
# Sweet Tracker companylist (gist.github.com/JunsikChoi/a834a2547769505107626c7658a07181 and others)
SWEET = {
    "epost": "01",
    "cj": "04",
    "hanjin": "05",
    "logen": "06",
    "lotte": "08",
    "ilyang": "11",
    "chunil": "17",
    "kunyoung": "18",
    "daesin": "22",
    "kdexp": "23",
    "cvsnet": "24",
    "hdexp": "32",
    "cupost": "46",
}
# tracker.delivery: packages/core/src/carriers/ (data folder tracker_delivery__carrier_ids.md)
TRACKER = {
    "cj": "kr.cjlogistics",
    "lotte": "kr.lotte",
    "hanjin": "kr.hanjin",
    "epost": "kr.epost",
    "logen": "kr.logen",
    "kdexp": "kr.kdexp",
    "daesin": "kr.daesin",
    "ilyang": "kr.ilyanglogis",
    "chunil": "kr.chunilps",
    "cvsnet": "kr.cvsnet",
    "kunyoung": "kr.kunyoung",
    "coupang": "kr.coupangls",
}
# Cafe24 write-back code and every code read as the carrier (sources in cafe24/carriers.yaml)
CAFE24 = {
    "cj": ["0006"],
    "lotte": ["0079", "0019"],
    "hanjin": ["0018"],
    "epost": ["0012", "0013"],
    "logen": ["0004"],
    "kdexp": ["0039", "0023"],
}


def test_the_hub_major_carriers_are_the_ones_checked() -> None:
    assert set(korean_carriers()) == set(MAJOR)


@pytest.mark.parametrize("table", [NAVER, COUPANG, SWEET, TRACKER, CAFE24], ids=lambda t: str(len(t)))
def test_every_table_covers_the_major_korean_carriers(table: dict[str, Any]) -> None:
    assert set(MAJOR) <= set(table)


@pytest.mark.parametrize(("hub", "code"), NAVER.items())
def test_naver_both_ways(hub: str, code: str) -> None:
    assert naver.NAVER_TO_HUB_CARRIER[code] == hub
    assert naver.HUB_TO_NAVER_CARRIER[hub] == code
    result = naver_map([_naver_detail(code)])
    assert result.unmapped == []
    assert [e["data"] for e in result.events if e["type"] == "shipment.waybill_created"] == [
        {"carrier": hub, "tracking_no": "640012345678"}
    ]


@pytest.mark.parametrize(("hub", "code"), COUPANG.items())
def test_coupang_both_ways(hub: str, code: str) -> None:
    assert coupang.hub_carrier(code) == hub
    assert coupang.coupang_code(hub) == code
    result = coupang_map({"code": 200, "data": [_coupang_sheet(code)]})
    assert result.unmapped == []
    assert {e["data"]["carrier"] for e in result.events if e["type"] == "shipment.waybill_created"} == {hub}


@pytest.mark.parametrize(("hub", "code"), SWEET.items())
def test_sweettracker_both_ways(hub: str, code: str) -> None:
    assert sweet.hub_carrier(code) == hub
    assert sweet.t_code(hub) == code


@pytest.mark.parametrize(("hub", "carrier_id"), TRACKER.items())
def test_trackerdelivery_both_ways(hub: str, carrier_id: str) -> None:
    assert tracker.hub_carrier(carrier_id) == hub
    assert tracker.tracker_id(hub) == carrier_id


@pytest.mark.parametrize(("hub", "codes"), CAFE24.items())
def test_cafe24_both_ways(hub: str, codes: list[str]) -> None:
    assert cafe24.carrier_table()[hub] == codes[0]
    for code in codes:
        assert cafe24.hub_carrier(code) == hub


def test_aliases_write_back_the_same_code() -> None:
    assert naver.HUB_TO_NAVER_CARRIER["post"] == "EPOST"
    assert coupang.coupang_code("post") == coupang.coupang_code("epost") == "EPOST"
    assert coupang.coupang_code("hapdong") == "HDEXP"
    assert tracker.tracker_id("post") == "kr.epost"


# ---------------------------------------------------------------------- the codes fixed in this pass


def test_naver_lotte_is_hyundai() -> None:
    """Naver 롯데택배 = HYUNDAI (was LOTTE, not a Naver code).

    Source: Naver dispatch deliveryCompanyCode table, apicenter
    seller-dispatch-product-orders-pay-order-seller (myso-kr/naver-commerce-api-docs-cli
    docs/api/v1/pay-order/seller/product-orders/dispatch.POST.md)."""
    assert naver.HUB_TO_NAVER_CARRIER["lotte"] == "HYUNDAI"
    assert naver.NAVER_TO_HUB_CARRIER["HYUNDAI"] == "lotte"


def test_naver_logen_is_kgb() -> None:
    """Naver 로젠택배 = KGB (write-back was LOGEN; KGB was read as a carrier "kgb"). Source: Naver dispatch
    deliveryCompanyCode table (myso-kr/naver-commerce-api-docs-cli .../product-orders/dispatch.POST.md)."""
    assert naver.HUB_TO_NAVER_CARRIER["logen"] == "KGB"
    assert naver.NAVER_TO_HUB_CARRIER["KGB"] == "logen"


def test_naver_cu_is_cuparcel() -> None:
    """Naver CU편의점택배 = CUPARCEL (was CUPOST). Source: Naver dispatch deliveryCompanyCode table
    (myso-kr/naver-commerce-api-docs-cli .../product-orders/dispatch.POST.md)."""
    assert naver.HUB_TO_NAVER_CARRIER["cupost"] == "CUPARCEL"


@pytest.mark.parametrize("code", ["LOTTE", "LOGEN", "CUPOST", "DONGBU", "PIGEONPOST"])
def test_naver_codes_not_in_naver_list_are_quarantined_by_name(code: str) -> None:
    """LOTTE/LOGEN/CUPOST/DONGBU were in the old table but are not in Naver's list (source as above)."""
    assert code not in naver.NAVER_TO_HUB_CARRIER
    result = naver_map([_naver_detail(code)])
    assert result.unmapped == [f"naver order 2024060112345678: unknown deliveryCompany {code!r}"]


def test_coupang_epost_reads_as_the_hub_epost() -> None:
    """Coupang EPOST (우체국) -> epost, the hub's carriers.yaml code (was "post", which no hub table knows).
    Source: Coupang 택배사 코드 (optionalg/coupang-developers.github.io
    assets/docs/season-2/distribution-center-api/ko/lookup-delivery-code.document.ts)."""
    assert coupang.hub_carrier("EPOST") == "epost"
    assert coupang.hub_carrier(None, "우체국") == "epost"
    assert coupang.hub_carrier(None, "우체국 택배") == "epost"


def test_coupang_cvs_is_cvs() -> None:
    """Coupang CVS택배 = CVS (was CVSNET, not in Coupang's list).

    Source: Coupang 택배사 코드 (optionalg/coupang-developers.github.io
    .../distribution-center-api/ko/lookup-delivery-code.document.ts)."""
    assert coupang.coupang_code("cvsnet") == "CVS"
    assert coupang.hub_carrier("CVS") == "cvsnet"
    assert coupang.hub_carrier("CVSNET") is None


@pytest.mark.parametrize("code", ["DONGBU", "KGBPS", "CVSNET", "PIGEONPOST"])
def test_coupang_unknown_or_closed_carriers_are_quarantined_by_name(code: str) -> None:
    """DONGBU is 드림택배 (ex-KG로지스, closed), not 경동택배 as the old table said.

    KGBPS is KGB택배, not 로젠택배. Source: Coupang 택배사 코드 (optionalg/coupang-developers.github.io
    .../distribution-center-api/ko/lookup-delivery-code.document.ts)."""
    assert coupang.hub_carrier(code) is None
    result = coupang_map({"code": 200, "data": [_coupang_sheet(code)]})
    assert f"unknown delivery company {code!r}" in result.unmapped[0]


def test_coupang_korex_merged_into_cj() -> None:
    """KOREX (대한통운) is struck through as merged ("[합병]") into CJ대한통운.

    Source: Coupang 택배사 코드 (optionalg/coupang-developers.github.io
    .../distribution-center-api/ko/lookup-delivery-code.document.ts)."""
    assert coupang.hub_carrier("KOREX") == "cj"
    assert coupang.coupang_code("cj") == "CJGLS"


def test_cafe24_kdexp_is_0039_and_0001_is_not_kdexp() -> None:
    """Cafe24 경동택배 = 0039 (0023 also read); it was 0001, which a captured order item shows as 자체배송
    and Cafe24's doc sample as DHL. Sources: cafe24/carriers.yaml S1 (code index file 70948256758),
    S3 (61141503688), S4 (28812892453)."""
    assert cafe24.carrier_table()["kdexp"] == "0039"
    assert cafe24.hub_carrier("0023") == "kdexp"
    assert cafe24.hub_carrier("0001") == "cafe24-0001"


def test_cafe24_lotte_writes_0079_and_reads_0019() -> None:
    """Cafe24 롯데택배: two integrations write/read 0079, one reads 0019 (sources disagree; 0079 written).
    Sources: cafe24/carriers.yaml S1 (70948256758), S2 (59090568491), S3 (61141503688)."""
    assert cafe24.carrier_table()["lotte"] == "0079"
    assert cafe24.hub_carrier("0079") == cafe24.hub_carrier("0019") == "lotte"


def test_cafe24_mall_overrides_win_and_unknown_codes_stay_visible() -> None:
    assert cafe24.hub_carrier("0099", {"lotte": "0099"}) == "lotte"
    assert cafe24.hub_carrier("0006", {"hanjin": "0006"}) == "hanjin"
    assert cafe24.hub_carrier("0777") == "cafe24-0777"
    assert cafe24.hub_carrier(None) == "unknown"


def test_sweettracker_added_hapdong_and_cu() -> None:
    """Sweet Tracker 32 = 합동택배 and 46 = CU 편의점택배, added.

    Source: companylist table in gist.github.com/JunsikChoi/a834a2547769505107626c7658a07181
    (46 also in a public enum found through the code index)."""
    assert sweet.hub_carrier("32") == "hdexp"
    assert sweet.hub_carrier("46") == "cupost"


def test_tracking_sources_keep_an_unknown_code_visible() -> None:
    assert sweet.hub_carrier("99") == "sweet-99"
    assert sweet.t_code("pigeon") is None
    assert tracker.hub_carrier("jp.yamato") == "jp.yamato"
    assert tracker.tracker_id("pigeon") is None


# ---------------------------------------------------------------------- payloads built by hand


def _naver_detail(company: str) -> dict[str, Any]:
    return {
        "order": {
            "orderId": "2024060112345678",
            "orderDate": "2024-06-01T10:00:00.000+09:00",
            "paymentDate": "2024-06-01T10:01:00.000+09:00",
            "paymentMeans": "신용카드",
        },
        "productOrder": {
            "productOrderId": "2024060100000001",
            "productOrderStatus": "DELIVERING",
            "sellerProductCode": "SKU-1",
            "quantity": 1,
            "unitPrice": 15000,
            "totalPaymentAmount": 15000,
        },
        "delivery": {
            "deliveryCompany": company,
            "trackingNumber": "640012345678",
            "deliveryMethod": "DELIVERY",
            "deliveryStatus": "DELIVERING",
            "sendDate": "2024-06-02T09:00:00.000+09:00",
        },
    }


def _coupang_sheet(code: str) -> dict[str, Any]:
    return {
        "shipmentBoxId": 1001,
        "orderId": 77,
        "orderedAt": "2026-12-01T10:00:00",
        "paidAt": "2026-12-01T10:00:05",
        "status": "DEPARTURE",
        "shippingPrice": 0,
        "deliveryCompanyCode": code,
        "invoiceNumber": "640012345678",
        "inTrasitDateTime": "2026-12-02T09:00:00",
        "orderItems": [
            {"vendorItemId": 5, "shippingCount": 1, "orderPrice": 2000, "estimatedShippingDate": "2026-12-02"}
        ],
    }
