"""HTTP API of the customer chat (public, rate-limited per address and conversation): open a
conversation (optionally verified by a notification link's token), send a message, poll for agent
replies, answer the satisfaction survey, upload a photo; and the staff-only, audited photo read."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from deliveryhub.chatbot import uploads
from deliveryhub.chatbot.desk import TicketNotFound
from deliveryhub.chatbot.dialogue import MAX_LINK_TOKEN, InvalidLinkToken, SessionNotFound, VerifyThrottled
from deliveryhub.chatbot.wiring import ChatFeature
from deliveryhub.entrypoints.api.deps import require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import SESSION_COOKIE
from deliveryhub.kernel.ratelimit import RateLimiter
from deliveryhub.security.apikeys import Principal

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

ReadDep = Annotated[Principal, Depends(require("tickets:read"))]

INVALID_TOKEN = "token: this link is not valid (it may be incomplete or changed); open the chat without it"
STAFF_REFUSED = (
    "직원 계정으로 로그인된 상태에서는 고객 본인 확인 링크를 열 수 없어요. / "
    "A staff login cannot open a customer's verified chat; sign out first."
)
VERIFY_THROTTLED = (
    "본인 확인 시도가 너무 많아 잠시 멈췄어요. 잠시 후 다시 시도해 주세요. / Too many identity "
    "checks from this address; please try again later."
)
# HTTP answer to each reason a photo is refused (chatbot/uploads.py REFUSALS).
UPLOAD_STATUS = {
    "too_large": (413, "body_too_large"),
    "empty": (422, "invalid_field"),
    "not_image": (415, "unsupported_media_type"),
    "markup": (422, "invalid_image"),
    "no_session": (404, "not_found"),
    "not_verified": (403, "not_verified"),
    "too_many": (429, "too_many_photos"),
}


class NewSession(BaseModel):
    """Body of POST /v1/chat/sessions (optional).

    `token`: the signed token of a notification's tracking link (`/chat?t=...`); a valid one opens the
    conversation verified for that order. Its length is checked in the route so that an over-long token
    gets the same `invalid_token` answer as any other bad one."""

    lang: str = Field(default="ko", pattern="^(ko|en)$")
    token: str | None = None


class ChatIn(BaseModel):
    """One customer message."""

    text: str = Field(min_length=1, max_length=2000)


class CsatIn(BaseModel):
    """A CSAT answer."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class PerMinute:
    """Moving one-minute windows per key, one limiter per rate (per process; each API worker counts on
    its own). The rate is read at each request, so a changed setting applies at once."""

    def __init__(self) -> None:
        self._by_rate: dict[int, RateLimiter] = {}
        self._lock = threading.Lock()

    def check(self, key: str, per_minute: int) -> None:
        """Count a hit for `key`; 429 with Retry-After when it is over `per_minute`."""
        with self._lock:
            limiter = self._by_rate.get(per_minute)
            if limiter is None:
                limiter = self._by_rate[per_minute] = RateLimiter(f"{max(1, per_minute)}/minute")
        if not limiter.hit(key):
            wait = max(1, math.ceil(limiter.retry_after(key)))
            raise ApiError(
                429,
                "rate_limited",
                "too many messages; please wait a moment",
                headers={"Retry-After": str(wait)},
            )


def client_ip(request: Request) -> str:
    """The client address the limits and identity checks count by."""
    return request.client.host if request.client else "unknown"


def staff_request(request: Request) -> bool:
    """Whether the request carries staff credentials (a console session cookie or any bearer token): the
    customer chat never sends them, and staff must not pass a customer's identity check."""
    return bool(request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization"))


def build_router(hub: Hub) -> APIRouter | None:
    """The chat routes of this hub (None without the CS feature)."""
    if hub.chat is None:
        return None
    return _routes(hub, hub.chat)


def _routes(hub: Hub, cs: ChatFeature) -> APIRouter:
    router = APIRouter(tags=["cs"])
    limits = PerMinute()
    chat, desk, cfg = cs.chat, cs.desk, cs.config

    @router.post("/v1/chat/sessions", summary="Open a chat conversation (public)")
    async def open_session(request: Request, body: NewSession | None = None) -> dict[str, Any]:
        ip = client_ip(request)
        limits.check(f"ip-session:{ip}", cfg.ip_sessions_per_minute)
        token = body.token if body else None
        if token is not None and not 0 < len(token) <= MAX_LINK_TOKEN:
            raise ApiError(422, "invalid_token", INVALID_TOKEN, "token")
        if token is not None and staff_request(request):
            raise ApiError(403, "staff_not_customer", STAFF_REFUSED, "token")
        try:
            return await run_in_threadpool(chat.new_session, ip, body.lang if body else "ko", token)
        except InvalidLinkToken:
            raise ApiError(422, "invalid_token", INVALID_TOKEN, "token") from None

    @router.post(
        "/v1/chat/sessions/{session_id}/messages", summary="Send a customer message; get the bot's reply"
    )
    async def post_message(session_id: str, body: ChatIn, request: Request) -> dict[str, Any]:
        ip = client_ip(request)
        limits.check(f"ip:{ip}", cfg.ip_messages_per_minute)
        limits.check(f"session:{session_id}", cfg.session_messages_per_minute)
        try:
            with hub.metrics.chat_turn.time():
                turn = await run_in_threadpool(chat.post, session_id, body.text, ip, staff_request(request))
        except SessionNotFound:
            raise ApiError(404, "not_found", "no such chat session", "session_id") from None
        except VerifyThrottled as exc:
            wait = max(60, int((exc.until - hub.clock.now()).total_seconds())) if exc.until else 900
            raise ApiError(
                429, "verify_throttled", VERIFY_THROTTLED, headers={"Retry-After": str(wait)}
            ) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_field", str(exc), "text") from None
        return turn.as_dict()

    @router.get(
        "/v1/chat/sessions/{session_id}/messages", summary="Messages of a conversation (widget polling)"
    )
    async def get_messages(
        session_id: str, request: Request, after: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        limits.check(f"poll:{client_ip(request)}", 600)
        try:
            msgs = await run_in_threadpool(chat.messages, session_id, after)
        except SessionNotFound:
            raise ApiError(404, "not_found", "no such chat session", "session_id") from None
        return {"messages": msgs}

    @router.post("/v1/chat/csat/{token}", summary="Answer the satisfaction survey")
    async def csat(token: str, body: CsatIn) -> dict[str, Any]:
        try:
            return await run_in_threadpool(desk.answer_csat, token, body.score, body.comment)
        except TicketNotFound:
            raise ApiError(404, "not_found", "no such survey", "token") from None

    @router.post("/v1/chat/sessions/{session_id}/attachments", summary="Upload a photo (damage claims)")
    async def upload(session_id: str, file: UploadFile, request: Request) -> dict[str, Any]:
        limits.check(f"upload:{client_ip(request)}", 20)
        data = await file.read(uploads.MAX_UPLOAD + 1)
        try:
            ctype = uploads.check_image(data)  # refuse a bad file before touching the database
            return await run_in_threadpool(uploads.accept_photo, hub, cs.uploads, session_id, data, ctype)
        except uploads.UploadRefused as exc:
            status, code = UPLOAD_STATUS[exc.reason]
            raise ApiError(status, code, str(exc), exc.field) from None

    @router.get("/v1/attachments/{attachment_id}", summary="A chat photo (staff; every read is audited)")
    async def read(attachment_id: str, p: ReadDep) -> Response:
        found = await run_in_threadpool(uploads.read_photo, hub, cs.uploads, attachment_id, p)
        if found is None:
            raise ApiError(404, "not_found", "no such attachment", "attachment_id")
        row, data = found
        name = f"photo-{attachment_id}.{uploads.EXT[row.content_type]}"
        return Response(
            content=data,
            media_type=row.content_type,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{name}"',
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "no-store",
            },
        )

    return router
