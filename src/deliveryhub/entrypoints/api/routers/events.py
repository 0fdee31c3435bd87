"""POST /v1/events (single or batch) and the quarantine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.contracts.events import Envelope
from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.apikeys import Principal
from deliveryhub.service_layer.ingest import replay_quarantined

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(prefix="/v1", tags=["events"])


class ItemError(BaseModel):
    code: str
    message: str
    field: str | None = None


class ItemResult(BaseModel):
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    error: ItemError | None = None


class EventsResponse(BaseModel):
    results: list[ItemResult]


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


EVENTS_EXAMPLE = {
    "event_id": "evt-1",
    "source": "oms",
    "type": "order.paid",
    "occurred_at": "2026-11-03T14:05:00+09:00",
    "order_id": "ORD-1",
    "data": {"amount": 35000, "method": "card"},
}


def json_depth(value: Any, limit: int) -> bool:
    """True when `value` nests deeper than `limit` (iterative: no recursion limit to hit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


async def read_json(request: Request, max_depth: int) -> Any:
    """The request body as JSON, with clear 400s for what is wrong with it."""
    body = await request.body()
    if not body:
        raise ApiError(400, "empty_body", "the request body is empty; send a JSON object")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
    if json_depth(payload, max_depth):
        raise ApiError(400, "too_deep", f"JSON nests deeper than {max_depth} levels")
    return payload


_ENVELOPE_SCHEMA: dict[str, Any] = Envelope.model_json_schema()
EVENTS_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _ENVELOPE_SCHEMA,
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {"type": "array", "maxItems": 1000, "items": _ENVELOPE_SCHEMA}
                            },
                        },
                    ]
                },
                "example": EVENTS_EXAMPLE,
            }
        },
    }
}


@router.post(
    "/events",
    summary="Ingest one canonical event or a batch of up to 1,000",
    responses={200: {"model": EventsResponse}, 400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}},
    openapi_extra=EVENTS_BODY_SCHEMA,
)
async def post_events(
    request: Request,
    hub: HubDep,
    principal: Annotated[Principal, Depends(require("events:write"))],
) -> Response:
    """Answers per-item results: accepted, duplicate or rejected (with the error naming the field)."""
    payload = await read_json(request, hub.settings.max_json_depth)
    if isinstance(payload, dict) and "events" in payload:
        items = payload["events"]
        if not isinstance(items, list):
            raise ApiError(400, "invalid_field", "events: must be a list of event objects", "events")
    elif isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise ApiError(400, "invalid_body", 'send one event object or {"events": [...]}')
    if len(items) > hub.settings.max_batch:
        raise ApiError(
            413, "batch_too_large", f"at most {hub.settings.max_batch} events per request", "events"
        )
    results = await run_in_threadpool(hub.ingest.ingest, items)
    # Serialised directly: FastAPI's generic encoder costs more than the ingest of small batches.
    return Response(orjson.dumps({"results": [r.as_dict() for r in results]}), media_type="application/json")


@router.get("/quarantine", summary="Rejected input waiting to be fixed and replayed")
def list_quarantine(
    hub: HubDep,
    _p: Annotated[Principal, Depends(require("quarantine:manage"))],
    status: str = "open",
    limit: int = 100,
) -> dict[str, Any]:
    """Quarantined items with their reasons (payloads stay encrypted)."""
    limit = max(1, min(limit, 1000))
    with hub.db.read() as conn:
        listed = ("id", "received_at", "source", "event_id", "reason_code", "reason", "field", "status")
        rows = conn.execute(
            sa.select(*columns(t.quarantine, *listed))
            .where(t.quarantine.c.status == status)
            .order_by(t.quarantine.c.id.desc())
            .limit(limit)
        ).all()
    return {
        "items": [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat(),
                "source": r.source,
                "event_id": r.event_id,
                "code": r.reason_code,
                "reason": r.reason,
                "field": r.field,
                "status": r.status,
            }
            for r in rows
        ]
    }


@router.post(
    "/quarantine/{item_id}/replay", summary="Replay a quarantined item, optionally with a fixed body"
)
async def replay_item(
    item_id: int,
    request: Request,
    hub: HubDep,
    principal: Annotated[Principal, Depends(require("quarantine:manage"))],
) -> dict[str, Any]:
    """Re-submit one quarantined item (audited)."""
    body = await request.body()
    fixes = None
    if body:
        try:
            fixed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ApiError(400, "invalid_json", "body must be the fixed event as JSON, or empty") from None
        fixes = {item_id: fixed}
    with hub.db.read() as conn:
        exists = conn.execute(sa.select(t.quarantine.c.id).where(t.quarantine.c.id == item_id)).first()
    if exists is None:
        raise ApiError(404, "not_found", f"no quarantined item {item_id}")
    results = await run_in_threadpool(replay_quarantined, hub.ingest, [item_id], fixes)
    # Replaying puts data into the system on a human's say-so: who, what, with fixes?
    outcome = {"fixed": fixes is not None, "results": [r.as_dict().get("status") for r in results]}
    await run_in_threadpool(
        hub.audit.record, principal, "quarantine.replayed", f"quarantine:{item_id}", outcome
    )
    return {"results": [r.as_dict() for r in results]}


def build_router(hub: Hub) -> APIRouter:
    """The router (always present: part of the backbone)."""
    return router
