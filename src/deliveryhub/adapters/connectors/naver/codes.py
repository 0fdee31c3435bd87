"""Naver Commerce API code tables (data): statuses we understand and delivery companies.

Anything not listed here is unknown: the mapper quarantines it with the code named, never guesses.
"""

from __future__ import annotations

# productOrderStatus (상품 주문 상태)
PRODUCT_ORDER_STATUSES = frozenset(
    {
        "PAYMENT_WAITING",  # 결제 대기 (무통장입금)
        "PAYED",  # 결제 완료
        "DELIVERING",  # 배송 중
        "DELIVERED",  # 배송 완료
        "PURCHASE_DECIDED",  # 구매 확정
        "EXCHANGED",  # 교환
        "CANCELED",  # 취소
        "RETURNED",  # 반품
        "CANCELED_BY_NOPAYMENT",  # 미결제 취소
    }
)
UNPAID = frozenset({"PAYMENT_WAITING", "CANCELED_BY_NOPAYMENT"})
SHIPPED = frozenset({"DELIVERING", "DELIVERED", "PURCHASE_DECIDED", "EXCHANGED", "RETURNED"})
DELIVERED = frozenset({"DELIVERED", "PURCHASE_DECIDED"})
CANCELLED = frozenset({"CANCELED", "CANCELED_BY_NOPAYMENT"})

# lastChangedType (최종 변경 구분) of last-changed-statuses
CHANGE_TYPES = frozenset(
    {
        "PAY_WAITING",
        "PAYED",
        "EXCHANGE_OPTION",
        "DELIVERY_ADDRESS_CHANGED",
        "GIFT_RECEIVED",
        "CLAIM_REJECTED",
        "DISPATCHED",
        "CLAIM_REQUESTED",
        "COLLECT_DONE",
        "CLAIM_HOLDBACK_RELEASED",
        "CLAIM_COMPLETED",
        "PURCHASE_DECIDED",
        "HOPE_DELIVERY_INFO_CHANGED",
        "CLAIM_REDELIVERING",
    }
)

CLAIM_TYPES = frozenset({"CANCEL", "ADMIN_CANCEL", "RETURN", "EXCHANGE", "PURCHASE_DECISION_HOLDBACK"})

# claimStatus (클레임 상태)
CANCEL_DONE = frozenset({"CANCEL_DONE", "ADMIN_CANCEL_DONE"})
CANCEL_OPEN = frozenset({"CANCEL_REQUEST", "CANCELING", "ADMIN_CANCELING"})
CANCEL_REJECTED = frozenset({"CANCEL_REJECT", "ADMIN_CANCEL_REJECT"})
RETURN_OPEN = frozenset({"RETURN_REQUEST", "COLLECTING", "COLLECT_DONE", "RETURN_DONE"})
RETURN_RECEIVED = frozenset({"COLLECT_DONE", "RETURN_DONE"})
EXCHANGE_OPEN = frozenset(
    {"EXCHANGE_REQUEST", "COLLECTING", "COLLECT_DONE", "EXCHANGE_REDELIVERING", "EXCHANGE_DONE"}
)
CLAIM_STATUSES = (
    CANCEL_DONE
    | CANCEL_OPEN
    | CANCEL_REJECTED
    | RETURN_OPEN
    | EXCHANGE_OPEN
    | frozenset(
        {
            "RETURN_REJECT",
            "EXCHANGE_REJECT",
            "PURCHASE_DECISION_HOLDBACK",
            "PURCHASE_DECISION_REQUEST",
            "PURCHASE_DECISION_HOLDBACK_RELEASE",
        }
    )
)

# delivery.deliveryStatus (배송 상세 상태)
DELIVERY_STATUSES = frozenset(
    {
        "COLLECT_REQUEST",
        "COLLECT_WAIT",
        "COLLECT_CARGO",
        "DELIVERY_COMPLETION",
        "DELIVERING",
        "DELIVERY_FAIL",
        "WRONG_INVOICE",
        "COLLECT_CARGO_FAIL",
        "COLLECT_CARGO_CANCEL",
        "NOT_TRACKING",
    }
)
DELIVERY_MOVING = frozenset({"COLLECT_CARGO", "DELIVERING", "DELIVERY_COMPLETION", "DELIVERY_FAIL"})

# Delivery company codes (택배사 코드): ``delivery.deliveryCompany`` in a product-order detail and
# ``deliveryCompanyCode`` of 발송처리 (POST /v1/pay-order/seller/product-orders/dispatch) use one list.
#
# Source (every code below): Naver's own dispatch reference, "deliveryCompanyCode" table of
# https://apicenter.commerce.naver.com/docs/commerce-api/current/seller-dispatch-product-orders-pay-order-seller,
# as mirrored in github.com/myso-kr/naver-commerce-api-docs-cli
# docs/api/v1/pay-order/seller/product-orders/dispatch.POST.md (2026-03-13). The data folder's real doc
# examples use CJGLS and KDEXP (naver_commerce__dispatch__request_multi.json).
# Naver keeps the historical codes: 롯데택배 is HYUNDAI (ex-현대택배) and 로젠택배 is KGB. There is no
# LOTTE, LOGEN, CUPOST or DONGBU code in Naver's list (an earlier table had them; fixed), so a payload
# carrying one of those is unknown and the mapper quarantines it rather than guessing.
NAVER_TO_HUB_CARRIER: dict[str, str] = {
    "CJGLS": "cj",  # CJ대한통운
    "HYUNDAI": "lotte",  # 롯데택배
    "HANJIN": "hanjin",  # 한진택배
    "KGB": "logen",  # 로젠택배 (was wrongly "kgb")
    "EPOST": "epost",  # 우체국택배
    "KDEXP": "kdexp",  # 경동택배
    "DAESIN": "daesin",  # 대신택배
    "ILYANG": "ilyang",  # 일양로지스
    "CHUNIL": "chunil",  # 천일택배
    "HDEXP": "hdexp",  # 합동택배
    "CVSNET": "cvsnet",  # GSPostbox택배
    "CUPARCEL": "cupost",  # CU편의점택배
    "KUNYOUNG": "kunyoung",  # 건영택배
    "HONAM": "honam",  # 우리택배 (ex-호남택배)
}

# hub carrier code -> deliveryCompanyCode for 발송처리 (same source; "post" is an alias of epost)
HUB_TO_NAVER_CARRIER: dict[str, str] = {
    **{hub: code for code, hub in NAVER_TO_HUB_CARRIER.items()},
    "post": "EPOST",
    "hapdong": "HDEXP",
    "kyungdong": "KDEXP",
}
