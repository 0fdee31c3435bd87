"""One table of the names people read, Korean first and English: order stages, tracking tags,
exceptions, CS intents, carriers, channels, priorities, event types, notice templates, ticket statuses,
claims. The bot, the notices, the pages and the report all read it, so a stage has one name everywhere."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

Pair = tuple[str, str]  # (Korean, English)

# Kinds and their entries. Keys are the codes the hub stores; the wording is what a customer or an
# operator reads (해요체-neutral nouns, no trailing punctuation).
_TABLE: Final[dict[str, dict[str, Pair]]] = {
    # Order lifecycle (domain/lifecycle.py STAGES + SIDE_STATES).
    "stage": {
        "received": ("주문 접수", "Order received"),
        "stock_confirmed": ("상품 준비 중", "Being prepared"),
        "picked_packed": ("포장 완료", "Packed"),
        "waybill_created": ("출고 준비(송장 발급)", "Ready to ship (waybill issued)"),
        "handed_over": ("택배사 인계", "Handed to the carrier"),
        "in_transit": ("배송 중", "In transit"),
        "out_for_delivery": ("배송 출발", "Out for delivery"),
        "delivered": ("배송 완료", "Delivered"),
        "cancelled": ("주문 취소", "Cancelled"),
        "delivery_failed": ("배송 실패", "Delivery failed"),
        "returned": ("반품 완료", "Returned"),
    },
    # Normalised carrier tracking tags (contracts/events.py TRACKING_TAGS).
    "tag": {
        "pending": ("접수 대기", "Pending"),
        "info_received": ("운송장 등록", "Label created"),
        "in_transit": ("이동 중", "In transit"),
        "out_for_delivery": ("배송 출발", "Out for delivery"),
        "attempt_fail": ("배달 시도 실패", "Delivery attempt failed"),
        "delivered": ("배송 완료", "Delivered"),
        "available_for_pickup": ("보관 중(수령 대기)", "Ready for pickup"),
        "exception": ("배송 이상", "Exception"),
        "expired": ("조회 만료", "Tracking expired"),
    },
    # Monitors' exception types (monitors/config.py EXCEPTION_TYPES).
    "exception": {
        "stock_shortage": ("재고 부족", "Stock shortage"),
        "inventory_mismatch": ("재고 불일치", "Inventory mismatch"),
        "dispatch_delay": ("출고 지연", "Dispatch delay"),
        "waybill_missing": ("송장 미발행", "Waybill missing"),
        "handover_missing": ("택배사 미집하", "Handover missing (forgotten parcel)"),
        "tracking_stale": ("배송 추적 정체", "Tracking stale"),
        "delay_risk": ("배송 지연 예상", "Delay risk"),
        "delivery_delay": ("배송 지연", "Delivery delay"),
        "delivery_failed": ("배송 실패", "Delivery failed"),
        "pick_error": ("피킹 오류", "Pick error"),
        "duplicate_order": ("중복 주문 의심", "Duplicate order"),
        "notice_missing": ("고객 안내 누락", "Notice missing"),
    },
    # CS intents (chatbot/nlu/model.py INTENTS).
    "intent": {
        "track_order": ("배송 조회", "Order tracking"),
        "delivery_delay": ("배송 지연 문의", "Delivery delay"),
        "missing_delivery": ("상품 미수령", "Not received"),
        "wrong_item": ("오배송", "Wrong item"),
        "damaged_item": ("상품 파손", "Damaged item"),
        "cancel_order": ("주문 취소", "Cancel order"),
        "change_address": ("배송지 변경", "Change address"),
        "return_request": ("반품 신청", "Return request"),
        "exchange_request": ("교환 신청", "Exchange request"),
        "refund_status": ("환불 문의", "Refund status"),
        "payment_issue": ("결제 문의", "Payment issue"),
        "stock_inquiry": ("재입고 문의", "Stock inquiry"),
        "notification_issue": ("알림 설정", "Notifications"),
        "human_agent": ("상담원 연결", "Talk to a person"),
        "other": ("기타 문의", "Other"),
    },
    "carrier": {
        "cj": ("CJ대한통운", "CJ Logistics"),
        "lotte": ("롯데택배", "Lotte Global Logistics"),
        "hanjin": ("한진택배", "Hanjin"),
        "epost": ("우체국택배", "Korea Post"),
        "logen": ("로젠택배", "Logen"),
    },
    # Sales channels an order comes from (simulator, KPI `channel` dimension, bench).
    "channel": {
        "own": ("자사몰", "Own store"),
        "web": ("자사몰(웹)", "Web store"),
        "app": ("자사몰(앱)", "App"),
        "naver": ("네이버 스마트스토어", "Naver Smart Store"),
        "coupang": ("쿠팡", "Coupang"),
        "kakao": ("카카오톡 쇼핑", "Kakao Shopping"),
        "11st": ("11번가", "11st"),
        "gmarket": ("G마켓", "Gmarket"),
        "auction": ("옥션", "Auction"),
        "ssg": ("SSG닷컴", "SSG.com"),
        "shopify": ("Shopify", "Shopify"),
        "olist": ("Olist", "Olist"),
    },
    # Channels a notice goes out on (notifications/rules.py CHANNELS).
    "notice_channel": {
        "kakao": ("알림톡", "KakaoTalk"),
        "sms": ("문자", "SMS"),
        "email": ("이메일", "E-mail"),
        "webhook": ("웹훅", "Webhook"),
        "console": ("콘솔", "Console"),
        "slack": ("슬랙", "Slack"),
        "kakaowork": ("카카오워크", "KakaoWork"),
    },
    # CS ticket priorities (chatbot desk SLA policies).
    "priority": {
        "urgent": ("긴급", "Urgent"),
        "high": ("높음", "High"),
        "normal": ("보통", "Normal"),
        "low": ("낮음", "Low"),
    },
    # Canonical event types (contracts/events.py DATA_MODELS) and the notices' own facts.
    "event_type": {
        "order.created": ("주문 생성", "Order created"),
        "order.paid": ("결제 완료", "Order paid"),
        "order.cancelled": ("주문 취소", "Order cancelled"),
        "order.address_changed": ("배송지 변경", "Address changed"),
        "inventory.reserved": ("재고 할당", "Stock reserved"),
        "inventory.shortage": ("재고 부족", "Stock shortage"),
        "inventory.snapshot": ("재고 현황", "Stock snapshot"),
        "fulfillment.picked": ("피킹 완료", "Picked"),
        "fulfillment.packed": ("포장 완료", "Packed"),
        "fulfillment.pick_error": ("피킹 오류", "Pick error"),
        "shipment.waybill_created": ("송장 발급", "Waybill issued"),
        "shipment.handed_over": ("택배사 인계", "Handed to the carrier"),
        "shipment.tracking": ("배송 추적", "Tracking scan"),
        "shipment.delivered": ("배송 완료", "Delivered"),
        "shipment.delivery_failed": ("배송 실패", "Delivery failed"),
        "shipment.eta_updated": ("도착 예정일 변경", "ETA updated"),
        "return.requested": ("반품 신청", "Return requested"),
        "return.picked_up": ("반품 회수", "Return picked up"),
        "return.received": ("반품 입고", "Return received"),
        "return.refunded": ("환불 완료", "Refunded"),
        "exchange.requested": ("교환 신청", "Exchange requested"),
        "exchange.completed": ("교환 완료", "Exchange completed"),
        "claim.opened": ("클레임 접수", "Claim opened"),
        "compensation.issued": ("보상 지급", "Compensation issued"),
        "ticket.created": ("문의 접수", "Ticket created"),
        "ticket.replied": ("문의 답변", "Ticket replied"),
        "ticket.resolved": ("문의 해결", "Ticket resolved"),
        "ticket.recategorized": ("VOC 분류 변경", "VOC category corrected"),
        "survey.answered": ("만족도 응답", "Survey answered"),
        "cost.recorded": ("비용 기록", "Cost recorded"),
        "notification.sent": ("고객 안내 발송", "Notice sent"),
        "x-notification.sent": ("고객 안내 발송(외부 시스템)", "Notice sent (another system)"),
        "exception.opened": ("예외 발생", "Exception opened"),
        "exception.resolved": ("예외 해소", "Exception resolved"),
    },
    # Notice templates (notifications/templates/messages.*.yaml).
    "template": {
        "order_received": ("주문 접수 안내", "Order received"),
        "order_paid": ("결제 완료 안내", "Payment confirmed"),
        "order_packed": ("포장 완료 안내", "Order packed"),
        "waybill_created": ("송장 발급 안내", "Tracking number issued"),
        "handed_over": ("발송 안내", "Order shipped"),
        "out_for_delivery": ("배송 출발 안내", "Out for delivery"),
        "delivered": ("배송 완료 안내", "Delivered"),
        "delivery_failed": ("배송 실패 안내", "Delivery attempt failed"),
        "order_cancelled": ("주문 취소 안내", "Order cancelled"),
        "delay_predicted": ("배송 지연 예상 안내", "Delivery may be late"),
        "delivery_delayed": ("배송 지연 안내", "Delivery delayed"),
        "eta_revised": ("도착 예정일 변경 안내", "New delivery estimate"),
        "return_requested": ("반품 신청 접수", "Return requested"),
        "return_picked_up": ("반품 회수 안내", "Return picked up"),
        "return_received": ("반품 입고 안내", "Return received"),
        "return_refunded": ("환불 완료 안내", "Refund complete"),
        "exchange_requested": ("교환 신청 접수", "Exchange requested"),
        "exchange_completed": ("교환 완료 안내", "Exchange complete"),
        "claim_opened": ("문의 접수 안내", "Claim received"),
        "compensation_issued": ("보상 지급 안내", "Compensation issued"),
        "review_coupon": ("리뷰 쿠폰 안내", "Review coupon"),
        "ops_claim_opened": ("[운영] 클레임 접수", "[ops] Claim opened"),
        "ops_delivery_failed": ("[운영] 배송 실패", "[ops] Delivery failed"),
        "ops_alert": ("[운영] 알림", "[ops] Alert"),
        "webhook_event": ("웹훅 이벤트", "Webhook event"),
    },
    # The CS desk's SLA targets (chatbot/sla.py), as an alert names them.
    "sla_metric": {
        "first_response": ("1차 응답", "First response"),
        "next_response": ("추가 응답", "Next response"),
        "resolution": ("해결", "Resolution"),
    },
    # CS desk ticket statuses (chatbot/desk.py STATUSES).
    "ticket_status": {
        "open": ("진행 중", "Open"),
        "pending": ("고객 답변 대기", "Waiting for customer"),
        "solved": ("해결", "Solved"),
    },
    # Claim kinds (chatbot desk, notices, compensation rules).
    "claim": {
        "delay": ("배송 지연", "Delay"),
        "damage": ("파손", "Damage"),
        "wrong_item": ("오배송", "Wrong item"),
        "missing": ("분실·미수령", "Missing item"),
        "other": ("기타", "Other"),
    },
    # What a compensation is paid as.
    "compensation": {
        "coupon": ("쿠폰", "Coupon"),
        "refund": ("환불", "Refund"),
        "points": ("적립금", "Points"),
    },
    # Why a parcel is late or failed (carrier scans, notices, bot).
    "reason": {
        "weather_delay": ("기상 악화", "Bad weather"),
        "customs": ("통관 절차", "Customs clearance"),
        "address_not_found": ("주소 확인 불가", "Address not found"),
        "address_issue": ("주소 확인 필요", "Address problem"),
        "refused": ("수취 거부", "Refused"),
        "damaged": ("파손", "Damaged"),
        "lost": ("분실", "Lost"),
        "recipient_absent": ("수취인 부재", "Recipient not available"),
        "volume": ("물량 증가", "High volume"),
        "capacity": ("물량 증가", "High volume"),
        "holiday": ("연휴 물량", "Holiday volume"),
    },
    # Why the bot hands a conversation to a person (chatbot/dialogue.py REASON_TEXT).
    "escalation": {
        "human_request": ("상담원 연결 요청", "Asked for a person"),
        "threat": ("분쟁·신고 언급", "Mentions a complaint to authorities or legal action"),
        "anger": ("강한 불만 표현", "Strong anger"),
        "repeat_contact": ("같은 주문 반복 문의", "Repeat contact about the same order"),
        "multi_problem": ("여러 문제 동시 제기", "Several problems at once"),
        "long_wait": ("며칠·몇 주째 기다림", "Waiting for days or weeks"),
        "harm": ("사람이 다치거나 안전 문제", "Someone hurt or a safety risk"),
        "low_confidence": ("챗봇이 두 번 연속 이해하지 못함", "The bot did not understand twice"),
        "claim_amount": ("자동 승인 한도를 넘는 클레임", "Claim above the auto-approval amount"),
        "vip": ("VIP 고객", "VIP customer"),
        "double_charge": ("중복 결제 의심", "Possible double charge"),
        "missing_old": ("배송 완료 후 2일 넘은 미수령", "Not received, delivered more than 2 days ago"),
        "verify_failed": ("본인 확인 반복 실패", "Identity check failed repeatedly"),
    },
    # Where a customer contacted the shop (chatbot desk ticket channels).
    "contact_channel": {
        "chat": ("채팅 상담", "Chat"),
        "phone": ("전화", "Phone"),
        "email": ("이메일", "E-mail"),
        "kakao": ("카카오톡 상담", "KakaoTalk"),
        "sms": ("문자", "SMS"),
        "web": ("웹 문의", "Web form"),
        "board": ("게시판", "Q&A board"),
        "marketplace": ("마켓 문의", "Marketplace inquiry"),
        "claim": ("클레임 접수", "Claim"),
    },
    # Who wrote a message in a conversation or ticket.
    "author": {
        "customer": ("고객", "Customer"),
        "bot": ("챗봇", "Bot"),
        "agent": ("상담원", "Agent"),
        "system": ("시스템", "System"),
        "note": ("내부 메모", "Internal note"),
    },
    # A message's tone (chatbot/voc.py SENTIMENTS).
    "sentiment": {
        "positive": ("긍정", "Positive"),
        "neutral": ("중립", "Neutral"),
        "negative": ("부정", "Negative"),
    },
    # Why a notice was not sent (notifications sender/intake `last_error` codes; providers' own texts pass).
    "notice_error": {
        "no_channel": ("보낼 수 있는 연락처·채널 없음", "No contact or channel to send on"),
        "opted_out": ("고객이 수신 거부", "The customer opted out"),
        "no_ad_consent": ("광고 수신 동의 없음", "No consent to advertising"),
        "quiet_hours": ("야간 발송 제한", "Quiet hours"),
        "expired": ("발송 기한 지남", "Past its send-by time"),
        "no_order": ("주문 정보 없음", "No such order"),
    },
    # The platform operator's cross-shop overview (/platform).
    "platform_page": {
        "title": ("판매자 현황", "Sellers overview"),
        "intro": (
            "이 허브에 있는 모든 판매자의 지연 주문, 연동 무응답, 처리할 예외와 이번 달 사용량입니다.",
            "Every seller on this hub: late orders, silent integrations, open exceptions, usage this month.",
        ),
        "seller": ("판매자", "Seller"),
        "created": ("등록일", "Since"),
        "late_orders": ("지연 주문", "Late orders"),
        "late_hint": (
            "약속 배송일이 지났는데 아직 배송 완료·취소·반품되지 않은 주문",
            "Past the promised date and not yet delivered, cancelled or returned",
        ),
        "open_exceptions": ("처리할 예외", "Open exceptions"),
        "integrations": ("연동 상태", "Integrations"),
        "silent": ("무응답", "Silent"),
        "all_ok": ("정상", "All sending"),
        "no_events": ("아직 이벤트 없음", "No events yet"),
        "last_event": ("마지막 이벤트", "Last event"),
        "usage": ("이번 달 사용량", "Usage this month"),
        "events": ("이벤트", "Events"),
        "notices": ("알림 발송", "Notices sent"),
        "chats": ("채팅", "Chats"),
        "report": ("월간 리포트", "Monthly report"),
        "this_month": ("이번 달", "This month"),
        "last_month": ("지난달", "Last month"),
        "sellers_n": ("판매자 {n}곳", "{n} sellers"),
        "late_sellers": ("지연 주문이 있는 판매자 {n}곳", "{n} with late orders"),
        "silent_sellers": ("연동 무응답 판매자 {n}곳", "{n} with silent integrations"),
        "updated": ("기준 시각", "As of"),
        "count": ("{n}건", "{n}"),
        "not_found": ("판매자를 찾을 수 없습니다.", "No such seller."),
        "bad_month": ("월은 YYYY-MM 형식으로 적어 주세요.", "Give the month as YYYY-MM."),
        "back": ("판매자 현황으로", "Back to the sellers"),
    },
    # Staff roles (security/rbac.py ROLES).
    "role": {
        "admin": ("관리자", "Administrator"),
        "ops": ("운영 담당", "Operations"),
        "cs_agent": ("상담원", "CS agent"),
        "analyst": ("분석 담당", "Analyst"),
        "integration": ("연동 계정", "Integration"),
        "auditor": ("감사 담당", "Auditor"),
        "platform": ("플랫폼 운영자", "Platform operator"),
    },
    # FAQ topics (the desk's FAQ editor).
    "faq_topic": {
        "policy": ("정책·배송비", "Policy and fees"),
        "payment": ("결제", "Payment"),
        "stock": ("재고·재입고", "Stock"),
        "notification": ("알림", "Notifications"),
        "account": ("계정", "Account"),
        "other": ("기타", "Other"),
    },
    # Voice-of-customer categories (chatbot/voc.py CATEGORIES, the KPI report).
    "voc": {
        "delivery_delay": ("배송 지연", "Delivery delay"),
        "wrong_item": ("오배송·구성 누락", "Wrong item"),
        "damaged": ("파손·불량 도착", "Damaged"),
        "missing": ("분실·미수령", "Missing"),
        "status_notice": ("배송상태 안내 미흡", "Status notice"),
        "cs_response": ("응대 지연·불친절", "CS response"),
        "return_exchange": ("반품·교환·환불", "Returns/exchanges"),
        "product_quality": ("상품 품질", "Product quality"),
        "price_payment": ("가격·결제·쿠폰", "Price/payment"),
        "positive": ("만족·칭찬", "Positive"),
        "other": ("기타", "Other"),
    },
    # Delivery state of a notice (notifications/admin.py STATUSES; provider receipts use the same words).
    "notice_status": {
        "pending": ("발송 대기", "Waiting"),
        "sending": ("발송 중", "Sending"),
        "retry": ("재시도 예정", "Retrying"),
        "sent": ("발송됨", "Sent"),
        "accepted": ("접수됨", "Accepted"),
        "delivered": ("수신 확인", "Delivered"),
        "failed": ("실패", "Failed"),
        "dead": ("최종 실패", "Gave up"),
        "suppressed": ("발송 안 함(수신 거부·야간)", "Not sent (opt-out or quiet hours)"),
    },
    # Operational exception states (monitors/read.py STATUSES).
    "exception_status": {
        "open": ("미처리", "Open"),
        "acknowledged": ("확인함", "Acknowledged"),
        "resolved": ("해소", "Resolved"),
    },
    # The facts a monitor keeps as an exception's evidence (monitors/rules.py), as an operator reads them.
    "evidence": {
        "stage": ("단계", "Stage"),
        "stage_at": ("단계 시각", "Stage reached at"),
        "due_at": ("기한", "Due at"),
        "days_late": ("지연 일수", "Days late"),
        "min_days_late": ("기준 지연 일수", "Days late threshold"),
        "promised_date": ("약속 배송일", "Promised date"),
        "eta_min": ("도착 예정(최소)", "ETA from"),
        "eta_max": ("도착 예정(최대)", "ETA until"),
        "late_probability": ("지연 확률", "Probability of delay"),
        "min_probability": ("기준 확률", "Probability threshold"),
        "shipment_id": ("택배 ID", "Parcel ID"),
        "carrier": ("택배사", "Carrier"),
        "tracking_no": ("송장번호", "Tracking no."),
        "status": ("상태", "Status"),
        "last_update": ("마지막 갱신", "Last update"),
        "hours_silent": ("무소식 시간", "Hours without news"),
        "hours": ("기준 시간", "Threshold hours"),
        "grace_hours": ("유예 시간", "Grace hours"),
        "minutes": ("기준 분", "Threshold minutes"),
        "paid_at": ("결제 시각", "Paid at"),
        "packed_at": ("포장 시각", "Packed at"),
        "waybill_at": ("송장 발급 시각", "Waybill issued at"),
        "waybill_due": ("송장 발급 기한", "Waybill due"),
        "handover_due": ("인계 기한", "Handover due"),
        "ship_by": ("출고 기한", "Ship by"),
        "cutoff": ("당일 출고 마감", "Same-day cutoff"),
        "pack_due": ("포장 기한", "Pack due"),
        "pack_business_hours": ("포장 기준(영업시간)", "Pack target (business hours)"),
        "business_hours_waited": ("대기 시간(영업시간)", "Waited (business hours)"),
        "reason": ("사유", "Reason"),
        "parcels": ("택배 수", "Parcels"),
        "sku": ("상품 코드", "SKU"),
        "system": ("시스템 재고", "System stock"),
        "counted": ("실사 재고", "Counted"),
        "difference": ("차이", "Difference"),
        "claim_kind": ("클레임 유형", "Claim kind"),
        "claim_amount": ("클레임 금액", "Claim amount"),
        "raw_status": ("택배사 표기", "Carrier's wording"),
        "occurred_at": ("발생 시각", "Occurred at"),
        "threshold": ("기준", "Threshold"),
    },
    # Where an event came from (contracts/events.py sources); a carrier source reads as the carrier.
    "source": {
        "oms": ("주문 시스템(OMS)", "Order system (OMS)"),
        "wms": ("창고 시스템(WMS)", "Warehouse (WMS)"),
        "tms": ("운송 시스템(TMS)", "Transport (TMS)"),
        "crm": ("고객 관리(CRM)", "CRM"),
        "erp": ("ERP", "ERP"),
        "chatbot": ("챗봇", "Chatbot"),
        "sim": ("시뮬레이터", "Simulator"),
        "ui": ("운영자 화면", "Operator screen"),
        "cs": ("CS 데스크", "CS desk"),
        "monitors": ("자동 감시", "Monitors"),
        "carrier": ("택배사", "Carrier"),
        "manual": ("직접 입력", "Entered by hand"),
        "operator": ("운영자 입력", "Entered by an operator"),
        "shop": ("쇼핑몰", "Shop"),
        "monitor": ("자동 감시", "Monitors"),
        "hub": ("딜리버리허브", "deliveryhub"),
        "naver": ("네이버 스마트스토어", "Naver Smart Store"),
        "coupang": ("쿠팡", "Coupang"),
        "cafe24": ("카페24", "Cafe24"),
    },
    # A compensation decision's state (monitors/tables.py monitor_compensations.status).
    "compensation_status": {
        "pending_issue": ("지급 예정", "To be issued"),
        "pending_approval": ("승인 대기", "Waiting for approval"),
        "issued": ("지급 완료", "Issued"),
        "rejected": ("반려", "Rejected"),
    },
    # Words of the customer's tracking page (notifications/tracking.py); polite, to the customer.
    "track_page": {
        "title": ("배송 조회", "Delivery tracking"),
        "greeting": ("님의 주문", "· your order"),
        "order": ("주문번호", "Order"),
        "eta": ("도착 예정", "Expected delivery"),
        "promised": ("약속드린 도착일", "Promised delivery date"),
        "timeline": ("진행 내역", "Timeline"),
        "parcel": ("택배사 / 송장번호", "Carrier / tracking no."),
        "parcel_n": ("상자 {n}", "Parcel {n}"),
        "scans": ("택배 이동 내역", "Parcel journey"),
        "last_scan": ("마지막 확인", "Last update"),
        "no_scans": (
            "택배사에서 아직 이동 정보를 보내지 않았어요.",
            "The carrier has not sent any update yet.",
        ),
        "carrier_link": ("택배사에서 직접 조회", "Track at the carrier"),
        "late": (
            "약속드린 도착일 {promised}보다 {days}일 늦어지고 있어요. 기다리게 해 드려 죄송합니다.",
            "Your order is {days} day(s) past the promised date ({promised}). We are sorry for the wait.",
        ),
        "late_eta": ("지금 예상 도착은 {eta}이에요.", "It is now expected {eta}."),
        "late_reason": ("지연 사유: {reason}", "Reason: {reason}"),
        "at_risk": (
            "약속드린 도착일 {promised}보다 늦어질 수 있어요. 지금 예상 도착은 {eta}이에요.",
            "Your order may arrive after the promised date ({promised}); it is now expected {eta}.",
        ),
        "due_today": ("오늘 도착 예정이에요.", "Your order is due today."),
        "on_time": ("약속드린 도착일 {promised}까지 도착할 예정이에요.", "On track for {promised}."),
        "delivered_late": (
            "약속드린 도착일보다 {days}일 늦게 도착했어요. 기다려 주셔서 감사합니다.",
            "Delivered {days} day(s) after the promised date. Thank you for waiting.",
        ),
        "chat": ("챗봇 상담하기", "Chat with us"),
        "chat_hint": (
            "주문번호 입력 없이 이 주문에 대해 바로 물어보실 수 있어요.",
            "Ask about this order right away, no order number needed.",
        ),
    },
    # Words of the order page, the order search and the KPI drill-down (views/, entrypoints/web).
    "order_page": {
        "title": ("주문 상세", "Order details"),
        "summary": ("한눈에 보기", "At a glance"),
        "late_by": ("약속일보다 {days}일 늦음", "{days} day(s) past the promised date"),
        "late_today": ("오늘이 약속 배송일", "Due today"),
        "on_track": ("약속일 안에 진행 중", "On track for the promised date"),
        "delivered_late": ("약속일보다 {days}일 늦게 배송 완료", "Delivered {days} day(s) late"),
        "delivered_on_time": ("약속일 안에 배송 완료", "Delivered on time"),
        "no_promise": ("약속 배송일 없음", "No promised date"),
        "eta": ("도착 예정", "Expected delivery"),
        "eta_unknown": ("도착 예정 정보 없음", "No estimate yet"),
        "eta_after_promise": ("약속일을 넘겨 도착 예정", "Expected after the promised date"),
        "eta_within_promise": ("약속일 안에 도착 예정", "Expected by the promised date"),
        "eta_passed_promise": (
            "예정 시각이 지났고 새 예정이 없어요",
            "The estimate has passed; no new one yet",
        ),
        "open_exceptions": ("처리할 예외", "Open exceptions"),
        "no_open_exceptions": ("열린 예외가 없습니다.", "No open exceptions."),
        "resolved_exceptions": ("해소된 예외", "Resolved exceptions"),
        "opened_at": ("발생", "Opened"),
        "evidence": ("근거", "Evidence"),
        "parcel": ("택배", "Parcel"),
        "scans": ("택배사 스캔 내역", "Carrier scans"),
        "no_scans": ("아직 택배사 스캔이 없습니다.", "No carrier scans yet."),
        "last_scan": ("마지막 스캔", "Last scan"),
        "location": ("위치", "Location"),
        "detail": ("내용", "Details"),
        "notices": ("고객 안내 발송 내역", "Notices sent"),
        "no_notices": ("보낸 안내가 없습니다.", "No notices sent."),
        "notice_template": ("안내", "Notice"),
        "notice_channel": ("채널", "Channel"),
        "notice_status": ("전달 상태", "Delivery status"),
        "recipient": ("수신처", "Recipient"),
        "by_channel": ("채널별", "By channel"),
        "tickets": ("문의", "Tickets"),
        "no_tickets": ("이 주문의 문의가 없습니다.", "No tickets for this order."),
        "subject": ("제목", "Subject"),
        "priority": ("우선순위", "Priority"),
        "claims": ("클레임·반품·보상", "Claims, returns and compensation"),
        "no_claims": ("클레임이 없습니다.", "No claims."),
        "compensations": ("보상 결정", "Compensation decisions"),
        "amount": ("금액", "Amount"),
        "tracking_link": ("고객 배송 조회 링크", "Customer tracking link"),
        "copy_link": ("링크 복사", "Copy link"),
        "reissue_link": ("새 링크 발급(이전 링크 만료)", "New link (old links stop working)"),
        "link_copied": ("복사했습니다. 이 조회는 감사 기록에 남습니다.", "Copied. This look-up is audited."),
        "link_closed": ("이 주문의 조회 링크는 닫혀 있습니다.", "This order's tracking links are closed."),
        "link_failed": ("링크를 가져오지 못했습니다.", "Could not get the link."),
        "resend_link": ("고객에게 다시 보내기", "Send it to the customer again"),
        "link_resent": (
            "최근 안내를 새 조회 링크와 함께 다시 보냈습니다(발송 대기). 감사 기록에 남습니다.",
            "The latest notice is queued again with a fresh link. This is audited.",
        ),
        "link_no_notice": (
            "아직 고객에게 보낸 안내가 없어 다시 보낼 수 없습니다.",
            "No notice has been sent yet.",
        ),
        "days_late": ("지연 일수", "Days late"),
        "open_exception": ("열린 예외", "Open exception"),
        "search": ("주문 검색", "Order search"),
        "search_hint": (
            "주문번호·마켓 주문번호·송장번호·전화번호",
            "Order no., marketplace no., tracking no., phone",
        ),
        "search_results": ("검색 결과", "Search results"),
        "search_none": ("일치하는 주문이 없습니다.", "No matching order."),
        "matched_by": ("일치 항목", "Matched by"),
        "match_order_id": ("주문번호", "Order no."),
        "match_external_id": ("마켓 주문번호", "Marketplace order no."),
        "match_tracking_no": ("송장번호", "Tracking no."),
        "match_phone": ("전화번호", "Phone"),
        "actionable": ("지금 처리할 주문", "Orders to act on"),
        "all_behind": ("지표 근거 주문 전체", "All orders behind the number"),
        "show_all": ("전체 보기", "Show all"),
        "show_actionable": ("처리할 주문만", "Only orders to act on"),
    },
    # Words of a shop's own onboarding checklist (shops/checklist.py, the /shop/checklist page).
    "shop_page": {
        "title": ("상점 시작하기", "Getting the shop started"),
        "intro": (
            "아래 항목을 마치면 주문 추적과 고객 안내가 자동으로 돌아갑니다.",
            "Once these are done, order tracking and customer notices run on their own.",
        ),
        "progress": ("{done}/{total} 완료", "{done} of {total} done"),
        "done": ("완료", "Done"),
        "todo": ("할 일", "To do"),
        "next": ("다음 할 일", "Next step"),
        "shop": ("상점", "Shop"),
        "brand_color": ("브랜드 색상", "Brand colour"),
        "contact": ("고객 연락처", "Customer contact"),
        "none": ("없음", "None"),
        "connectors": ("연동 연결", "Connectors connected"),
        "connectors_done": ("연결된 출처: {sources}", "Connected sources: {sources}"),
        "connectors_todo": ("아직 연결된 시스템이 없습니다.", "No system is connected yet."),
        "connectors_next": (
            "연동 키를 만들어 주문 시스템(OMS)·창고(WMS)·택배사 연동에 넣으세요.",
            "Create an integration key and give it to your order system, warehouse and carrier feeds.",
        ),
        "first_events": ("첫 이벤트 수신", "First events received"),
        "first_events_done": (
            "이벤트 {n}건 · 첫 수신 {first} · 마지막 수신 {last}",
            "{n} event(s) · first received {first} · last received {last}",
        ),
        "first_events_todo": ("아직 받은 이벤트가 없습니다.", "No event has arrived yet."),
        "first_events_next": (
            "연동 키로 주문 이벤트를 보내세요(POST /v1/events). 도착하면 여기에 바로 표시됩니다.",
            "Send order events with the integration key (POST /v1/events); they show here as they arrive.",
        ),
        "templates": ("알림 템플릿 승인", "Notice templates approved"),
        "templates_done": (
            "고객 안내 {covered}/{rules}건이 설정된 채널({channels})로 나갑니다.",
            "{covered} of {rules} customer notices go out on the configured channels ({channels}).",
        ),
        "templates_todo": (
            "고객 안내 {covered}/{rules}건만 보낼 채널이 있습니다.",
            "Only {covered} of {rules} customer notices have a channel to go out on.",
        ),
        "templates_next": (
            "알림톡(카카오) 발신 프로필을 설정하고 같은 템플릿 코드로 검수를 받으세요. "
            "이메일만 쓰려면 SMTP를 설정하세요.",
            "Set up the KakaoTalk sender profile and get the templates approved under the same codes; "
            "for e-mail only, configure SMTP.",
        ),
        "test_notice": ("테스트 알림 발송", "Test notice sent"),
        "test_notice_done": ("마지막 발송 {at} ({channel})", "Last sent {at} ({channel})"),
        "test_notice_todo": ("아직 보낸 알림이 없습니다.", "No notice has been sent yet."),
        "test_notice_next": (
            "본인 이메일로 테스트 알림을 보내 채널이 동작하는지 확인하세요.",
            "Send a test notice to your own e-mail address to check the channel works.",
        ),
        "api_keys": ("API 키 발급", "API keys created"),
        "api_keys_done": ("사용 중인 키 {n}개", "{n} active key(s)"),
        "api_keys_todo": ("발급된 키가 없습니다.", "No key has been created yet."),
        "api_keys_next": (
            "연동용 키를 만드세요. 키는 한 번만 보이니 바로 안전한 곳에 보관하세요.",
            "Create an integration key; it is shown once, so store it safely right away.",
        ),
        "staff_users": ("담당자 계정 생성", "Staff accounts created"),
        "staff_users_done": ("담당자 {n}명", "{n} staff account(s)"),
        "staff_users_todo": ("담당자 계정이 없습니다.", "No staff account yet."),
        "staff_users_next": (
            "관리자 계정을 만들고, 상담원·운영 담당자 계정을 역할별로 추가하세요.",
            "Create an admin account, then add agents and operators with their roles.",
        ),
        "test_notice_subject": ("[{shop}] 테스트 알림", "[{shop}] Test notice"),
        "test_notice_text": (
            "[{shop}] 테스트 알림입니다. 이 메시지를 받으셨다면 고객 안내 채널이 정상적으로 연결된 것입니다.",
            "[{shop}] This is a test notice. If you received it, the customer notice channel works.",
        ),
    },
}

# What an unknown key of a known kind reads as; "{name}" is the key made readable. Stages and tags
# that we cannot name are "being checked" to a customer rather than a code.
_FALLBACK: Final[dict[str, Pair]] = {
    "stage": ("확인 중", "To be confirmed"),
    "tag": ("확인 중", "To be confirmed"),
    "exception": ("기타 예외({name})", "Other exception ({name})"),
    "intent": ("기타 문의", "Other"),
    "carrier": ("{name}", "{name}"),
    "channel": ("{name}", "{name}"),
    "notice_channel": ("{name}", "{name}"),
    "priority": ("보통", "Normal"),
    "event_type": ("기타 이벤트({name})", "Other event ({name})"),
    "template": ("안내({name})", "Notice ({name})"),
    "ticket_status": ("확인 중", "To be confirmed"),
    "sla_metric": ("{name}", "{name}"),
    "claim": ("기타", "Other"),
    "compensation": ("보상", "Compensation"),
    "reason": ("확인 중", "To be confirmed"),
    "escalation": ("기타 사유({name})", "Other reason ({name})"),
    "voc": ("기타", "Other"),
    "notice_status": ("{name}", "{name}"),
    "exception_status": ("{name}", "{name}"),
    "evidence": ("{name}", "{name}"),
    "order_page": ("{name}", "{name}"),
    "track_page": ("{name}", "{name}"),
    "compensation_status": ("{name}", "{name}"),
    "source": ("기타 출처({name})", "Other source ({name})"),
    "contact_channel": ("기타 경로", "Other"),
    "author": ("{name}", "{name}"),
    "sentiment": ("중립", "Neutral"),
    "role": ("{name}", "{name}"),
    "faq_topic": ("기타", "Other"),
    "notice_error": ("{name}", "{name}"),
    "shop_page": ("{name}", "{name}"),
    "platform_page": ("{name}", "{name}"),
}
assert set(_FALLBACK) == set(_TABLE)

KINDS: Final[tuple[str, ...]] = tuple(_TABLE)


def _readable(key: str) -> str:
    return key.replace("_", " ").replace(".", " ").strip() or "?"


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0  # Korean first: anything but "en" reads Korean


def label_pair(kind: str, key: str) -> Pair:
    """(Korean, English) name of `key` of `kind`, falling back to a readable name for unknown keys."""
    if kind == "source" and str(key).startswith("carrier:"):  # a carrier's own report
        return label_pair("carrier", str(key)[len("carrier:") :])
    table = _TABLE.get(kind)
    if table is None:
        name = _readable(str(key))
        return name, name
    pair = table.get(key)
    if pair is not None:
        return pair
    ko, en = _FALLBACK[kind]
    name = _readable(str(key))
    return ko.format(name=name), en.format(name=name)


def label(kind: str, key: str, lang: str = "ko") -> str:
    """The name people read for `key` of `kind` in `lang` ("ko" or "en")."""
    return label_pair(kind, key)[_index(lang)]


def labels(kind: str, lang: str = "ko") -> dict[str, str]:
    """Every known key of `kind` with its name in `lang` (a fresh dict)."""
    i = _index(lang)
    return {key: pair[i] for key, pair in _TABLE.get(kind, {}).items()}


def pairs(kind: str) -> MappingProxyType[str, Pair]:
    """Every known key of `kind` with its (Korean, English) names (read-only)."""
    return MappingProxyType(_TABLE.get(kind, {}))


def is_known(kind: str, key: str) -> bool:
    """Whether the table names `key` of `kind`."""
    return key in _TABLE.get(kind, {})
