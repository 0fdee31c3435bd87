"""Quarantine: rejected items kept encrypted (they may carry personal data) with the reason, counted per
source and hour, fixable and replayable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.keyorder import insert_rows
from deliveryhub.contracts.ids import visible
from deliveryhub.pii.cipher import KeyRing, open_, seal
from deliveryhub.service_layer.ingest.batch import ItemResult, Rejected, raw_id

if TYPE_CHECKING:
    from deliveryhub.service_layer.ingest.service import IngestService

_AAD = b"quarantine"


class Quarantine:
    """Writes rejected items, sealed under a key derived from the master key."""

    def __init__(self, keyring: KeyRing) -> None:
        self.key = keyring.master.derive("deliveryhub quarantine v1")

    def write(
        self, conn: Connection, rejected: Sequence[Rejected], now: datetime, source_hint: str | None
    ) -> None:
        """Store each rejected item with its reason and count them per source and hour."""
        rows = [self._row(raw, err, now, _source_of(raw, source_hint)) for _, raw, err in rejected]
        conn.execute(t.quarantine.insert(), rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["source"]] = counts.get(row["source"], 0) + 1
        hour = now.replace(minute=0, second=0, microsecond=0)
        # One additive upsert in source order: two batches rejecting items of one new source both count.
        insert_rows(
            conn,
            t.ingest_rejections,
            ("source", "hour", "rejected", "duplicates"),
            [(source, hour, n, 0) for source, n in counts.items()],
            conflict=("source", "hour"),
            action='"rejected" = "t"."rejected" + excluded."rejected"',
        )

    def _row(self, raw: Any, err: Any, now: datetime, source: str) -> dict[str, Any]:
        return {
            "received_at": now,
            "source": source,
            "event_id": raw_id(raw) or None,
            "reason_code": err.code,
            "reason": err.message[:1000],
            "field": err.field or None,
            "payload_enc": seal(self.key, orjson.dumps(raw, default=str), _AAD),
            "status": "open",
        }

    def payload(self, sealed: bytes) -> Any:
        """A quarantined item as it was received."""
        return orjson.loads(open_(self.key, sealed, _AAD))


def _source_of(raw: Any, source_hint: str | None) -> str:
    source = raw.get("source") if isinstance(raw, dict) and isinstance(raw.get("source"), str) else None
    return visible(source or source_hint or "unknown")[:72]  # no NUL into PostgreSQL


def replay_quarantined(
    service: IngestService, ids: list[int], fixes: dict[int, dict[str, Any]] | None = None
) -> list[ItemResult]:
    """Re-submit quarantined items (optionally with fixed payloads); replayed ones are marked resolved."""
    with service.db.read() as conn:
        rows = conn.execute(sa.select(t.quarantine).where(t.quarantine.c.id.in_(ids))).all()
    fixes = fixes or {}
    payloads = [
        (r.id, fixes[r.id] if r.id in fixes else service.rejects.payload(r.payload_enc)) for r in rows
    ]
    results = service.ingest([p for _, p in payloads])
    done = [qid for (qid, _), res in zip(payloads, results, strict=True) if res.status != "rejected"]
    if done:
        with service.db.write() as conn:
            conn.execute(
                t.quarantine.update()
                .where(t.quarantine.c.id.in_(done))
                .values(status="replayed", resolved_at=datetime.now(UTC))
            )
    return results
