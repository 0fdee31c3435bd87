"""Pages of the CS feature: /tickets (the desk, logged-in users), /tickets/faq (FAQ editor) and /chat
(the public customer widget). Korean by default, English with ?lang=en. Templates in templates/cs/ (the
desk and FAQ in the staff pages' base.html), static files in static/cs/ served under /static/chat/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import PAGE_KINDS, label_tables
from deliveryhub.entrypoints.web.pages import render
from deliveryhub.kernel.labels import labels
from deliveryhub.security.rbac import allowed

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

HERE = Path(__file__).parent
STATIC = HERE / "static" / "cs"
_ENV = Environment(
    loader=FileSystemLoader(str(HERE / "templates" / "cs")), autoescape=select_autoescape(["html"])
)
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

TEXT: dict[str, dict[str, str]] = {
    "ko": {
        "desk_title": "CS 데스크",
        "queue": "대기열",
        "all": "전체",
        "open": "진행 중",
        "pending": "고객 답변 대기",
        "solved": "해결",
        "mine": "내 티켓",
        "no_tickets": "대기 중인 티켓이 없어요.",
        "select": "왼쪽에서 티켓을 선택하세요.",
        "reply": "답변 보내기",
        "note": "내부 메모",
        "wait": "답변 후 고객 응답 대기",
        "suggest": "추천 답변 불러오기",
        "resolve": "해결 완료",
        "assign_me": "내가 맡기",
        "handback": "챗봇에게 돌려주기",
        "summary": "요약",
        "conversation": "대화",
        "customer": "고객 정보",
        "orders": "주문",
        "timeline": "단계 이력",
        "notifications": "발송한 알림",
        "claims": "클레임",
        "history": "지난 상담",
        "priority": "우선순위",
        "due": "SLA 기한",
        "overdue": "기한 초과",
        "verified": "본인 확인됨",
        "unverified": "본인 확인 전(마스킹)",
        "reply_placeholder": "고객에게 보낼 답변을 입력하세요",
        "sent": "전송했어요",
        "error": "오류",
        "tracking": "배송 추적",
        "eta": "도착 예정",
        "lang": "English",
        "metrics": "지표",
        "frt": "평균 1차 응답",
        "minutes": "분",
        "automation": "자동화율",
        "escalation": "상담원 연결률",
        "voc_rate": "VOC 응답률",
        "chat_title": "배송 상담 챗봇",
        "chat_placeholder": "메시지를 입력하세요",
        "send": "보내기",
        "photo": "사진 올리기",
        "chat_intro": "주문번호와 휴대폰 뒷자리(또는 알림 메시지의 링크)로 본인 확인 후 주문 정보를 "
        "안내해 드려요.",
        "agent_joined": "상담원",
        "bot": "챗봇",
        "you": "나",
        "rate": "만족도 평가",
        "faq_title": "FAQ 관리",
        "save": "저장",
        "candidates": "이번 주 FAQ 후보(답변하지 못한 질문)",
        "count": "횟수",
        "key": "키",
        "topic": "주제",
        "question_ko": "질문(한국어)",
        "answer_ko": "답변(한국어)",
        "question_en": "질문(영어)",
        "answer_en": "답변(영어)",
        "keywords": "키워드(쉼표로 구분)",
        "new": "새 항목",
        "key_hint": "영문 소문자·숫자·밑줄로 된 항목 이름(예: return_fee)",
        "question": "질문",
        "saved": "저장했어요",
        "name": "이름",
        "phone": "전화번호",
        "email": "이메일",
        "address": "주소",
        "order": "주문",
        "kind": "유형",
        "at": "시각",
        "status": "상태",
        "channel": "경로",
        "source": "출처",
        "stage": "단계",
        "notice": "안내",
        "manual": "직접 입력",
        "voc": "VOC",
        "subject": "제목",
        "unassigned": "담당자 없음",
        "search_placeholder": "주문번호·송장번호·전화번호·티켓번호로 찾기",
        "search": "찾기",
        "breached": "SLA 초과",
        "waiting_chat": "상담원 연결 대기",
        "any_channel": "모든 경로",
        "any_priority": "모든 우선순위",
        "prev": "이전",
        "next": "다음",
        "page_of": "{from}–{to} / 전체 {total}건",
    },
    "en": {
        "desk_title": "CS desk",
        "queue": "Queue",
        "all": "All",
        "open": "Open",
        "pending": "Waiting for customer",
        "solved": "Solved",
        "mine": "Mine",
        "no_tickets": "No tickets in the queue.",
        "select": "Select a ticket.",
        "reply": "Send reply",
        "note": "Internal note",
        "wait": "Wait for the customer after replying",
        "suggest": "Suggested reply",
        "resolve": "Resolve",
        "assign_me": "Assign to me",
        "handback": "Hand back to the bot",
        "summary": "Summary",
        "conversation": "Conversation",
        "customer": "Customer",
        "orders": "Orders",
        "timeline": "Stage timeline",
        "notifications": "Notices sent",
        "claims": "Claims",
        "history": "Past conversations",
        "priority": "Priority",
        "due": "SLA due",
        "overdue": "Overdue",
        "verified": "Verified",
        "unverified": "Not verified (masked)",
        "reply_placeholder": "Write your reply to the customer",
        "sent": "Sent",
        "error": "Error",
        "tracking": "Tracking",
        "eta": "ETA",
        "lang": "한국어",
        "metrics": "Metrics",
        "frt": "Avg first response",
        "minutes": " min",
        "automation": "Automation rate",
        "escalation": "Escalation rate",
        "voc_rate": "VOC response rate",
        "chat_title": "Delivery assistant",
        "chat_placeholder": "Type a message",
        "send": "Send",
        "photo": "Upload photo",
        "chat_intro": "After a quick check (order number + last 4 phone digits, or the link in our "
        "notification) I can show your order details.",
        "agent_joined": "Agent",
        "bot": "Assistant",
        "you": "You",
        "rate": "Rate us",
        "faq_title": "FAQ editor",
        "save": "Save",
        "candidates": "This week's FAQ candidates (unanswered questions)",
        "count": "Count",
        "key": "Key",
        "topic": "Topic",
        "question_ko": "Question (Korean)",
        "answer_ko": "Answer (Korean)",
        "question_en": "Question (English)",
        "answer_en": "Answer (English)",
        "keywords": "Keywords (comma separated)",
        "new": "New entry",
        "key_hint": "Entry name in lower-case letters, digits and underscores (e.g. return_fee)",
        "question": "Question",
        "saved": "Saved",
        "name": "Name",
        "phone": "Phone",
        "email": "E-mail",
        "address": "Address",
        "order": "Order",
        "kind": "Kind",
        "at": "At",
        "status": "Status",
        "channel": "Channel",
        "source": "Source",
        "stage": "Stage",
        "notice": "Notice",
        "manual": "entered by hand",
        "voc": "VOC",
        "subject": "Subject",
        "unassigned": "Unassigned",
        "search_placeholder": "Find by order, tracking, phone or ticket no.",
        "search": "Find",
        "breached": "SLA breached",
        "waiting_chat": "Chat waiting for an agent",
        "any_channel": "All channels",
        "any_priority": "All priorities",
        "prev": "Previous",
        "next": "Next",
        "page_of": "{from}–{to} of {total}",
    },
}


# The desk's order panel (templates/cs/desk_actions.js): its words, merged into the desk's strings.
DESK_ACTION_TEXT: dict[str, dict[str, str]] = {
    "ko": {
        "act_title": "주문 처리",
        "act_reason": "사유 (선택)",
        "act_cancel": "주문 취소",
        "act_cancel_sure": "이 주문을 취소할까요?",
        "act_resend": "안내 다시 보내기",
        "act_address_placeholder": "새 배송지 (예: 06236 서울 강남구 테헤란로 152, 101동 1203호)",
        "act_address_check": "주소 확인",
        "act_address_confirm": "이 주소로 변경",
        "act_return": "반품 접수",
        "act_exchange": "교환 접수",
        "act_inspect_pass": "검수 통과",
        "act_inspect_fail": "검수 불합격",
        "act_inspect_note": "검수 메모",
        "act_approve": "보상 승인",
        "act_approved": "보상을 승인했어요.",
        "act_events": "주문의 최근 이력",
        "act_photos": "고객이 보낸 사진",
        "act_photo": "사진",
        "rc_change_of_mind": "단순 변심",
        "rc_damaged": "파손",
        "rc_defective": "불량",
        "rc_wrong_item": "오배송",
        "rc_not_as_described": "상품 설명과 다름",
        "rc_other": "기타",
        "act_received": "입고 확인",
        "act_no_photo": "검수 사진 없음",
        "rk_return": "반품",
        "rk_exchange": "교환",
        "rs_requested": "접수",
        "rs_pickup_booked": "회수 예약",
        "rs_picked_up": "회수 완료",
        "rs_received": "입고",
        "rs_inspected": "검수 완료",
        "rs_inspection_failed": "검수 불합격",
        "rs_reshipped": "교환 상품 발송",
        "rs_refunded": "환불 완료",
        "rs_completed": "완료",
    },
    "en": {
        "act_title": "Order actions",
        "act_reason": "Reason (optional)",
        "act_cancel": "Cancel order",
        "act_cancel_sure": "Cancel this order?",
        "act_resend": "Resend notice",
        "act_address_placeholder": "New address (e.g. 06236 서울 강남구 테헤란로 152, 101동 1203호)",
        "act_address_check": "Check address",
        "act_address_confirm": "Change to this address",
        "act_return": "Open return",
        "act_exchange": "Open exchange",
        "act_inspect_pass": "Inspection passed",
        "act_inspect_fail": "Inspection failed",
        "act_inspect_note": "Inspection note",
        "act_approve": "Approve compensation",
        "act_approved": "Compensation approved.",
        "act_events": "Latest order events",
        "act_photos": "Photos from the customer",
        "act_photo": "Photo",
        "rc_change_of_mind": "Change of mind",
        "rc_damaged": "Damaged",
        "rc_defective": "Defective",
        "rc_wrong_item": "Wrong item",
        "rc_not_as_described": "Not as described",
        "rc_other": "Other",
        "act_received": "Mark received",
        "act_no_photo": "No inspection photo",
        "rk_return": "Return",
        "rk_exchange": "Exchange",
        "rs_requested": "Requested",
        "rs_pickup_booked": "Pickup booked",
        "rs_picked_up": "Picked up",
        "rs_received": "Received",
        "rs_inspected": "Inspected",
        "rs_inspection_failed": "Failed inspection",
        "rs_reshipped": "Exchange shipped",
        "rs_refunded": "Refunded",
        "rs_completed": "Completed",
    },
}
for _lang_code, _words in DESK_ACTION_TEXT.items():
    TEXT[_lang_code].update(_words)
DESK_ACTIONS_JS = HERE / "templates" / "cs" / "desk_actions.js"
# The label kinds the desk's scripts name things by (the order panel adds compensations and returns).
DESK_LABEL_KINDS = (*PAGE_KINDS, "compensation", "compensation_status", "return_reason", "outside_action")


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "ko"


def _page(name: str, lang: str, **ctx: Any) -> HTMLResponse:
    html = _ENV.get_template(name).render(
        lang=lang, t=TEXT[lang], i18n=json.dumps(TEXT[lang], ensure_ascii=False), **ctx
    )
    return HTMLResponse(html, headers={"cache-control": "no-store"})


def build_router(hub: Hub) -> APIRouter | None:
    """The page routes (None without the CS feature)."""
    if hub.chat is None:
        return None
    router = APIRouter(include_in_schema=False)

    def agent_page(template: str, request: Request, auth: PageAuth) -> Response:
        """A desk page for a signed-in agent (the login redirect otherwise)."""
        if auth.response is not None or auth.principal is None:
            return auth.response or RedirectResponse("/login", status_code=303)
        who = auth.principal
        lang = _lang(request)
        # The staff pages' one layout (templates/base.html: header, search, language, user); the desk's own
        # words are `c`, and its scripts also get the label table's names.
        strings: dict[str, Any] = {**TEXT[lang], "labels": label_tables(lang, DESK_LABEL_KINDS)}
        return render(
            request,
            "cs/" + template,
            auth,
            c=TEXT[lang],
            i18n=json.dumps(strings, ensure_ascii=False),
            tz=hub.settings.tz,
            user=who.name,
            topics=labels("faq_topic", lang),
            can_act=allowed(who.role, "tickets:act"),
        )

    @router.get("/tickets")
    def desk_page(
        request: Request, auth: Annotated[PageAuth, Depends(page_require("tickets:read"))]
    ) -> Response:
        return agent_page("desk.html", request, auth)

    @router.get("/static/desk/actions.js")
    def desk_actions_js() -> Response:
        # The desk's order panel script (the page's CSP allows scripts from this origin only).
        return FileResponse(
            DESK_ACTIONS_JS, media_type=STATIC_TYPES[".js"], headers={"cache-control": "max-age=300"}
        )

    @router.get("/tickets/faq")
    def faq_page(
        request: Request, auth: Annotated[PageAuth, Depends(page_require("tickets:read"))]
    ) -> Response:
        return agent_page("faq.html", request, auth)

    @router.get("/chat")
    def chat_page(request: Request) -> Response:
        # /chat?t=<token> (or token=): the signed tracking-link token; chat.js reads it from the address
        # and opens the conversation with it. The language switch keeps it.
        lang = _lang(request)
        token = request.query_params.get("t") or request.query_params.get("token") or ""
        other = "ko" if lang == "en" else "en"
        # Under a shop's prefix (/s/<slug>/chat) the widget talks to that shop's API (root_path is set by
        # the platform's front door, from a validated slug only).
        base = str(request.scope.get("root_path") or "")
        lang_link = f"{base}/chat?lang={other}" + (f"&t={quote(token[:400], safe='')}" if token else "")
        page = _page("chat.html", lang, lang_link=lang_link, base=base)
        if token:
            page.headers["referrer-policy"] = "no-referrer"  # the token must not leak through Referer
        return page

    @router.get("/static/chat/{name}")
    def static(name: str) -> Response:
        path = (STATIC / name).resolve()
        if path.parent != STATIC.resolve() or not path.is_file() or path.suffix not in STATIC_TYPES:
            raise ApiError(404, "not_found", f"no static file {name}")
        return FileResponse(
            path, media_type=STATIC_TYPES[path.suffix], headers={"cache-control": "max-age=300"}
        )

    return router
