"""Local HTTP servers speaking SOLAPI's message API, a Slack incoming webhook and KakaoWork's bot API.

Each checks what the real service checks (SOLAPI's HMAC-SHA256 header recomputed here from the secret,
fresh date, salt never reused; KakaoWork's Bearer app key) and the documented body shape, records every
request, and can be told to be down (503) for the next N requests or always."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

API_KEY = "NCSTESTKEY000001"
API_SECRET = "TESTSECRET0000000000000000000001"
PF_ID = "KA01PF000000000000000000000000"
KAKAOWORK_KEY = "kw-app-key-test"
CONVERSATION = "1234567"


class Recorder:
    """Shared state of one fake server: requests seen, outage switches, receipts to report."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.fail_remaining = 0
        self.fail_always = False
        self.salts: set[str] = set()
        self.receipts: dict[str, str] = {}  # groupId -> statusCode reported by /messages/v4/list

    def down(self) -> bool:
        """Whether this request is answered 503 (and counts it)."""
        with self.lock:
            if self.fail_always:
                return True
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
                return True
            return False

    def ok(self, kind: str) -> list[dict[str, Any]]:
        """Accepted requests of one kind."""
        with self.lock:
            return [r for r in self.requests if r["ok"] and r["kind"] == kind]

    def record(self, kind: str, body: Any, ok: bool) -> None:
        """Remember one request."""
        with self.lock:
            self.requests.append({"kind": kind, "json": body, "ok": ok})


def _solapi_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "errorMessage": message}, status_code=status)


def _check_auth(state: Recorder, header: str) -> JSONResponse | None:
    """SOLAPI's auth check, written from the doc (not with the code under test)."""
    if not header.startswith("HMAC-SHA256 "):
        return _solapi_error(403, "InvalidAuthType", "HMAC-SHA256 expected")
    fields = dict(p.strip().split("=", 1) for p in header[len("HMAC-SHA256 ") :].split(","))
    if fields.get("apiKey") != API_KEY:
        return _solapi_error(403, "InvalidAPIKey", "invalid api key")
    date, salt = fields.get("date", ""), fields.get("salt", "")
    if not 12 <= len(salt) <= 64:
        return _solapi_error(403, "SignatureDoesNotMatch", "salt length")
    expected = hmac.new(API_SECRET.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("signature", "")):
        return _solapi_error(403, "SignatureDoesNotMatch", "signature")
    at = datetime.fromisoformat(date.replace("Z", "+00:00"))
    if abs((datetime.now(UTC) - at).total_seconds()) > 15 * 60:
        return _solapi_error(403, "RequestTimeTooSkewed", "date")
    with state.lock:
        if salt in state.salts:
            return _solapi_error(403, "DuplicatedSignature", "signature reused")
        state.salts.add(salt)
    return None


def _shape_problem(message: dict[str, Any]) -> str | None:
    """Why one entry of `messages` is not what send-many takes (None when it is)."""
    if not str(message.get("to", "")).isdigit() or not str(message.get("from", "")).isdigit():
        return "to/from must be digits"
    kind = message.get("type")
    if kind == "ATA":
        opts = message.get("kakaoOptions") or {}
        if opts.get("pfId") != PF_ID or not opts.get("templateId"):
            return "kakaoOptions.pfId/templateId"
        if not all(k.startswith("#{") and k.endswith("}") for k in opts.get("variables", {})):
            return "kakaoOptions.variables keys must be #{name}"
        if not isinstance(opts.get("disableSms"), bool):
            return "kakaoOptions.disableSms"
    elif kind == "LMS":
        if not message.get("subject"):
            return "LMS needs a subject"
    elif kind != "SMS":
        return f"type {kind!r}"
    if not message.get("text") and not (message.get("kakaoOptions") or {}).get("variables"):
        return "text (or kakaoOptions.variables)"
    return None


def solapi_app(state: Recorder) -> FastAPI:
    """The SOLAPI message API (send-many and list)."""
    app = FastAPI()

    @app.post("/messages/v4/send-many")
    async def send_many(request: Request) -> Response:
        denied = _check_auth(state, request.headers.get("authorization", ""))
        if denied is not None:
            state.record("denied", None, False)
            return denied
        body = await request.json()
        if state.down():
            state.record(body["messages"][0].get("type", "?"), body, False)
            return _solapi_error(503, "ServiceUnavailable", "down")
        messages = body.get("messages")
        if not isinstance(messages, list) or len(messages) != 1:
            return _solapi_error(400, "ValidationError", "messages")
        problem = _shape_problem(messages[0])
        if problem:
            state.record("invalid", body, False)
            return _solapi_error(400, "ValidationError", problem)
        state.record(messages[0]["type"], body, True)
        with state.lock:
            group_id = f"G4V2026120600000{len(state.requests):02d}ABCDEFGHIJK"
            state.receipts[group_id] = "4000"
        return JSONResponse(
            {
                "groupId": group_id,
                "_id": group_id,
                "status": "SENDING",
                "count": {"total": 1, "registeredFailed": 0, "registeredSuccess": 1},
            }
        )

    @app.get("/cash/v1/balance")
    async def balance(request: Request) -> Response:
        denied = _check_auth(state, request.headers.get("authorization", ""))
        if denied is not None:
            state.record("denied", None, False)
            return denied
        state.record("balance", None, True)
        return JSONResponse({"balance": 12000, "point": 300, "accountId": "13628535"})

    @app.get("/messages/v4/list")
    async def listing(request: Request) -> Response:
        denied = _check_auth(state, request.headers.get("authorization", ""))
        if denied is not None:
            return denied
        group_id = request.query_params.get("groupId", "")
        code = state.receipts.get(group_id)
        listed = {} if code is None else {f"M4V{group_id[3:]}": {"groupId": group_id, "statusCode": code}}
        return JSONResponse({"messageList": listed, "limit": 20, "startKey": None, "nextKey": None})

    return app


def _slack_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        return "text"
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return "blocks"
    for block in blocks:
        if block.get("type") == "header" and block["text"].get("type") != "plain_text":
            return "header must be plain_text"
        if block.get("type") == "section" and block["text"].get("type") not in ("mrkdwn", "plain_text"):
            return "section text type"
        if block.get("type") not in ("header", "section", "context", "divider"):
            return f"block type {block.get('type')!r}"
    return None


def _kakaowork_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("conversation_id") != CONVERSATION:
        return "conversation_id"
    if not isinstance(body.get("text"), str) or not body["text"]:
        return "text"
    for block in body.get("blocks") or []:
        header = block.get("type") == "header"
        if header and (len(block["text"]) > 20 or block.get("style") not in ("blue", "red", "yellow")):
            return "header"
        if block.get("type") not in ("header", "text", "description", "divider", "button"):
            return f"block type {block.get('type')!r}"
    return None


def chat_app(slack: Recorder, kakaowork: Recorder) -> FastAPI:
    """A Slack incoming webhook (/services/T0/B0/XXX) and KakaoWork's /v1/messages.send."""
    app = FastAPI()

    @app.post("/services/T000/B000/XXXX")
    async def slack_hook(request: Request) -> Response:
        body = await request.json()
        if slack.down():
            slack.record("slack", body, False)
            return PlainTextResponse("service_unavailable", status_code=503)
        problem = _slack_problem(body)
        slack.record("slack", body, problem is None)
        if problem:
            return PlainTextResponse("invalid_payload", status_code=400)
        return PlainTextResponse("ok")

    @app.get("/v1/bots.info")
    async def kakaowork_bot(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {KAKAOWORK_KEY}":
            kakaowork.record("denied", None, False)
            err = {"code": "unauthorized", "message": "invalid app key"}
            return JSONResponse({"success": False, "error": err}, status_code=401)
        kakaowork.record("bots.info", None, True)
        info = {"bot_id": 77, "title": "배송알림봇", "status": "activated"}
        return JSONResponse({"success": True, "info": info})

    @app.post("/v1/messages.send")
    async def kakaowork_send(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {KAKAOWORK_KEY}":
            kakaowork.record("denied", None, False)
            err = {"code": "unauthorized", "message": "invalid app key"}
            return JSONResponse({"success": False, "error": err}, status_code=401)
        body = await request.json()
        if kakaowork.down():
            kakaowork.record("kakaowork", body, False)
            return JSONResponse({"success": False}, status_code=503)
        problem = _kakaowork_problem(body)
        kakaowork.record("kakaowork", body, problem is None)
        if problem:
            err = {"code": "invalid_parameter", "message": problem}
            return JSONResponse({"success": False, "error": err}, status_code=400)
        return JSONResponse({"success": True, "message": {"id": "9001", **body}})

    return app


def reset(*recorders: Recorder) -> None:
    """Forget the requests seen and end any outage."""
    for r in recorders:
        with r.lock:
            r.requests.clear()
            r.fail_remaining = 0
            r.fail_always = False
