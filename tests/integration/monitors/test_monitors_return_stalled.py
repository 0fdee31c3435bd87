"""A stalled return step is an exception for the operators until the return moves on; exceptions that
other features open through the port (return_stalled, action_failed) are real exception types."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from deliveryhub.monitors.tables import exceptions
from deliveryhub.service_layer.ports import ExceptionRequest
from dh_testkit import drain, event, make_hub, order_created

AT = "2026-12-01T10:00:00+09:00"


def _status(hub: object, exc_id: int) -> str:
    with hub.db.read() as conn:  # type: ignore[attr-defined]
        return str(conn.execute(sa.select(exceptions.c.status).where(exceptions.c.id == exc_id)).scalar_one())


def test_a_return_step_ends_the_stalled_exception_of_its_order(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key)
    try:
        hub.ingest.ingest(
            [order_created("e1", "ORD-1", AT, {"name": "김가나"}), order_created("e2", "ORD-2", AT, {})]
        )
        drain(hub)
        stalled = hub.exceptions.open_exception(
            ExceptionRequest("return_stalled", "ORD-1", key="RT-1", evidence={"step": "pickup_booked"})
        )
        other = hub.exceptions.open_exception(ExceptionRequest("return_stalled", "ORD-2", key="RT-2"))
        failed = hub.exceptions.open_exception(
            ExceptionRequest("action_failed", "ORD-1", key="release:ORD-1", evidence={"system": "fulfilment"})
        )
        refund_failed = hub.exceptions.open_exception(
            ExceptionRequest(
                "action_failed", "ORD-1", key="refund:cancel:ORD-1", evidence={"system": "payments"}
            )
        )
        again = hub.exceptions.open_exception(ExceptionRequest("action_failed", "ORD-1", key="release:ORD-1"))
        assert stalled and other and failed and refund_failed
        assert (
            again is None
        )  # the same failed action is one exception, a second action of the order is another
        assert _status(hub, stalled) == "open"
        picked = event(
            "rp-1", "return.picked_up", "ORD-1", "2026-12-03T10:00:00+09:00", {"return_id": "RT-1"}
        )
        assert hub.ingest.ingest([picked])[0].status == "accepted"
        drain(hub)
        assert _status(hub, stalled) == "resolved"
        assert _status(hub, other) == "open"  # another order's return is still stuck
        assert _status(hub, failed) == "open"  # a failed outside action waits for a person
    finally:
        hub.close()
