"""Doctor probes of the notification channels: SOLAPI, a Slack incoming webhook, a KakaoWork bot.

None of them sends a message:
- SOLAPI: a signed ``GET /cash/v1/balance`` (잔액조회); a key without the cash:read permission is
  checked with a signed ``GET /messages/v4/list?limit=1`` instead. SOLAPI's 403 error codes are told in
  words (InvalidAPIKey → the key, SignatureDoesNotMatch → the secret, RequestTimeTooSkewed → the clock).
- Slack: the URL's shape, then a POST of an empty body ``{}``: a live hook answers 400 ``no_text`` /
  ``invalid_payload`` and posts nothing; a revoked one 403/404 (``invalid_token``, ``no_service``), an
  archived channel 410.
- KakaoWork: ``GET /v1/bots.info`` with the bot's app key (the bot's name and whether it is activated),
  and the shape of the conversation id.

Each returns one line when the channel works and raises ``ConnectionProblem`` saying what is wrong;
keys, secrets and the Slack hook's token are never part of either."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import httpx

from deliveryhub.adapters.channels.solapi import auth_header
from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.connectors.doctor import ConnectionProblem, diagnose

TIMEOUT = ConnectorSettings(timeout_s=10.0, connect_timeout_s=5.0, api_key=None)
BALANCE_PATH = "/cash/v1/balance"
LIST_PATH = "/messages/v4/list"
SOLAPI_AUTH_ERRORS = {
    "InvalidAPIKey": (
        "SOLAPI가 API 키를 모른다고 해요 / the API key is not valid — check DELIVERYHUB_SOLAPI_API_KEY"
    ),
    "SignatureDoesNotMatch": (
        "서명이 맞지 않아요 / the signature does not match — check DELIVERYHUB_SOLAPI_API_SECRET"
    ),
    "RequestTimeTooSkewed": (
        "이 서버의 시계가 15분 넘게 틀려요 / this machine's clock is more than 15 minutes off — fix NTP"
    ),
    "DuplicatedSignature": "서명이 재사용됐어요 / a signature was reused — run the check again",
}
_SLACK_PATH = re.compile(r"^/services/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+/?$")


def _get(url: str, headers: dict[str, str], label: str) -> httpx.Response:
    timeout = httpx.Timeout(TIMEOUT.timeout_s, connect=TIMEOUT.connect_timeout_s)
    try:
        return httpx.get(url, headers=headers, timeout=timeout)
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise ConnectionProblem(f"{label} at {url}: {diagnose(exc, TIMEOUT)}") from None


def _json(resp: httpx.Response) -> dict[str, object]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _solapi_refusal(label: str, url: str, resp: httpx.Response) -> ConnectionProblem:
    code = str(_json(resp).get("errorCode") or "")
    words = SOLAPI_AUTH_ERRORS.get(code)
    if words is None:
        words = f"refused ({code or 'no error code'}) — check the key's permissions in SOLAPI's console"
    return ConnectionProblem(f"{label} at {url}: HTTP {resp.status_code} {words}")


def check_solapi(base_url: str, api_key: str, api_secret: str) -> str:
    """A signed, harmless GET: the balance (or, without cash:read, the message list)."""
    base = base_url.rstrip("/")
    label = "SOLAPI API"
    resp = _get(base + BALANCE_PATH, {"Authorization": auth_header(api_key, api_secret)}, label)
    if resp.status_code == 200:
        body = _json(resp)
        return (
            f"{label} at {base} accepts the key (잔액 {body.get('balance', '?')}원, "
            f"포인트 {body.get('point', '?')})"
        )
    if resp.status_code >= 500:
        raise ConnectionProblem(f"{label} at {base}: reachable but failing (HTTP {resp.status_code})")
    if resp.status_code in (401, 403) and str(_json(resp).get("errorCode") or "") in SOLAPI_AUTH_ERRORS:
        raise _solapi_refusal(label, base, resp)
    # The key may lack cash:read; sending needs message rights, so ask the message list instead.
    listed = _get(base + LIST_PATH + "?limit=1", {"Authorization": auth_header(api_key, api_secret)}, label)
    if listed.status_code == 200:
        return f"{label} at {base} accepts the key (message list readable; no balance permission)"
    if listed.status_code >= 500:
        raise ConnectionProblem(f"{label} at {base}: reachable but failing (HTTP {listed.status_code})")
    raise _solapi_refusal(label, base, listed)


def masked_hook(url: str) -> str:
    """A Slack hook URL without its secret token (the last path segment)."""
    head, _, _token = url.rstrip("/").rpartition("/")
    return f"{head}/***"


def check_slack(url: str) -> str:
    """The hook URL's shape, then an empty POST a live hook refuses without posting anything."""
    shown = masked_hook(url)
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _SLACK_PATH.match(parts.path):
        raise ConnectionProblem(
            f"Slack webhook {shown}: not an incoming-webhook URL (https://hooks.slack.com/services/T…/B…/…) "
            "— copy it again from Slack's Incoming Webhooks page (DELIVERYHUB_OPS_SLACK_WEBHOOK_URL)"
        )
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConnectionProblem(f"Slack webhook {shown}: must be https")
    timeout = httpx.Timeout(TIMEOUT.timeout_s, connect=TIMEOUT.connect_timeout_s)
    try:
        resp = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}, timeout=timeout)
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise ConnectionProblem(f"Slack webhook {shown}: {diagnose(exc, TIMEOUT)}") from None
    text = resp.text.strip()[:60]
    if resp.status_code == 400:
        answer = text or "HTTP 400"
        return f"Slack webhook {shown} is live (an empty probe got {answer}; nothing posted)"
    if resp.status_code in (403, 404, 410):
        why = {
            403: "the hook was revoked",
            404: "the hook or app was removed",
            410: "the channel is archived",
        }
        raise ConnectionProblem(
            f"Slack webhook {shown}: HTTP {resp.status_code} {text} — {why[resp.status_code]}; "
            "create a new incoming webhook (DELIVERYHUB_OPS_SLACK_WEBHOOK_URL)"
        )
    if resp.status_code >= 500:
        raise ConnectionProblem(f"Slack webhook {shown}: reachable but failing (HTTP {resp.status_code})")
    return f"Slack webhook {shown} answers (HTTP {resp.status_code})"


def check_kakaowork(base_url: str, app_key: str, conversation_id: str) -> str:
    """``bots.info`` with the bot's app key; the conversation id must be a KakaoWork 채팅방 id (digits)."""
    base = base_url.rstrip("/")
    label = "KakaoWork bot API"
    if not conversation_id.strip().isdigit():
        raise ConnectionProblem(
            f"{label}: the conversation id is not a KakaoWork 채팅방 id (digits) — "
            "check DELIVERYHUB_OPS_KAKAOWORK_CONVERSATION_ID"
        )
    resp = _get(base + "/v1/bots.info", {"Authorization": f"Bearer {app_key}"}, label)
    body = _json(resp)
    if resp.status_code >= 500:
        raise ConnectionProblem(f"{label} at {base}: reachable but failing (HTTP {resp.status_code})")
    if resp.status_code in (401, 403) or body.get("success") is False:
        error = body.get("error")
        code = str(error.get("code") if isinstance(error, dict) else "") or f"HTTP {resp.status_code}"
        raise ConnectionProblem(
            f"{label} at {base}: refused the bot's app key ({code}) — 봇 앱 키를 확인하세요 / "
            "check DELIVERYHUB_OPS_KAKAOWORK_APP_KEY"
        )
    info = body.get("info")
    info = info if isinstance(info, dict) else {}
    status = str(info.get("status") or "?")
    if status not in ("activated", "?"):
        raise ConnectionProblem(
            f"{label} at {base}: the bot '{info.get('title', '?')}' is {status} — 봇을 활성화하세요 / "
            "activate it in the KakaoWork admin"
        )
    return f"{label} at {base}: bot '{info.get('title', '?')}' ({status}), 채팅방 {conversation_id.strip()}"
