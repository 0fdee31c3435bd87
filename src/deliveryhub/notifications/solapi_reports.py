"""SOLAPI's delivery report webhook: a pushed receipt, applied exactly as a polled one (receipts.py).

SOLAPI posts to the URL set in its console (웹훅 설정) a JSON array:
- 메시지 리포트 (single report): message objects as ``GET /messages/v4/list`` lists them —
  ``{"messageId": "M4V…", "groupId": "G4V…", "type": "ATA", "to": "010…", "statusCode": "4000", …}``;
  statusCode 4000 = 수신완료, 2000/3000 still on its way, anything else a failure (3104 카카오톡 미사용자 …);
- 그룹 리포트 (group report): group objects ``{"groupId": "G4V…", …}`` without message status: the
  receiver asks ``GET /messages/v4/list?groupId=…`` (the channel's ``delivery_status``, as the poll does).
It expects 200 and otherwise calls again (5 times in all), so a report for a message the hub did not send
(another system on the same account) is acknowledged and ignored.

SOLAPI signs nothing: the operator puts a shared secret in the webhook URL (``?token=…``; SOLAPI's
console takes only a URL) or sends it as ``X-Deliveryhub-Token``; it is set per shop as
``notifications.solapi_webhook_secret`` (DELIVERYHUB_SOLAPI_WEBHOOK_SECRET) and compared in constant time
before the body is read. A missing or wrong secret is 401 and nothing is stored."""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from deliveryhub.adapters.channels.solapi import message_status
from deliveryhub.notifications.receipts import apply_receipt, waiting_jobs

if TYPE_CHECKING:
    from deliveryhub.notifications.wiring import NotificationsFeature

log = structlog.get_logger(__name__)

MAX_ITEMS = 1000
SECRET_HEADER = "x-deliveryhub-token"


class ReportRefused(Exception):
    """A report the hub will not take: ``kind`` (unauthorized | invalid | unfit), a stable ``code``, a
    Korean-first message and the field at fault."""

    def __init__(self, kind: str, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Report:
    """One entry of a report body: a message's status, or (status None) a group to ask about."""

    group_id: str
    message_id: str | None
    status_code: str | None
    status_message: str


def authenticate(feature: NotificationsFeature, given: str | None) -> None:
    """Refuse (401) unless ``given`` is the shop's configured SOLAPI webhook secret."""
    secret = feature.settings.solapi_webhook_secret or ""
    if not secret:
        raise ReportRefused(
            "unauthorized",
            "not_configured",
            "SOLAPI 웹훅 비밀값이 설정되지 않아 수신을 거부했어요. 운영자가 "
            "notifications.solapi_webhook_secret(DELIVERYHUB_SOLAPI_WEBHOOK_SECRET)을 설정하고 "
            "웹훅 URL에 ?token=<비밀값>을 붙여 주세요. / no "
            "SOLAPI webhook secret is configured (notifications.solapi_webhook_secret)",
            "token",
        )
    if not given:
        raise ReportRefused(
            "unauthorized",
            "missing_token",
            "SOLAPI 웹훅 인증값이 없어요. / missing ?token= (or X-Deliveryhub-Token header)",
            "token",
        )
    if not hmac.compare_digest(secret.encode(), given.strip().encode()):
        raise ReportRefused(
            "unauthorized",
            "invalid_token",
            "SOLAPI 웹훅 인증값이 맞지 않아요. / the webhook token does not match",
            "token",
        )


def _text(item: dict[str, Any], key: str, index: int, *, required: bool) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise ReportRefused(
                "unfit",
                "missing_field",
                f"{key} 값이 없어요. / body[{index}].{key} is required",
                f"body[{index}].{key}",
            )
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ReportRefused(
            "unfit",
            "invalid_field",
            f"{key} 값이 문자열이 아니에요. / body[{index}].{key} must be a string",
            f"body[{index}].{key}",
        )
    text = str(value).strip()
    if len(text) > 200:
        raise ReportRefused(
            "unfit",
            "invalid_field",
            f"{key} 값이 너무 길어요. / body[{index}].{key} is too long",
            f"body[{index}].{key}",
        )
    return text


def parse(body: bytes) -> list[Report]:
    """The reports of a webhook body (an array, or one object); ReportRefused naming the bad field."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ReportRefused(
            "invalid", "invalid_json", "본문이 올바른 JSON이 아니에요. / body is not JSON", "body"
        ) from None
    items = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else None
    if items is None:
        raise ReportRefused(
            "unfit",
            "invalid_body",
            "본문은 리포트 배열이어야 해요. / body must be an array of reports",
            "body",
        )
    if len(items) > MAX_ITEMS:
        raise ReportRefused(
            "unfit", "too_many", f"리포트가 너무 많아요. / at most {MAX_ITEMS} reports per call", "body"
        )
    reports = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ReportRefused(
                "unfit",
                "invalid_body",
                f"리포트는 객체여야 해요. / body[{i}] must be an object",
                f"body[{i}]",
            )
        group = _text(item, "groupId", i, required=True)
        assert group is not None
        message = item.get("statusMessage")
        reports.append(
            Report(
                group_id=group,
                message_id=_text(item, "messageId", i, required=False),
                status_code=_text(item, "statusCode", i, required=False),
                status_message=str(message)[:200] if isinstance(message, str) else "",
            )
        )
    return reports


def receive(feature: NotificationsFeature, body: bytes) -> dict[str, Any]:
    """Apply an authenticated report body to the jobs it is about; counts of what it did."""
    reports = parse(body)
    dispatcher = feature.dispatcher
    core, channels = dispatcher.core, dispatcher.channels
    by_group: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        by_group[r.group_id].append(r)
    jobs = waiting_jobs(core.db, "solapi", list(by_group))
    now = core.clock.now()
    applied = pending = 0
    for job in jobs:
        group = by_group[job.provider_message_id]
        codes = [r.status_code for r in group if r.status_code is not None]
        if codes:
            status = message_status(codes)
        else:  # a group report: ask SOLAPI for the group's messages, as the receipts job does
            notifier = channels.customer.get(job.channel or "")
            query = getattr(notifier, "delivery_status", None)
            status = query(job.provider_message_id) if query is not None else None
        if status is None:
            pending += 1
            continue
        failed = next(
            (r for r in group if r.status_code and r.status_code not in ("4000", "2000", "3000")), None
        )
        error = f"solapi {failed.status_code}: {failed.status_message}".rstrip(": ") if failed else None
        applied += apply_receipt(core.db, channels, job, status, now, provider=job.provider, error=error)
    known = {j.provider_message_id for j in jobs}
    answer = {
        "received": len(reports),
        "applied": applied,
        "pending": pending,
        "ignored": sum(1 for g in by_group if g not in known),  # not ours, or already final
    }
    log.info("solapi_report", **answer)
    return answer
