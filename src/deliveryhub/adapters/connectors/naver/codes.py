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

# deliveryCompany code (택배사 코드, logistics-companies) -> hub carrier code
NAVER_TO_HUB_CARRIER: dict[str, str] = {
    "CJGLS": "cj",
    "LOTTE": "lotte",
    "HYUNDAI": "lotte",  # 현대택배, now 롯데택배
    "HANJIN": "hanjin",
    "EPOST": "epost",
    "LOGEN": "logen",
    "KDEXP": "kdexp",
    "DAESIN": "daesin",
    "ILYANG": "ilyang",
    "CHUNIL": "chunil",
    "HDEXP": "hdexp",
    "CVSNET": "cvsnet",
    "CUPOST": "cupost",
    "KGB": "kgb",
    "DONGBU": "dongbu",
}

# hub carrier code -> deliveryCompanyCode for 발송처리
HUB_TO_NAVER_CARRIER: dict[str, str] = {
    "cj": "CJGLS",
    "lotte": "LOTTE",
    "hanjin": "HANJIN",
    "epost": "EPOST",
    "post": "EPOST",
    "logen": "LOGEN",
    "kdexp": "KDEXP",
    "daesin": "DAESIN",
    "ilyang": "ILYANG",
    "chunil": "CHUNIL",
    "hdexp": "HDEXP",
    "cvsnet": "CVSNET",
    "cupost": "CUPOST",
}
