"""Messages on the bus, consumers, and exactly-once application through tracking rows: the service
layer's names for them (the types live in domain/messages.py, the tracking-row writes in
adapters/persistence/consumers.py, so the bus adapters use them without importing the service layer)."""

from __future__ import annotations

from deliveryhub.adapters.persistence.consumers import apply_batch
from deliveryhub.adapters.persistence.outbox import rows_to_messages
from deliveryhub.domain.messages import BatchHandler, Consumer, Message

__all__ = ["BatchHandler", "Consumer", "Message", "apply_batch", "rows_to_messages"]
