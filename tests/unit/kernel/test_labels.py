"""One label table: every stage has one Korean name, every key other packages use is covered."""

from __future__ import annotations

from deliveryhub.contracts.events import EVENT_TYPES, TRACKING_TAGS
from deliveryhub.domain.lifecycle import SIDE_STATES, STAGES
from deliveryhub.kernel.labels import KINDS, is_known, label, label_pair, labels, pairs

REQUIRED_KINDS = (
    "stage", "tag", "exception", "intent", "carrier", "channel", "priority", "event_type", "template",
    "ticket_status", "claim",
)


def test_kinds():
    assert set(REQUIRED_KINDS) <= set(KINDS)


def test_stages_and_tags_and_events_are_all_named():
    for stage in (*STAGES, *SIDE_STATES):
        assert is_known("stage", stage), stage
    for tag in TRACKING_TAGS:
        assert is_known("tag", tag), tag
    for et in EVENT_TYPES:
        assert is_known("event_type", et), et


def test_one_korean_wording_per_stage():
    assert label("stage", "stock_confirmed") == "상품 준비 중"
    assert label("stage", "stock_confirmed", "en") == "Being prepared"
    assert label("stage", "delivered", "xx") == "배송 완료"  # Korean first
    assert labels("stage")["handed_over"] == "택배사 인계"


def test_unknown_keys_read_well():
    assert label("stage", "teleported") == "확인 중"
    assert label("stage", "teleported", "en") == "To be confirmed"
    assert label("exception", "odd_thing", "en") == "Other exception (odd thing)"
    assert label("nokind", "some_key") == "some key"
    assert label_pair("carrier", "cj") == ("CJ대한통운", "CJ Logistics")


def test_table_is_complete_and_read_only():
    for kind in KINDS:
        for key, (ko, en) in pairs(kind).items():
            assert ko and en, (kind, key)
    assert labels("nokind") == {}


def test_covers_the_codes_other_packages_use():
    from deliveryhub.chatbot.nlu.model import INTENTS
    from deliveryhub.monitors.config import EXCEPTION_TYPES

    for intent in INTENTS:
        assert is_known("intent", intent), intent
    for exc in EXCEPTION_TYPES:
        assert is_known("exception", exc), exc
    for code in ("cj", "lotte", "hanjin", "epost", "logen"):
        assert is_known("carrier", code)
    for status in ("open", "pending", "solved"):
        assert is_known("ticket_status", status)
    for prio in ("urgent", "high", "normal", "low"):
        assert is_known("priority", prio)


def test_a_carrier_source_reads_as_the_carrier_and_page_kinds_are_named():
    assert label("source", "carrier:cj") == "CJ대한통운" and label("source", "carrier:logen", "en") == "Logen"
    assert label("source", "wms") == "창고 시스템(WMS)"
    assert label("contact_channel", "kakao") == "카카오톡 상담"
    assert label("contact_channel", "claim") == "클레임 접수"
    assert label("role", "admin") == "관리자" and label("faq_topic", "payment", "en") == "Payment"
    assert label("notice_error", "no_channel") == "보낼 수 있는 연락처·채널 없음"
