"""The desk queue on PostgreSQL with 2,000 open tickets: the same order, search, breach filter, counts and
pages as on SQLite (the queue's CASE ordering, FILTER counts and JSON test run on both)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key


def test_queue_on_postgres(busy_pg_hub: Any, seed: Any, chat_escalation: Any) -> None:
    hub = busy_pg_hub
    h = {"Authorization": f"Bearer {create_api_key(hub.db, 'agent', 'cs_agent')}"}
    mail = hub.chat.desk.create_ticket(
        channel="email", subject="배송 문의", text="언제 오나요?", order_id=seed.oid
    )
    with TestClient(create_app(hub, run_worker=False)) as c:
        tid = chat_escalation(c)

        def get(**params: Any) -> dict[str, Any]:
            r = c.get("/v1/tickets", params=params, headers=h)
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        first = get(limit=20)
        assert first["tickets"][0]["id"] == tid and first["total"] == seed.n + 2
        assert first["counts"]["waiting_chat"] == 1 and first["counts"]["pending"] == seed.n // 5
        dues = [t["first_due"] for t in first["tickets"][1:]]
        assert dues == sorted(dues)
        assert [t["id"] for t in get(q=seed.phone)["tickets"]] == [mail]
        late = get(breached="true", limit=1)
        assert 0 < late["total"] < seed.n and late["total"] == first["counts"]["breached"]
        seen = [t["id"] for off in range(0, seed.n + 2, 400) for t in get(limit=400, offset=off)["tickets"]]
        assert len(seen) == seed.n + 2 == len(set(seen))
