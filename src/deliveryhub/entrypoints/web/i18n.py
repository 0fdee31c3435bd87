"""UI strings of the ops pages, Korean first, English by ?lang=en."""

from __future__ import annotations

from fastapi import Request

from deliveryhub.kernel.labels import labels

# The label kinds the pages' scripts name things with (one table: deliveryhub.kernel.labels).
PAGE_KINDS = (
    "stage",
    "tag",
    "exception",
    "exception_status",
    "carrier",
    "channel",
    "notice_channel",
    "notice_status",
    "priority",
    "event_type",
    "template",
    "ticket_status",
    "claim",
    "contact_channel",
    "author",
    "sentiment",
    "source",
    "role",
    "faq_topic",
    "voc",
    "intent",
    "reason",
)

STRINGS: dict[str, dict[str, str]] = {
    "title": {"ko": "운영 대시보드", "en": "Operations dashboard"},
    "brand": {"ko": "딜리버리허브", "en": "deliveryhub"},
    "nav_dashboard": {"ko": "대시보드", "en": "Dashboard"},
    "nav_tickets": {"ko": "CS 데스크", "en": "CS desk"},
    "nav_faq": {"ko": "FAQ 관리", "en": "FAQ"},
    "nav_logout": {"ko": "로그아웃", "en": "Log out"},
    "from": {"ko": "시작일", "en": "From"},
    "to": {"ko": "종료일", "en": "To"},
    "grain": {"ko": "단위", "en": "Grain"},
    "by": {"ko": "분할 기준", "en": "Split by"},
    "none": {"ko": "없음", "en": "None"},
    "apply": {"ko": "적용", "en": "Apply"},
    "day": {"ko": "일", "en": "Day"},
    "week": {"ko": "주", "en": "Week"},
    "month": {"ko": "월", "en": "Month"},
    "carrier": {"ko": "택배사", "en": "Carrier"},
    "warehouse": {"ko": "창고", "en": "Warehouse"},
    "channel": {"ko": "채널", "en": "Channel"},
    "region": {"ko": "지역", "en": "Region"},
    "category": {"ko": "카테고리", "en": "Category"},
    "stage": {"ko": "단계", "en": "Stage"},
    "kpis": {"ko": "핵심 지표 (목표 대비)", "en": "KPIs against targets"},
    "target": {"ko": "목표", "en": "Target"},
    "value": {"ko": "현재", "en": "Value"},
    "status_ok": {"ko": "정상", "en": "On target"},
    "status_warning": {"ko": "경고", "en": "Warning"},
    "status_breach": {"ko": "목표 미달", "en": "Breached"},
    "status_no_target": {"ko": "목표 없음", "en": "No target"},
    "status_no_data": {"ko": "데이터 없음", "en": "No data"},
    "status_low_sample": {"ko": "표본 부족", "en": "Too few to judge"},
    "sample": {"ko": "표본 {n}건 · 최소 {min}건", "en": "{n} cases · at least {min} needed"},
    "excluded": {"ko": "제외 {n}건: {reason}", "en": "{n} left out: {reason}"},
    "trend": {"ko": "추이", "en": "Trend"},
    "split": {"ko": "분할", "en": "Split"},
    "exceptions": {"ko": "예외 현황 (유형별)", "en": "Exceptions by type"},
    "exceptions_unavailable": {
        "ko": "예외 모니터 기능이 없거나 권한이 없습니다.",
        "en": "Exception monitoring is not available for you.",
    },
    "drill": {"ko": "근거 주문", "en": "Orders behind the number"},
    "drill_hint": {
        "ko": "지표 타일을 누르면 근거 주문을 볼 수 있습니다.",
        "en": "Click a KPI tile to see the orders behind it.",
    },
    "order": {"ko": "주문", "en": "Order"},
    "time": {"ko": "시각", "en": "Time"},
    "updated": {"ko": "갱신", "en": "Updated"},
    "auto_refresh": {"ko": "자동 새로고침", "en": "Auto-refresh"},
    "no_orders": {"ko": "해당 주문이 없습니다.", "en": "No orders."},
    "drill_not_orders": {
        "ko": "이 지표는 주문별로 나눠 볼 수 없어요(수기 입력 값이거나 주문이 아닌 자료로 계산해요).",
        "en": "This KPI is not made of orders.",
    },
    "export_csv": {"ko": "CSV 내보내기", "en": "Export CSV"},
    "export_xlsx": {"ko": "엑셀 내보내기", "en": "Export XLSX"},
    "order_title": {"ko": "주문 타임라인", "en": "Order timeline"},
    "stage_col": {"ko": "단계", "en": "Stage"},
    "source": {"ko": "출처", "en": "Source"},
    "mode": {"ko": "처리 방식", "en": "Mode"},
    "auto": {"ko": "자동", "en": "Automatic"},
    "manual": {"ko": "수동", "en": "Manual"},
    "parcels": {"ko": "택배", "en": "Parcels"},
    "events": {"ko": "이벤트", "en": "Events"},
    "not_found": {"ko": "주문을 찾을 수 없습니다.", "en": "Order not found."},
    "promised": {"ko": "약속 배송일", "en": "Promised date"},
    "created": {"ko": "주문 시각", "en": "Ordered at"},
    "delivered": {"ko": "배송 완료", "en": "Delivered"},
    "current_stage": {"ko": "현재 단계", "en": "Current stage"},
    "tracking_no": {"ko": "운송장", "en": "Tracking no."},
    "status": {"ko": "상태", "en": "Status"},
    "type": {"ko": "유형", "en": "Type"},
    "back": {"ko": "대시보드로", "en": "Back to dashboard"},
    "language": {"ko": "English", "en": "한국어"},
    "loading": {"ko": "불러오는 중…", "en": "Loading…"},
    "error": {"ko": "데이터를 불러오지 못했습니다.", "en": "Could not load the data."},
    "split_hint": {
        "ko": "위에서 분할 기준(택배사·창고·채널·지역·카테고리)을 고르면 나눠서 보여 드려요.",
        "en": "Choose a split (carrier, warehouse, channel, region, category) above to compare groups.",
    },
    "count": {"ko": "건수", "en": "Count"},
    "orders_n": {"ko": "{n}건", "en": "{n} orders"},
}


def lang_of(request: Request) -> str:
    """'en' with ?lang=en, else Korean."""
    return "en" if request.query_params.get("lang") == "en" else "ko"


def texts(lang: str) -> dict[str, str]:
    """Every UI string in `lang`."""
    return {k: v.get(lang, v["ko"]) for k, v in STRINGS.items()}


def label_tables(lang: str, kinds: tuple[str, ...] = PAGE_KINDS) -> dict[str, dict[str, str]]:
    """The label table's names in `lang` for the kinds a page's script shows ({kind: {key: name}})."""
    return {kind: labels(kind, lang) for kind in kinds}
