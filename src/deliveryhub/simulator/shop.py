"""A realistic Korean online shop, as a seeded, reproducible stream of canonical events.

The shop has customers (Faker ko_KR names, 010 mobile numbers, addresses), a catalogue, three
warehouses, the five Korean carriers with their own scan vocabularies and transit-time distributions
by region, daily/weekly order curves with sales-event spikes, and the failure rates of the
operations study: stock-sync errors (~3.8 % of counted SKUs), tracking not updated (1–5 %, more during
sales events), wrong picks, damage, missing parcels, late deliveries against `promised_delivery_date`,
returns, exchanges, and customers who write to CS in Korean in every mood.

`ShopSimulator.stream(start)` yields `Emission`s in time order, day after day, so the same stream can
back-fill history and then continue live. Nothing here does I/O; `run.py` sends it over HTTP.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from faker import Faker

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
    name: str
    share: float
    delay_factor: float  # multiplies the shop's base delay probability
    early_share: float  # share of parcels that arrive a day before the promise (when the promise allows)
    sunday: bool  # delivers on Sundays (CJ's 7-day delivery)
    cost: int  # shipping cost per parcel, KRW
    region_factor: tuple[tuple[str, float], ...] = ()

    def factor(self, group: str) -> float:
        """Delay factor in a region group."""
        extra = dict(self.region_factor).get(group, 1.0)
        return self.delay_factor * extra


CARRIERS: tuple[CarrierProfile, ...] = (
    CarrierProfile("cj", "CJ대한통운", 0.48, 0.80, 0.20, True, 2600, (("jeju", 1.6), ("province", 1.1))),
    CarrierProfile("lotte", "롯데택배", 0.14, 1.00, 0.15, False, 2500, (("jeju", 1.8),)),
    CarrierProfile("hanjin", "한진택배", 0.14, 1.15, 0.12, False, 2450, (("province", 1.3), ("jeju", 1.8))),
    CarrierProfile("epost", "우체국택배", 0.12, 0.95, 0.10, False, 3200, (("jeju", 0.8), ("province", 0.8))),
    CarrierProfile("logen", "로젠택배", 0.12, 1.50, 0.08, False, 2300, (("capital", 0.9), ("jeju", 2.0))),
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


@dataclass(frozen=True)
class SalesEvent:
    """A sales day: orders multiply, carriers strain (more stale tracking, more delays)."""

    name: str
    start: date
    days: int
    multiplier: float

    def covers(self, day: date) -> bool:
        """Whether `day` is inside the event."""
        return self.start <= day < self.start + timedelta(days=self.days)


def default_sales_events(year: int) -> tuple[SalesEvent, ...]:
    """The Korean shopping calendar: 11.11, Black Friday week (코리아세일페스타), 12.12, New Year sale."""
    nov1 = date(year, 11, 1)
    fridays = [nov1 + timedelta(days=i) for i in range(30) if (nov1 + timedelta(days=i)).weekday() == 4]
    return (
        SalesEvent("빼빼로데이 11.11 특가", date(year, 11, 11), 1, 2.4),
        SalesEvent("블랙프라이데이", fridays[3], 3, 2.8),
        SalesEvent("12.12 연말 특가", date(year, 12, 12), 1, 2.0),
        SalesEvent("신년 세일", date(year, 1, 2), 3, 1.6),
        SalesEvent("월급날 쿠폰데이", date(year, 10, 25), 1, 1.3),
    )


@dataclass
class ShopConfig:
    """Everything that shapes the shop; rates are per order unless named otherwise."""

    orders_per_day: int = 300
    customers: int = 0  # 0 = orders_per_day * 12
    delay_rate: float = 0.05  # share of delivered orders later than promised (industry average 5.5 %)
    sales_delay_factor: float = 1.6
    tracking_stale_rate: float = 0.02  # parcels whose tracking goes silent > 48 h (1–5 %)
    sales_stale_factor: float = 2.2
    stock_sync_error_rate: float = 0.038  # counted SKUs whose physical count differs from the system
    skus_counted_per_day: int = 12  # per warehouse (cycle counting)
    shortage_rate: float = 0.012
    cancel_rate: float = 0.02
    address_change_rate: float = 0.01
    caught_pick_error_rate: float = 0.008
    wrong_item_rate: float = 0.005  # wrong pick that reaches the customer
    damage_rate: float = 0.004
    missing_rate: float = 0.003
    attempt_fail_rate: float = 0.015
    return_rate: float = 0.012
    exchange_rate: float = 0.006
    split_parcel_rate: float = 0.08
    green_packaging_rate: float = 0.35
    survey_rate: float = 0.15
    chat_rate: float = 0.05  # orders whose customer writes in with an ordinary question
    cutoff_hour: int = 15  # orders before this ship the same business day
    sales_events: tuple[SalesEvent, ...] | None = None  # None = the Korean calendar of the years simulated

    def events_on(self, day: date) -> list[SalesEvent]:
        """Sales events running on `day`."""
        events = self.sales_events
        if events is None:
            events = default_sales_events(day.year) + default_sales_events(day.year - 1)
        return [e for e in events if e.covers(day)]


@dataclass(order=True)
class Emission:
    """One thing the shop does at a moment: an event to post, or a customer conversation to hold."""

    at: datetime
    seq: int
    kind: str = field(compare=False)  # "event" | "chat"
    payload: dict[str, Any] = field(compare=False)
    conversation: str | None = field(default=None, compare=False)  # events a chatbot would produce itself


@dataclass
class Customer:
    """A shopper (personal data only ever leaves the simulator inside order.created)."""

    customer_id: str
    name: str
    phone: str
    email: str
    region: str
    city: str
    address: dict[str, str]


@dataclass
class _Order:
    order_id: str
    created: datetime
    customer: Customer
    items: list[dict[str, Any]]
    category: str
    total: int
    channel: str
    warehouse: str
    carrier: CarrierProfile
    promised: date
    in_event: bool


# ------------------------------------------------------------------------------------ customer messages
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
SUBJECTS = {
    "track_order": "배송 조회",
    "delivery_delay": "배송 지연 문의",
    "missing_delivery": "상품 미수령",
    "wrong_item": "오배송",
    "damaged_item": "상품 파손",
    "cancel_order": "주문 취소",
    "change_address": "배송지 변경",
    "return_request": "반품 신청",
    "exchange_request": "교환 신청",
    "refund_status": "환불 문의",
    "payment_issue": "결제 문의",
    "stock_inquiry": "재입고 문의",
    "notification_issue": "알림 설정",
    "human_agent": "상담원 연결",
    "other": "기타 문의",
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


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


def _iso(at: datetime) -> str:
    return at.astimezone(KST).isoformat(timespec="seconds")


def business_day(day: date, sunday_ok: bool = False) -> date:
    """`day`, or the next day a parcel can move (no Sunday work unless the carrier delivers Sundays)."""
    while day.weekday() == 6 and not sunday_ok:
        day += timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """`n` business days (Mon–Sat) after `day`."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() != 6:
            n -= 1
    return day


class ShopSimulator:
    """The shop: deterministic for a given seed, config and start."""

    def __init__(self, config: ShopConfig | None = None, seed: int = 7) -> None:
        self.config = config or ShopConfig()
        self.seed = seed
        self.rng = random.Random(seed)
        self.fake = Faker("ko_KR")
        self.fake.seed_instance(seed)
        self._seq = 0
        self._heap: list[Emission] = []
        self.skus: list[dict[str, Any]] = [
            {"sku": f"SKU-{cat[:3].upper()}-{i:03d}", "name": name, "price": price, "category": cat}
            for i, (cat, name, price) in enumerate(CATALOGUE)
        ]
        n_customers = self.config.customers or max(50, self.config.orders_per_day * 12)
        self.customers = [self._new_customer(i) for i in range(n_customers)]
        # System stock per (warehouse, sku): the WMS's belief, which drifts from the shelf.
        self.stock = {(w, s["sku"]): self.rng.randint(40, 400) for w in WAREHOUSES for s in self.skus}
        self.count_cursor = {w: i * 7 for i, w in enumerate(WAREHOUSES)}
        self.tag = hashlib.sha256(f"{seed}".encode()).hexdigest()[:3].upper()
        self.counters: dict[str, int] = {}

    # ------------------------------------------------------------------------------ building blocks
    def _new_customer(self, i: int) -> Customer:
        region, _share, _group, cities = _weighted(self.rng, [(r, r[1]) for r in REGIONS])
        city = self.rng.choice(cities)
        phone = f"010-{self.rng.randint(2000, 9999):04d}-{self.rng.randint(0, 9999):04d}"
        address = {
            "zip": self.fake.postcode(),
            "line1": f"{region} {city} {self.fake.road_name()} {self.fake.building_number()}",
            "line2": self.fake.address_detail(),
        }
        return Customer(
            f"CUST-{i:06d}", self.fake.name(), phone, self.fake.free_email(), region, city, address
        )

    def _emit(
        self, at: datetime, payload: dict[str, Any], kind: str = "event", conversation: str | None = None
    ) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Emission(at.astimezone(UTC), self._seq, kind, payload, conversation))

    def _event(
        self,
        at: datetime,
        type_: str,
        source: str,
        order: _Order | None,
        data: dict[str, Any],
        shipment_id: str | None = None,
        conversation: str | None = None,
    ) -> None:
        key = order.order_id if order else "shop"
        n = self.counters[key] = self.counters.get(key, 0) + 1
        ev: dict[str, Any] = {
            "event_id": f"{key}:{n:03d}:{type_}",
            "source": source,
            "type": type_,
            "occurred_at": _iso(at),
            "order_id": order.order_id if order else None,
            "data": data,
        }
        if shipment_id:
            ev["shipment_id"] = shipment_id
        self._emit(at, ev, conversation=conversation)

    def _clock_time(self, day: date, hour_lo: float, hour_hi: float) -> datetime:
        """A random moment of `day` between two hours (KST)."""
        minutes = self.rng.uniform(hour_lo * 60, hour_hi * 60)
        return datetime(day.year, day.month, day.day, tzinfo=KST) + timedelta(minutes=minutes)

    def orders_on(self, day: date) -> int:
        """Expected orders on `day` (weekly curve × sales events)."""
        mult = WEEKDAY[day.weekday()]
        for ev in self.config.events_on(day):
            mult *= ev.multiplier
        return max(0, round(self.config.orders_per_day * mult))

    # ------------------------------------------------------------------------------ the stream
    def stream(self, start: datetime, end: datetime | None = None) -> Iterator[Emission]:
        """Every emission from `start` on (until `end`, if given), in time order, generated day by day."""
        day = start.astimezone(KST).date()
        while True:
            day_start = datetime(day.year, day.month, day.day, tzinfo=KST)
            if end is not None and day_start >= end:
                break
            self._generate_day(day, start, end)
            next_start = day_start + timedelta(days=1)
            while self._heap and self._heap[0].at < next_start:
                item = heapq.heappop(self._heap)
                if end is not None and item.at >= end:
                    continue
                if item.at >= start:
                    yield item
            day += timedelta(days=1)

    def generate(self, start: datetime, days: float, *, include_tail: bool = False) -> list[Emission]:
        """Orders placed in [start, start + days); with `include_tail`, their whole lifecycles."""
        end = start + timedelta(days=days)
        out = list(self.stream(start, end))
        if include_tail:
            tail = sorted(e for e in self._heap if e.at >= start)
            self._heap.clear()
            out.extend(tail)
        return out

    def _generate_day(self, day: date, start: datetime, end: datetime | None) -> None:
        n = self.orders_on(day)
        # Poisson-ish noise, reproducible.
        n = max(0, round(self.rng.gauss(n, n**0.5))) if n else 0
        hours = self.rng.choices(range(24), weights=HOURLY, k=n)
        times = sorted(
            datetime(day.year, day.month, day.day, h, tzinfo=KST)
            + timedelta(seconds=self.rng.uniform(0, 3599))
            for h in hours
        )
        in_event = bool(self.config.events_on(day))
        for i, at in enumerate(times):
            if at < start or (end is not None and at >= end):
                self.rng.random()  # keep the random sequence independent of the window
                continue
            self._order(at, i, in_event)
        for w in WAREHOUSES:
            self._snapshot(day, w)

    def _snapshot(self, day: date, warehouse: str) -> None:
        """Nightly cycle count: a rotating slice of SKUs; some disagree with the system (sync errors)."""
        k = self.config.skus_counted_per_day
        cursor = self.count_cursor[warehouse]
        chosen = [self.skus[(cursor + j) % len(self.skus)]["sku"] for j in range(k)]
        self.count_cursor[warehouse] = (cursor + k) % len(self.skus)
        counts: dict[str, int] = {}
        system: dict[str, int] = {}
        for sku in chosen:
            sys_qty = self.stock[(warehouse, sku)]
            system[sku] = sys_qty
            if self.rng.random() < self.config.stock_sync_error_rate:
                delta = self.rng.choice((-3, -2, -1, -1, 1, 2))
                counts[sku] = max(0, sys_qty + delta)
            else:
                counts[sku] = sys_qty
        at = self._clock_time(day, 22.5, 23.5)
        self._seq += 1
        ev = {
            "event_id": f"snap:{warehouse}:{day.isoformat()}",
            "source": "wms",
            "type": "inventory.snapshot",
            "occurred_at": _iso(at),
            "order_id": None,
            "data": {"warehouse": warehouse, "counts": counts, "system": system},
        }
        self._emit(at, ev)

    # ------------------------------------------------------------------------------ one order
    def _order(self, at: datetime, index: int, in_event: bool) -> None:
        cfg, rng = self.config, self.rng
        # Repeat buyers: a quarter of orders come from the first tenth of customers.
        pool = self.customers[: max(1, len(self.customers) // 10)] if rng.random() < 0.25 else self.customers
        cust = rng.choice(pool)
        n_items = _weighted(rng, ((1, 0.62), (2, 0.26), (3, 0.09), (4, 0.03)))
        picked = rng.sample(self.skus, n_items)
        items = [
            {"sku": s["sku"], "qty": _weighted(rng, ((1, 0.85), (2, 0.12), (3, 0.03))), "price": s["price"]}
            for s in picked
        ]
        total = sum(int(i["price"]) * int(i["qty"]) for i in items)
        shipping_fee = 0 if total >= 30000 else 3000
        group = REGION_GROUP[cust.region]
        carriers = [(c, c.share * (2.5 if c.code == "epost" and group == "jeju" else 1.0)) for c in CARRIERS]
        carrier = _weighted(rng, carriers)
        warehouse = "WH-BUSAN" if cust.region in SOUTH_EAST else rng.choice(("WH-ICHEON", "WH-YONGIN"))
        local = at.astimezone(KST)
        ship_day = business_day(
            local.date() if local.hour < cfg.cutoff_hour else local.date() + timedelta(days=1)
        )
        promised = add_business_days(ship_day, PROMISE_DAYS[group])
        oid = f"ORD-{local:%y%m%d}-{self.tag}{index:04d}"
        order = _Order(
            oid,
            at,
            cust,
            items,
            picked[0]["category"],
            total + shipping_fee,
            _weighted(rng, CHANNELS),
            warehouse,
            carrier,
            promised,
            in_event,
        )
        self._event(
            at,
            "order.created",
            "oms",
            order,
            {
                "customer": {"name": cust.name, "phone": cust.phone, "email": cust.email},
                "address": dict(cust.address),
                "items": items,
                "total": order.total,
                "channel": order.channel,
                "promised_delivery_date": promised.isoformat(),
                "warehouse": warehouse,
                "region": cust.region,
                "category": order.category,
                "shipping_fee": shipping_fee,
            },
        )
        paid = at + timedelta(seconds=rng.uniform(5, 600))
        self._event(
            paid,
            "order.paid",
            "oms",
            order,
            {
                "amount": order.total,
                "method": _weighted(
                    rng, (("card", 0.55), ("naverpay", 0.2), ("kakaopay", 0.15), ("bank_transfer", 0.1))
                ),
            },
        )
        for it in items:
            self.stock[(warehouse, it["sku"])] = max(0, self.stock[(warehouse, it["sku"])] - int(it["qty"]))
        # Customer cancels before it ships.
        if rng.random() < cfg.cancel_rate:
            when = paid + timedelta(minutes=rng.uniform(10, 300))
            self._event(
                when,
                "order.cancelled",
                "oms",
                order,
                {
                    "reason": rng.choice(
                        ("단순 변심", "다른 상품으로 재주문", "배송 기간이 너무 길어요", "중복 주문")
                    )
                },
            )
            if rng.random() < 0.3:
                self._conversation(order, when - timedelta(minutes=2), "cancel_order", "calm")
            return
        ready = paid + timedelta(minutes=rng.uniform(5, 40))
        if rng.random() < cfg.address_change_rate:
            new_addr = dict(cust.address)
            new_addr["line2"] = self.fake.address_detail() + " (회사)"
            self._event(ready, "order.address_changed", "oms", order, {"address": new_addr})
            self._conversation(order, ready - timedelta(minutes=3), "change_address", "calm")
        # Stock: reserved, or short until a restock arrives.
        if rng.random() < cfg.shortage_rate:
            sku = items[0]["sku"]
            self._event(
                ready,
                "inventory.shortage",
                "wms",
                order,
                {"sku": sku, "requested": items[0]["qty"], "available": 0, "warehouse": warehouse},
            )
            if rng.random() < 0.3:
                self._event(
                    ready + timedelta(hours=rng.uniform(2, 20)),
                    "order.cancelled",
                    "oms",
                    order,
                    {"reason": "재고 부족으로 주문 취소"},
                )
                return
            ready += timedelta(hours=rng.uniform(20, 44))
            ship_day = business_day(ready.astimezone(KST).date() + timedelta(days=1))
        self._event(
            ready,
            "inventory.reserved",
            "wms",
            order,
            {"items": [{"sku": i["sku"], "qty": i["qty"]} for i in items], "warehouse": warehouse},
        )
        # Picking and packing happen on the shipping day's morning wave (or now, if that is later).
        wave = max(ready + timedelta(minutes=20), self._clock_time(ship_day, 9, 14.5))
        if rng.random() < cfg.caught_pick_error_rate:
            wrong = rng.choice(self.skus)["sku"]
            self._event(
                wave,
                "fulfillment.pick_error",
                "wms",
                order,
                {"expected_sku": items[0]["sku"], "scanned_sku": wrong, "caught": True},
            )
            wave += timedelta(minutes=rng.uniform(15, 60))
        self._event(wave, "fulfillment.picked", "wms", order, {"warehouse": warehouse})
        packed = wave + timedelta(minutes=rng.uniform(10, 60))
        self._event(
            packed,
            "fulfillment.packed",
            "wms",
            order,
            {
                "packaging": "green" if rng.random() < cfg.green_packaging_rate else "standard",
                "warehouse": warehouse,
            },
        )
        self._event(
            packed,
            "cost.recorded",
            "erp",
            order,
            {"kind": "logistics", "amount": 850 * len(items), "currency": "KRW"},
        )
        n_parcels = 2 if (len(items) > 1 and rng.random() < cfg.split_parcel_rate * 3) else 1
        outcome = self._draw_outcome(order)
        for p in range(n_parcels):
            self._parcel(order, p + 1, packed, ship_day, outcome if p == n_parcels - 1 else "ok")

    def _draw_outcome(self, order: _Order) -> str:
        cfg, rng = self.config, self.rng
        roll = rng.random()
        for name, rate in (
            ("missing", cfg.missing_rate),
            ("damage", cfg.damage_rate),
            ("wrong_item", cfg.wrong_item_rate),
            ("return", cfg.return_rate),
            ("exchange", cfg.exchange_rate),
        ):
            if roll < rate:
                return name
            roll -= rate
        return "ok"

    def _parcel(self, order: _Order, n: int, packed: datetime, ship_day: date, outcome: str) -> None:
        cfg, rng = self.config, self.rng
        carrier = order.carrier
        code = carrier.code
        src = f"carrier:{code}"
        sid = f"{order.order_id}-{n}"
        tracking_no = f"{rng.randint(10**11, 10**12 - 1)}"
        group = REGION_GROUP[order.customer.region]
        waybill_at = packed + timedelta(minutes=rng.uniform(1, 15))
        self._event(
            waybill_at,
            "shipment.waybill_created",
            "tms",
            order,
            {"carrier": code, "tracking_no": tracking_no},
            shipment_id=sid,
        )
        self._scan(
            order, sid, code, "info", waybill_at + timedelta(minutes=rng.uniform(1, 30)), order.warehouse
        )
        pickup = max(waybill_at + timedelta(minutes=30), self._clock_time(ship_day, 16.5, 19.5))
        self._event(pickup, "shipment.handed_over", src, order, {"carrier": code}, shipment_id=sid)
        self._scan(
            order, sid, code, "pickup", pickup + timedelta(minutes=rng.uniform(1, 10)), order.warehouse
        )
        self._event(
            pickup,
            "cost.recorded",
            "erp",
            order,
            {"kind": "shipping", "amount": carrier.cost, "currency": "KRW", "carrier": code},
            shipment_id=sid,
        )
        # When does it arrive? On the promise, a day early sometimes, late with the carrier's odds.
        delay_p = cfg.delay_rate * carrier.factor(group) * (cfg.sales_delay_factor if order.in_event else 1.0)
        stale_p = min(0.05, cfg.tracking_stale_rate * (cfg.sales_stale_factor if order.in_event else 1.0))
        stale = rng.random() < stale_p
        # delay_rate is the total late share; silent-tracking parcels are late too, so they count in it.
        late = rng.random() < min(0.5, max(0.0, delay_p - stale_p))
        target = order.promised
        if stale:
            # Tracking goes silent for more than 48 h: the parcel sits at a hub, usually ending up late.
            target = add_business_days(pickup.astimezone(KST).date(), 3 + rng.choice((0, 0, 1)))
        elif late:
            target = add_business_days(order.promised, _weighted(rng, ((1, 0.7), (2, 0.22), (3, 0.08))))
        elif PROMISE_DAYS[group] > 1 and rng.random() < carrier.early_share:
            target = add_business_days(ship_day, PROMISE_DAYS[group] - 1)
        target = business_day(target, carrier.sunday)
        self._event(
            pickup + timedelta(minutes=20),
            "shipment.eta_updated",
            "tms",
            order,
            {
                "eta_min": _iso(
                    datetime(order.promised.year, order.promised.month, order.promised.day, 9, tzinfo=KST)
                ),
                "eta_max": _iso(
                    datetime(order.promised.year, order.promised.month, order.promised.day, 21, tzinfo=KST)
                ),
            },
            shipment_id=sid,
        )
        hub = HUBS[code]
        linehaul_out = pickup + timedelta(hours=rng.uniform(3, 6))
        out_day_start = self._clock_time(target, 7.0, 12.5)
        if not stale:
            self._scan(order, sid, code, "linehaul_out", linehaul_out, hub)
            self._scan(
                order,
                sid,
                code,
                "linehaul_in",
                linehaul_out + timedelta(hours=rng.uniform(3, 8)),
                f"{order.customer.city} 서브터미널",
            )
            # A parcel that waits is scanned again each working day it moves between terminals, so only
            # the configured share of parcels (the `stale` ones) goes silent for more than 48 hours.
            day = linehaul_out.astimezone(KST).date() + timedelta(days=1)
            while day < target:
                if day.weekday() != 6 or carrier.sunday:
                    self._scan(order, sid, code, "linehaul_in", self._clock_time(day, 5, 10), f"{hub} 재분류")
                day += timedelta(days=1)
        if target > order.promised or stale:
            # The carrier knows the morning of the promised day; a new ETA goes out (delay notice).
            notice = datetime(
                order.promised.year, order.promised.month, order.promised.day, 8, tzinfo=KST
            ) + timedelta(minutes=rng.uniform(0, 120))
            if target > order.promised and not stale:
                self._event(
                    notice,
                    "shipment.eta_updated",
                    "tms",
                    order,
                    {
                        "eta_min": _iso(datetime(target.year, target.month, target.day, 9, tzinfo=KST)),
                        "eta_max": _iso(datetime(target.year, target.month, target.day, 21, tzinfo=KST)),
                        "reason": "물량 증가로 인한 지연" if order.in_event else "간선 지연",
                    },
                    shipment_id=sid,
                )
            if rng.random() < 0.35:
                mood = _weighted(rng, (("calm", 0.3), ("upset", 0.45), ("angry", 0.25)))
                self._conversation(
                    order, notice + timedelta(hours=rng.uniform(4, 12)), "delivery_delay", mood
                )
        if outcome == "missing" and rng.random() < 0.5:
            # Lost in the network: tracking stops after the sub-terminal, then a loss scan days later.
            lost_at = out_day_start + timedelta(days=3)
            self._scan(order, sid, code, "lost", lost_at, hub)
            self._conversation(order, out_day_start + timedelta(days=1, hours=3), "missing_delivery", "angry")
            self._event(lost_at + timedelta(hours=2), "claim.opened", "crm", order, {"kind": "missing"})
            self._event(
                lost_at + timedelta(hours=5),
                "compensation.issued",
                "crm",
                order,
                {"kind": "refund", "amount": order.total, "rule": "lost_parcel_full_refund"},
            )
            self._event(
                lost_at + timedelta(hours=5), "return.refunded", "oms", order, {"amount": order.total}
            )
            return
        out_at = out_day_start
        if rng.random() < cfg.attempt_fail_rate:
            self._scan(order, sid, code, "out", out_at, f"{order.customer.city} 집배점")
            fail_at = out_at + timedelta(hours=rng.uniform(3, 8))
            self._scan(
                order, sid, code, "fail", fail_at, f"{order.customer.city}", message="폐문부재 - 재방문 예정"
            )
            out_at = self._clock_time(
                business_day(fail_at.astimezone(KST).date() + timedelta(days=1), carrier.sunday), 7.0, 12.0
            )
        self._scan(order, sid, code, "out", out_at, f"{order.customer.city} 집배점")
        delivered_at = out_at + timedelta(hours=rng.uniform(1.5, 8.5))
        self._scan(
            order,
            sid,
            code,
            "delivered",
            delivered_at,
            f"{order.customer.city}",
            message=rng.choice(("문 앞 배송", "경비실 보관", "무인택배함", "직접 수령")),
        )
        self._event(
            delivered_at + timedelta(seconds=30),
            "shipment.delivered",
            src,
            order,
            {"proof": {"kind": "photo" if code in ("cj", "logen") else "signature"}},
            shipment_id=sid,
        )
        self._after_delivery(order, delivered_at, outcome, target > order.promised or stale)

    def _scan(
        self,
        order: _Order,
        sid: str,
        code: str,
        step: str,
        at: datetime,
        location: str,
        message: str | None = None,
    ) -> None:
        raw_code, raw_status = SCANS[code][step]
        data: dict[str, Any] = {"raw_status": raw_status, "location": location}
        if raw_code is not None:
            data["raw_code"] = raw_code
        if step == "out":
            local = at.astimezone(KST)
            h = min(20, local.hour + self.rng.randint(2, 6))
            if code == "cj":
                # CJ's departure text carries the two-hour window, e.g. 배송출발 (14~16시).
                data["raw_status"] = f"{raw_status} ({h}~{h + 2}시)"
            data["message"] = (
                f"배송기사 {self.fake.last_name()}OO 010-{self.rng.randint(2000, 9999)}-"
                f"{self.rng.randint(0, 9999):04d} 배송 예정"
            )
        elif message:
            data["message"] = message
        # No "status": the hub derives it from the carrier's own code/text.
        self._event(at, "shipment.tracking", f"carrier:{code}", order, data, shipment_id=sid)

    def _after_delivery(self, order: _Order, delivered: datetime, outcome: str, was_late: bool) -> None:
        rng = self.rng
        if outcome in ("damage", "wrong_item", "missing"):
            intent = {"damage": "damaged_item", "wrong_item": "wrong_item", "missing": "missing_delivery"}[
                outcome
            ]
            mood = _weighted(rng, (("upset", 0.6), ("angry", 0.3), ("calm", 0.1)))
            said = delivered + timedelta(hours=rng.uniform(1, 30))
            self._conversation(
                order, said, intent, mood if intent != "wrong_item" or mood != "angry" else "upset"
            )
            kind = {"damage": "damage", "wrong_item": "wrong_item", "missing": "missing"}[outcome]
            self._event(
                said + timedelta(minutes=rng.uniform(5, 90)), "claim.opened", "crm", order, {"kind": kind}
            )
            if outcome == "missing":
                self._event(
                    said + timedelta(hours=rng.uniform(20, 50)),
                    "compensation.issued",
                    "crm",
                    order,
                    {"kind": "refund", "amount": order.total, "rule": "missing_after_delivery"},
                )
                return
            if rng.random() < 0.6:
                self._exchange(order, said + timedelta(hours=1), "파손" if outcome == "damage" else "오배송")
            else:
                self._return(
                    order, said + timedelta(hours=1), "파손 환불" if outcome == "damage" else "오배송 환불"
                )
            if outcome == "damage" and rng.random() < 0.5:
                self._event(
                    said + timedelta(hours=3),
                    "compensation.issued",
                    "crm",
                    order,
                    {"kind": "coupon", "amount": 5000, "rule": "damage_apology_coupon"},
                )
            return
        if outcome == "return":
            self._return(
                order,
                delivered + timedelta(days=rng.uniform(1, 5)),
                rng.choice(("단순 변심", "사이즈가 맞지 않음", "상품이 설명과 다름")),
            )
            if rng.random() < 0.3:
                self._conversation(order, delivered + timedelta(days=1), "return_request", "calm")
        elif outcome == "exchange":
            self._exchange(order, delivered + timedelta(days=rng.uniform(1, 4)), "사이즈 교환")
            if rng.random() < 0.4:
                self._conversation(order, delivered + timedelta(days=1), "exchange_request", "calm")
        elif rng.random() < self.config.chat_rate:
            intent = _weighted(rng, ORDINARY_INTENTS)
            moods = list(CHAT_TEMPLATES[intent])
            self._conversation(
                order, order.created + timedelta(hours=rng.uniform(2, 40)), intent, rng.choice(moods)
            )
        if rng.random() < self.config.survey_rate:
            base = 5 if not was_late else 3
            if outcome in ("damage", "wrong_item"):
                base = 2
            csat = max(1, min(5, base - _weighted(rng, ((0, 0.55), (1, 0.3), (2, 0.12), (3, 0.03)))))
            nps = max(0, min(10, csat * 2 + rng.choice((-1, 0, 0, 1))))
            data: dict[str, Any] = {"csat": csat, "nps": nps}
            if rng.random() < 0.5:
                data["comment"] = rng.choice(SURVEY_COMMENTS[csat])
            self._event(
                delivered + timedelta(hours=rng.uniform(3, 48)), "survey.answered", "crm", order, data
            )

    def _return(self, order: _Order, at: datetime, reason: str) -> None:
        rng = self.rng
        items = [{"sku": i["sku"], "qty": i["qty"]} for i in order.items[:1]]
        self._event(at, "return.requested", "oms", order, {"items": items, "reason": reason})
        picked = at + timedelta(days=rng.uniform(0.8, 2.5))
        self._event(picked, "return.picked_up", f"carrier:{order.carrier.code}", order, {})
        received = picked + timedelta(days=rng.uniform(0.8, 2.0))
        self._event(received, "return.received", "wms", order, {"warehouse": order.warehouse})
        refund = int(order.items[0]["price"]) * int(order.items[0]["qty"])
        self._event(
            received + timedelta(hours=rng.uniform(2, 30)),
            "return.refunded",
            "oms",
            order,
            {"amount": refund},
        )

    def _exchange(self, order: _Order, at: datetime, reason: str) -> None:
        items = [{"sku": i["sku"], "qty": i["qty"]} for i in order.items[:1]]
        self._event(at, "exchange.requested", "oms", order, {"items": items, "reason": reason})
        self._event(at + timedelta(days=self.rng.uniform(2.5, 6)), "exchange.completed", "oms", order, {})

    def _conversation(self, order: _Order, at: datetime, intent: str, mood: str) -> None:
        """A customer writes in: a chat script for the hub's chatbot, and what a CRM would report instead."""
        rng = self.rng
        moods = CHAT_TEMPLATES[intent]
        mood = mood if mood in moods else rng.choice(list(moods))
        days = max(1, (at.astimezone(KST).date() - order.created.astimezone(KST).date()).days)
        fill = {
            "order": order.order_id,
            "last4": order.customer.phone[-4:],
            "days": days,
            "item": self.skus_by_id(order.items[0]["sku"])["name"],
        }
        text = rng.choice(moods[mood]).format(**fill)
        conv_id = f"CONV-{order.order_id}-{self.counters.get(order.order_id, 0) + 1}"
        messages = [text]
        if intent in ("delivery_delay", "missing_delivery") and mood == "angry" and rng.random() < 0.5:
            messages.append("상담원 연결해 주세요. 답변이 너무 늦어요.")
        self._emit(
            at,
            {
                "conversation_id": conv_id,
                "order_id": order.order_id,
                "intent": intent,
                "mood": mood,
                "messages": messages,
                "phone_last4": order.customer.phone[-4:],
            },
            kind="chat",
        )
        # Without a chatbot, the CRM reports the same contact as a ticket.
        ticket = "T-" + conv_id.removeprefix("CONV-")
        self._event(
            at,
            "ticket.created",
            "crm",
            order,
            {
                "ticket_id": ticket,
                "channel": rng.choice(("chat", "chat", "kakao", "phone", "email")),
                "subject": SUBJECTS[intent],
                "text": " ".join(messages),
                "category": VOC_CATEGORY[intent],
                "intent": intent,
                "mood": mood,
            },
            conversation=conv_id,
        )
        escalate = mood == "angry" or intent in ("human_agent", "missing_delivery", "damaged_item")
        if escalate:
            first = at + timedelta(minutes=rng.uniform(3, 90))
            self._event(
                first,
                "ticket.replied",
                "crm",
                order,
                {"ticket_id": ticket, "by": "agent"},
                conversation=conv_id,
            )
            resolved = first + timedelta(hours=rng.uniform(0.5, 30))
        else:
            first = at + timedelta(seconds=rng.uniform(2, 20))
            self._event(
                first,
                "ticket.replied",
                "crm",
                order,
                {"ticket_id": ticket, "by": "bot"},
                conversation=conv_id,
            )
            resolved = first + timedelta(minutes=rng.uniform(1, 20))
        self._event(resolved, "ticket.resolved", "crm", order, {"ticket_id": ticket}, conversation=conv_id)

    def skus_by_id(self, sku: str) -> dict[str, Any]:
        """Catalogue entry of a SKU."""
        for s in self.skus:
            if s["sku"] == sku:
                return s
        raise KeyError(sku)


def events_only(emissions: list[Emission], *, with_conversation_events: bool = True) -> list[dict[str, Any]]:
    """The canonical events of a list of emissions (optionally without the CRM's view of chats)."""
    return [
        e.payload
        for e in emissions
        if e.kind == "event" and (with_conversation_events or e.conversation is None)
    ]


def day_start(day: date) -> datetime:
    """Midnight of `day` in Korea."""
    return datetime(day.year, day.month, day.day, tzinfo=KST)
