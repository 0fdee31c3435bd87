"""VOC relabels as training rows (issue 18 item 5): category validation, the newest relabel per ticket,
the customer's words (not the agent's) as the text, the chat conversation relabelled with its ticket."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.chatbot import relabel
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.desk import TicketNotFound

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class _Db:
    """The two context managers export_relabels uses, over one SQLite engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def read(self) -> Any:
        return self.engine.connect()


@pytest.fixture
def engine() -> sa.Engine:
    eng = sa.create_engine("sqlite://")
    tables = [ct.tickets, ct.ticket_messages, ct.chat_sessions, ct.voc_relabels]
    ct.tickets.metadata.create_all(eng, tables=tables)
    with eng.begin() as conn:
        for tid, session in ((1, None), (2, "s-2")):
            conn.execute(
                ct.tickets.insert().values(
                    id=tid,
                    created_at=NOW,
                    updated_at=NOW,
                    channel="chat" if session else "email",
                    subject=f"문의 {tid}",
                    status="open",
                    priority="normal",
                    priority_rank=2,
                    session_id=session,
                    customer_verified=False,
                    voc_category="delivery_delay",
                    canonical_id=f"tk-{tid}",
                )
            )
        conn.execute(
            ct.chat_sessions.insert().values(
                session_id="s-2",
                created_at=NOW,
                updated_at=NOW,
                lang="ko",
                state="handed_off",
                verified=False,
                verify_failures=0,
                low_conf_streak=0,
                clarified=False,
                bot_answers=0,
                voc_category="delivery_delay",
            )
        )
        conn.execute(
            ct.ticket_messages.insert(),
            [
                {"ticket_id": 1, "at": NOW, "author_kind": "customer", "text": "문자로 온다더니"},
                {"ticket_id": 1, "at": NOW, "author_kind": "agent", "text": "확인해 볼게요"},
                {"ticket_id": 1, "at": NOW, "author_kind": "customer", "text": "안내가 엉망이네요"},
            ],
        )
    return eng


def test_category_must_be_one_of_the_eleven() -> None:
    assert relabel.check_category("status_notice") == "status_notice"
    for bad in ("late", "", None, 3, "Delivery_delay"):
        with pytest.raises(ValueError, match=r"^category: one of delivery_delay, "):
            relabel.check_category(bad)


def test_newest_relabel_per_ticket_with_the_customers_words(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        out = relabel.relabel_ticket(conn, 1, "cs_response", "lead", NOW)
        assert out["previous"] == "delivery_delay" and out["voc_category"] == "cs_response"
        relabel.relabel_ticket(conn, 1, "status_notice", "lead", NOW + timedelta(minutes=1))
        relabel.relabel_ticket(conn, 2, "missing", "lead", NOW)
        with pytest.raises(TicketNotFound):
            relabel.relabel_ticket(conn, 99, "missing", "lead", NOW)
        with pytest.raises(ValueError, match="category"):
            relabel.relabel_ticket(conn, 1, "nope", "lead", NOW)
    with engine.connect() as conn:
        rows = relabel.training_rows(conn)
        assert rows == [
            {"text": "문자로 온다더니 안내가 엉망이네요", "category": "status_notice"},
            {"text": "문의 2", "category": "missing"},  # no customer message: the subject
        ]
        assert [(h["from"], h["to"]) for h in relabel.history(conn, 1)] == [
            ("cs_response", "status_notice"),
            ("delivery_delay", "cs_response"),
        ]
        session_cat = conn.execute(sa.select(ct.chat_sessions.c.voc_category)).scalar()
        assert session_cat == "missing"  # the chat's category follows its ticket (CS metrics count chats)
    path = tmp_path / "out" / "relabels.jsonl"
    assert relabel.export_relabels(_Db(engine), path) == f"2 VOC relabels -> {path}"
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert lines == rows
