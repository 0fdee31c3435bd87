"""Write-back: a waybill created in the hub is told to the marketplace the order came from, exactly once.

Intake rides the integration_health consumer: a `shipment.waybill_created` of an order whose
`order.created` came from a connector with a `write_back` becomes one `connector_writebacks` row per
(source, order, tracking number) — a replayed or duplicated waybill finds the row and adds nothing. The
job sends due rows outside any transaction, marks them done, or retries with backoff (the vendor's 429
Retry-After is honoured) and, after BACKOFF.max_attempts, marks the row dead and tells the operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import (
    Connector,
    ConnectorSettings,
    UpstreamError,
    WritebackRequest,
    connector_codes,
    get_connector,
)
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.connectors import config
from deliveryhub.domain.messages import Message
from deliveryhub.effects.backoff import Backoff
from deliveryhub.kernel.configfile import env_overrides
from deliveryhub.kernel.korean import attach
from deliveryhub.service_layer.ports import OpsAlert

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

JOB_NAME = "connectors.writeback"
EVERY_S = 5.0
BACKOFF = Backoff(max_attempts=8, base_s=30.0)
BATCH = 20


def connector_settings(core: Core, code: str) -> ConnectorSettings:
    """A connector's settings for this hub: its environment variables, overridden by the hub's config
    file `connectors.<code>` (a seller's own credentials live in its shop's file; `${VAR}` values are
    read from the environment)."""
    connector = get_connector(code)
    section = config.load_connectors_config(config_file=core.settings.config_file).get(code) or {}
    values = env_overrides(section if isinstance(section, dict) else {}, connector.settings_cls.model_fields)
    # pydantic-settings takes the prefix per instance; explicit values win over the environment.
    arguments: dict[str, Any] = {"_env_prefix": connector.env_prefix, **values}
    return connector.settings_cls(**arguments)


def _writers() -> dict[str, Connector]:
    """Connectors that write back, by the event source their orders carry."""
    return {
        c.source: c for c in (get_connector(code) for code in connector_codes()) if c.write_back is not None
    }


def intake_handler(now: Any) -> Any:
    """integration_health batch handler: queue a write-back for each new waybill of a marketplace order."""

    def handle(conn: Connection, messages: Sequence[Message]) -> None:
        waybills = [m for m in messages if m.topic == "shipment.waybill_created" and m.order_id]
        if not waybills:
            return
        writers = _writers()
        if not writers:
            return
        order_ids = sorted({str(m.order_id) for m in waybills})
        origin = dict(
            conn.execute(
                sa.select(t.inbox.c.order_id, t.inbox.c.source).where(
                    t.inbox.c.order_id.in_(order_ids), t.inbox.c.type == "order.created"
                )
            ).all()
        )
        at = now()
        rows = []
        for m in waybills:
            source = origin.get(m.order_id)
            data = m.payload.get("data") or {}
            if source not in writers or not data.get("tracking_no"):
                continue
            if m.payload.get("source") == source:
                continue  # the marketplace told us of this waybill itself: nothing to tell it back
            rows.append(
                {
                    "source": source,
                    "order_id": m.order_id,
                    "tracking_no": str(data["tracking_no"])[:64],
                    "shipment_id": m.payload.get("shipment_id"),
                    "carrier": str(data.get("carrier") or "")[:32],
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            )
        insert_or_ignore(conn, ct.connector_writebacks, rows, ["source", "order_id", "tracking_no"])

    return handle


def _order_data(conn: Connection, order_id: str, source: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(t.inbox.c.data)
        .where(t.inbox.c.order_id == order_id, t.inbox.c.source == source, t.inbox.c.type == "order.created")
        .order_by(t.inbox.c.id)
        .limit(1)
    ).first()
    return dict(row.data) if row is not None and isinstance(row.data, dict) else {}


class WritebackJob:
    """Sends due write-backs; each one at most once successfully."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def run(self, now: datetime) -> int:
        """Send every due write-back (up to BATCH); returns how many were done."""
        wb = ct.connector_writebacks
        with self.core.db.read() as conn:
            due = conn.execute(
                sa.select(wb)
                .where(wb.c.status == "pending", wb.c.next_attempt_at <= now)
                .order_by(wb.c.next_attempt_at)
                .limit(BATCH)
            ).all()
            requests = [(r, _order_data(conn, r.order_id, r.source)) for r in due]
        writers = _writers()
        done = 0
        for row, order_data in requests:
            connector = writers.get(row.source)
            if connector is None or connector.write_back is None:
                continue
            request = WritebackRequest(
                row.order_id, row.shipment_id, row.carrier, row.tracking_no, order_data
            )
            key = {"source": row.source, "order_id": row.order_id, "tracking_no": row.tracking_no}
            try:
                connector.write_back(connector_settings(self.core, connector.code), request)
            except UpstreamError as exc:
                self._failed(key, row.attempts + 1, str(exc), exc.retry_after, now)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken write-back must not stop the others
                log.exception("writeback_failed", source=row.source, order_id=row.order_id)
                self._failed(key, row.attempts + 1, type(exc).__name__, None, now)
                continue
            self._update(key, status="done", attempts=row.attempts + 1, done_at=now, last_error=None)
            done += 1
        return done

    def _update(self, key: dict[str, str], **values: Any) -> None:
        wb = ct.connector_writebacks
        with self.core.db.write() as conn:
            conn.execute(
                wb.update()
                .where(wb.c.source == key["source"], wb.c.order_id == key["order_id"])
                .where(wb.c.tracking_no == key["tracking_no"], wb.c.status == "pending")
                .values(**values)
            )

    def _failed(
        self, key: dict[str, str], attempts: int, error: str, retry_after: float | None, now: datetime
    ) -> None:
        if BACKOFF.exhausted(attempts):
            self._update(key, status="dead", attempts=attempts, last_error=error[:500])
            source, order_id, waybill = key["source"], key["order_id"], key["tracking_no"]
            body = f"{source}에 송장 {attach(waybill, '을/를')} {attempts}번 보내지 못했어요: {error[:200]}"
            alert = OpsAlert(
                "connector_writeback",
                f"{source}:{order_id}:{waybill}",
                f"송장 전송 실패 / waybill write-back failed: {source} {order_id}",
                body,
                {**key, "attempts": attempts},
            )
            self.core.ops_alerts.notify_ops(alert)
            return
        delay = BACKOFF.delay(attempts, retry_after)
        self._update(
            key, attempts=attempts, last_error=error[:500], next_attempt_at=now + timedelta(seconds=delay)
        )
