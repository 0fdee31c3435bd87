"""The simulated shop's data: Korean regions, carriers and their scan vocabularies, hubs, the
catalogue, sales channels, order curves, and what customers write to CS (templates by intent and mood)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from deliveryhub.kernel.labels import label

KST = timezone(timedelta(hours=9), "KST")

# ---------------------------------------------------------------------------------------------- geography
# (region, population share, group, cities). Groups drive promised dates and transit times.
REGIONS: tuple[tuple[str, float, str, tuple[str, ...]], ...] = (
    (
        "서울특별시",
        0.180,
        "capital",
        ("강남구", "송파구", "마포구", "관악구", "노원구", "강서구", "영등포구"),
    ),
    ("경기도", 0.270, "capital", ("수원시", "성남시", "고양시", "용인시", "부천시", "화성시", "남양주시")),
    ("인천광역시", 0.060, "capital", ("연수구", "남동구", "부평구", "서구")),
    ("부산광역시", 0.065, "metro", ("해운대구", "부산진구", "사하구", "동래구")),
    ("대구광역시", 0.045, "metro", ("수성구", "달서구", "북구")),
    ("광주광역시", 0.028, "metro", ("서구", "북구", "광산구")),
    ("대전광역시", 0.028, "metro", ("유성구", "서구", "중구")),
    ("울산광역시", 0.020, "metro", ("남구", "중구", "울주군")),
    ("세종특별자치시", 0.008, "metro", ("한솔동", "도담동")),
    ("강원특별자치도", 0.030, "province", ("춘천시", "원주시", "강릉시", "속초시")),
    ("충청북도", 0.031, "province", ("청주시", "충주시", "제천시")),
    ("충청남도", 0.042, "province", ("천안시", "아산시", "서산시", "공주시")),
    ("전북특별자치도", 0.034, "province", ("전주시", "익산시", "군산시")),
    ("전라남도", 0.035, "province", ("여수시", "순천시", "목포시", "신안군")),
    ("경상북도", 0.050, "province", ("포항시", "구미시", "경주시", "안동시")),
    ("경상남도", 0.064, "province", ("창원시", "김해시", "진주시", "양산시", "통영시")),
    ("제주특별자치도", 0.013, "jeju", ("제주시", "서귀포시")),
)
REGION_GROUP = {name: group for name, _w, group, _c in REGIONS}
SOUTH_EAST = frozenset({"부산광역시", "대구광역시", "울산광역시", "경상북도", "경상남도"})
# Promised transit in business days after shipping, by region group.
PROMISE_DAYS = {"capital": 1, "metro": 1, "province": 2, "jeju": 2}

# -------------------------------------------------------------------------------------------- carriers


@dataclass(frozen=True)
class CarrierProfile:
    """One carrier: market share, reliability, Sunday delivery, and its own scan vocabulary."""

    code: str
    share: float
    delay_factor: float  # multiplies the shop's base delay probability
    early_share: float  # share of parcels that arrive a day before the promise (when the promise allows)
    sunday: bool  # delivers on Sundays (CJ's 7-day delivery)
    cost: int  # shipping cost per parcel, KRW
    region_factor: tuple[tuple[str, float], ...] = ()

    @property
    def name(self) -> str:
        """The carrier's Korean name (the kernel's label table)."""
        return label("carrier", self.code)

    def factor(self, group: str) -> float:
        """Delay factor in a region group."""
        extra = dict(self.region_factor).get(group, 1.0)
        return self.delay_factor * extra


CARRIERS: tuple[CarrierProfile, ...] = (
    CarrierProfile("cj", 0.48, 0.80, 0.20, True, 2600, (("jeju", 1.6), ("province", 1.1))),
    CarrierProfile("lotte", 0.14, 1.00, 0.15, False, 2500, (("jeju", 1.8),)),
    CarrierProfile("hanjin", 0.14, 1.15, 0.12, False, 2450, (("province", 1.3), ("jeju", 1.8))),
    CarrierProfile("epost", 0.12, 0.95, 0.10, False, 3200, (("jeju", 0.8), ("province", 0.8))),
    CarrierProfile("logen", 0.12, 1.50, 0.08, False, 2300, (("capital", 0.9), ("jeju", 2.0))),
)
CARRIER_BY_CODE = {c.code: c for c in CARRIERS}

# Each carrier's own scan vocabulary: stage -> (raw_code or None, raw_status). Carriers that report text
# only (한진, 우체국, 로젠) have no codes; the hub derives the normalized tag from these (EVENTS.md).
SCANS: dict[str, dict[str, tuple[str | None, str]]] = {
    "cj": {
        "info": ("01", "배송준비"),
        "pickup": ("11", "집화처리"),
        "linehaul_out": ("41", "간선상차"),
        "linehaul_in": ("42", "간선하차"),
        "out": ("82", "배송출발"),
        "delivered": ("91", "배송완료"),
        "fail": (None, "미배달"),
        "lost": (None, "분실"),
    },
    "lotte": {
        "info": ("12", "운송장 등록"),
        "pickup": ("10", "집하"),
        "linehaul_out": ("20", "구간발송"),
        "linehaul_in": ("21", "구간도착"),
        "out": ("40", "배달전"),
        "delivered": ("41", "배달완료"),
        "fail": (None, "미배달"),
        "lost": (None, "분실"),
    },
    "hanjin": {
        "info": (None, "접수"),
        "pickup": (None, "집하완료"),
        "linehaul_out": (None, "이동중"),
        "linehaul_in": (None, "도착"),
        "out": (None, "배송출발"),
        "delivered": (None, "배달완료"),
        "fail": (None, "미배달"),
        "lost": (None, "분실"),
    },
    "epost": {
        "info": (None, "접수"),
        "pickup": (None, "집하완료"),
        "linehaul_out": (None, "발송"),
        "linehaul_in": (None, "도착"),
        "out": (None, "배달준비"),
        "delivered": (None, "배달완료"),
        "fail": (None, "미배달"),
        "lost": (None, "분실"),
    },
    "logen": {
        "info": (None, "접수"),
        "pickup": (None, "집하완료"),
        "linehaul_out": (None, "터미널입고"),
        "linehaul_in": (None, "터미널출고"),
        "out": (None, "배송출고"),
        "delivered": (None, "배송완료"),
        "fail": (None, "미배송"),
        "lost": (None, "분실"),
    },
}
HUBS = {
    "cj": "곤지암Hub",
    "lotte": "진천허브",
    "hanjin": "대전HUB",
    "epost": "대전우편집중국",
    "logen": "평택허브",
}

# ------------------------------------------------------------------------------------------- catalogue
CATALOGUE: tuple[tuple[str, str, int], ...] = (
    ("fashion", "오버핏 맨투맨", 39000),
    ("fashion", "기모 조거팬츠", 32000),
    ("fashion", "경량 패딩 조끼", 59000),
    ("fashion", "니트 머플러", 25000),
    ("fashion", "데일리 운동화", 69000),
    ("fashion", "울 블렌드 코트", 189000),
    ("beauty", "수분 크림 50ml", 28000),
    ("beauty", "선크림 SPF50+", 18000),
    ("beauty", "쿠션 팩트 리필", 22000),
    ("beauty", "비타민C 세럼", 35000),
    ("beauty", "립 틴트 세트", 16000),
    ("beauty", "클렌징 오일", 21000),
    ("food", "제주 감귤 5kg", 24900),
    ("food", "한우 불고기 세트", 79000),
    ("food", "유기농 현미 10kg", 42000),
    ("food", "김치 3kg", 29000),
    ("food", "견과류 30봉", 19900),
    ("food", "콜드브루 원액", 15900),
    ("living", "극세사 이불", 49000),
    ("living", "수납 정리함 3종", 17900),
    ("living", "주방세제 리필", 8900),
    ("living", "규조토 발매트", 12900),
    ("living", "전기 요", 45000),
    ("living", "디퓨저 200ml", 23000),
    ("digital", "무선 이어폰", 89000),
    ("digital", "보조배터리 10000mAh", 29000),
    ("digital", "USB-C 충전기", 25000),
    ("digital", "블루투스 키보드", 49000),
    ("digital", "스마트워치 스트랩", 15000),
    ("digital", "가습기", 59000),
    ("kids", "유아 내복 세트", 27000),
    ("kids", "블록 장난감", 35000),
    ("kids", "아기 물티슈 10팩", 16900),
    ("kids", "유아 식판", 14900),
    ("kids", "그림책 전집", 99000),
    ("kids", "아동 패딩", 79000),
)
CHANNELS: tuple[tuple[str, float], ...] = (
    ("own", 0.30),
    ("naver", 0.30),
    ("coupang", 0.22),
    ("kakao", 0.10),
    ("11st", 0.08),
)
WAREHOUSES = ("WH-ICHEON", "WH-YONGIN", "WH-BUSAN")
# Hourly share of orders (KST): lunch and late-evening peaks of Korean mobile shopping.
HOURLY = (
    1.2,
    0.7,
    0.4,
    0.3,
    0.2,
    0.3,
    0.6,
    1.2,
    2.4,
    3.6,
    4.6,
    5.0,
    5.4,
    5.2,
    4.8,
    4.6,
    4.4,
    4.3,
    4.2,
    4.8,
    5.8,
    6.6,
    6.4,
    3.9,
)
WEEKDAY = (1.18, 1.08, 1.02, 1.0, 0.96, 0.84, 0.92)  # Mon..Sun


# intent -> {mood: [templates]}; {order} {last4} {days} {item} are filled in.
CHAT_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "track_order": {
        "calm": (
            "주문번호 {order} 배송 어디쯤 왔나요? 전화번호 뒷자리 {last4}입니다.",
            "{order} 언제 도착하는지 알 수 있을까요? 뒷번호 {last4}",
            "송장번호 좀 알려주세요. 주문번호 {order}, 폰 끝자리 {last4}",
        ),
        "urgent": ("내일 꼭 받아야 하는데 {order} 오늘 출발했나요?? 뒷자리 {last4}",),
    },
    "delivery_delay": {
        "calm": ("도착 예정일이 지났는데 아직 안 왔어요. 주문번호 {order}, 뒷자리 {last4}",),
        "upset": (
            "벌써 {days}일째 배송중이에요. 언제 오는 건가요? {order} / {last4}",
            "배송이 너무 늦네요. 선물용이라 급한데 {order} 확인 부탁드려요 ({last4})",
        ),
        "angry": (
            "도대체 언제 오는 거예요? 일주일 가까이 기다렸습니다. {order} {last4}",
            "배송조회가 며칠째 그대로예요. 이거 사기 아닌가요? {order} 뒷자리 {last4}",
        ),
    },
    "missing_delivery": {
        "upset": (
            "배송완료라고 뜨는데 물건을 못 받았어요. 주문번호 {order}, 뒷자리 {last4}",
            "문 앞에 없어요. 경비실에도 없고요. {order} ({last4})",
        ),
        "angry": ("분실된 것 같은데 어떻게 할 건가요? 세 번째 문의입니다. {order} {last4}",),
    },
    "wrong_item": {
        "calm": ("{item} 주문했는데 다른 상품이 왔어요. {order}, 뒷자리 {last4}",),
        "upset": (
            "사이즈가 주문한 거랑 달라요. 교환해 주세요. {order} / {last4}",
            "구성품이 하나 빠져 있어요. {order} 뒷번호 {last4}",
        ),
    },
    "damaged_item": {
        "upset": (
            "박스가 찌그러져서 왔고 {item} 파손됐어요. 사진 보내드릴게요. {order} {last4}",
            "받자마자 열어보니 깨져 있네요. 환불 가능한가요? {order}, {last4}",
        ),
        "angry": (
            "포장을 이따위로 하면 어떡합니까. 다 깨져서 왔어요. 소비자원에 신고할게요. {order} {last4}",
        ),
    },
    "cancel_order": {
        "calm": (
            "주문 취소하고 싶어요. {order}, 뒷자리 {last4}",
            "실수로 두 번 주문했어요. 하나 취소해 주세요 {order}",
        ),
    },
    "change_address": {
        "calm": (
            "배송지를 회사로 바꿀 수 있을까요? 주문번호 {order}, 뒷자리 {last4}",
            "공동현관 비밀번호를 배송메모에 추가하고 싶어요. {order}",
        ),
    },
    "return_request": {
        "calm": (
            "단순 변심인데 반품 가능한가요? {order} 뒷자리 {last4}",
            "{item} 반품 접수하고 싶어요. {order}",
        ),
    },
    "exchange_request": {
        "calm": (
            "사이즈 교환 신청하려고요. {order}, {last4}",
            "교환 신청한 거 언제 다시 보내주시나요? {order}",
        ),
    },
    "refund_status": {
        "calm": ("반품 보냈는데 환불 언제 되나요? {order} 뒷자리 {last4}",),
        "upset": ("환불이 아직도 안 들어왔어요. 벌써 일주일 넘었습니다. {order}",),
    },
    "payment_issue": {
        "calm": ("현금영수증 발급은 어디서 하나요?", "쿠폰이 적용이 안 돼요."),
        "upset": ("카드 결제가 두 번 됐어요! 확인해 주세요. {order}",),
    },
    "stock_inquiry": {
        "calm": ("{item} 재입고 언제 되나요?", "품절된 색상 다시 들어오면 알림 받을 수 있나요?"),
    },
    "notification_issue": {
        "calm": ("알림톡이 너무 많이 와요. 배송완료만 받고 싶어요.", "밤에는 알림 안 오게 할 수 있나요?"),
        "confused": ("배송 알림이 하나도 안 왔어요. 번호가 바뀌어서 그런가요?",),
    },
    "human_agent": {
        "calm": ("상담원 연결해 주세요.",),
        "angry": ("챗봇 말고 사람이랑 얘기하고 싶어요. 상담원 연결해 주세요.",),
    },
    "other": {
        "polite": ("안녕하세요~ 고객센터 운영시간이 어떻게 되나요?", "빠른 배송 감사합니다! 잘 받았어요 :)"),
        "confused": ("회원 탈퇴는 어떻게 하나요?",),
    },
}
VOC_CATEGORY = {
    "track_order": "status_notice",
    "delivery_delay": "delivery_delay",
    "missing_delivery": "missing",
    "wrong_item": "wrong_item",
    "damaged_item": "damaged",
    "cancel_order": "other",
    "change_address": "other",
    "return_request": "return_exchange",
    "exchange_request": "return_exchange",
    "refund_status": "return_exchange",
    "payment_issue": "price_payment",
    "stock_inquiry": "other",
    "notification_issue": "status_notice",
    "human_agent": "cs_response",
    "other": "other",
}
# Ordinary questions (no incident) and how often they come up.
ORDINARY_INTENTS = (
    ("track_order", 0.42),
    ("change_address", 0.08),
    ("cancel_order", 0.07),
    ("payment_issue", 0.09),
    ("stock_inquiry", 0.09),
    ("notification_issue", 0.10),
    ("human_agent", 0.04),
    ("other", 0.11),
)
SURVEY_COMMENTS = {
    5: ("배송 빨라요! 포장도 꼼꼼합니다.", "잘 받았습니다. 또 주문할게요.", "상품 좋아요"),
    4: ("만족합니다", "배송은 조금 걸렸지만 상품은 좋아요."),
    3: ("보통이에요", "배송 알림이 늦게 왔어요."),
    2: ("배송이 너무 늦었어요.", "포장이 허술했어요."),
    1: ("다시는 안 시킵니다. 배송 지연에 안내도 없었어요.", "파손돼서 왔는데 처리도 느려요."),
}
