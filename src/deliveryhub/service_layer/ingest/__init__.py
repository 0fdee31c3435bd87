"""Ingest: validate canonical events and, in one transaction, store each new one once, advance the
order projections, and append outbox rows. Rejected items go to quarantine; they never block the rest.

batch.py (validation, per-item results, the retried transaction), inbox.py (the exactly-once store),
customers.py (personal data out of events, encrypted), projection.py (orders, stages, parcels),
emit.py (outbox messages), quarantine.py (rejected items), service.py (`IngestService`, the one write path).
"""

from __future__ import annotations

from deliveryhub.service_layer.ingest.batch import MANUAL_SOURCES, IngestStats, ItemResult, StatusDeriver
from deliveryhub.service_layer.ingest.quarantine import replay_quarantined
from deliveryhub.service_layer.ingest.service import IngestService

__all__ = [
    "MANUAL_SOURCES",
    "IngestService",
    "IngestStats",
    "ItemResult",
    "StatusDeriver",
    "replay_quarantined",
]
