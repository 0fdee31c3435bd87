"""The ``connectors.silence`` job: a source that goes quiet during its business hours raises ONE ops alert.

"OMS–WMS–TMS links fail silently": a WMS that sent nothing for 30 minutes between 09:00 and 18:00 Seoul time
on a business day is more likely broken than idle (on 설날 or a weekend it is idle: each rule runs on the
kernel's business calendar). A silence episode starts when the rule is breached and ends when the source
sends again; each episode alerts once (claimed with a conditional UPDATE, so several workers send one
alert), and is listed in ``GET /v1/integrations`` under ``silent_sources`` while it lasts.
Sources are watched once they have sent anything (or from the start with ``required: true``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.connectors.config import SilenceRule
from deliveryhub.connectors.health import last_seen
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert

log = structlog.get_logger(__name__)

JOB_NAME = "connectors.silence"
ALERT_KIND = "integration_silent"


def _opening(rule: SilenceRule, now: datetime) -> datetime | None:
    """Today's opening time (UTC) when ``now`` is inside the rule's business hours, else None."""
    calendar = rule.calendar
    if not calendar.is_open(now):
        return None
    local = now.astimezone(calendar.tz)
    opening = local.replace(hour=calendar.start.hour, minute=calendar.start.minute, second=0, microsecond=0)
    return opening.astimezone(UTC)


def find_silent(conn: Connection, rules: list[SilenceRule], now: datetime) -> list[dict[str, Any]]:
    """Sources breaching their rule right now; silence is counted from max(last event, today's opening)."""
    seen = last_seen(conn)
    out = []
    for rule in rules:
        last = seen.get(rule.source)
        if last is None and not rule.required:
            continue
        opening = _opening(rule, now)
        if opening is None:
            continue
        reference = max(last, opening) if last is not None else opening
        if now - reference >= timedelta(minutes=rule.minutes):
            out.append(
                {
                    "source": rule.source,
                    "silent_since": reference.isoformat(),
                    "last_received_at": iso(last),
                    "minutes_silent": int((now - reference).total_seconds() // 60),
                    "threshold_minutes": rule.minutes,
                    "business_hours": rule.hours,
                }
            )
    return out


def open_episodes(conn: Connection) -> dict[str, Any]:
    """Silence episodes not yet ended, by source."""
    return {r.source: r for r in conn.execute(sa.select(ct.connector_silence))}


def _message(s: dict[str, Any]) -> tuple[str, str]:
    subject = (
        f"[연동 무응답] {s['source']}: {s['minutes_silent']}분째 이벤트 없음 / "
        f"{s['source']} silent for {s['minutes_silent']} min"
    )
    body = (
        f"{s['source']} 시스템에서 {s['silent_since']} 이후 이벤트가 들어오지 않았습니다 "
        f"(업무시간 {s['business_hours']}, 기준 {s['threshold_minutes']}분). "
        "연동 상태를 확인하세요.\n"
        f"No events from {s['source']} since {s['silent_since']} during business hours "
        f"({s['business_hours']}, threshold {s['threshold_minutes']} min). Check the integration."
    )
    return subject, body


class SilenceWatch:
    """Detects silent sources, alerts once per episode, ends episodes when the source speaks again."""

    def __init__(self, core: Core, rules: list[SilenceRule]) -> None:
        self.core = core
        self.rules = rules

    def run(self, now: datetime | None = None) -> list[str]:
        """One pass; returns the sources alerted in this pass."""
        now = now or self.core.clock.now()
        sil = ct.connector_silence
        with self.core.db.write() as conn:
            seen = last_seen(conn)
            for source, row in open_episodes(conn).items():
                if seen.get(source) is not None and seen[source] > row.silent_since:
                    conn.execute(sil.delete().where(sil.c.source == source))  # it spoke again: episode over
            silent = find_silent(conn, self.rules, now)
            rows = [
                {
                    "source": s["source"],
                    "silent_since": datetime.fromisoformat(s["silent_since"]),
                    "detected_at": now,
                }
                for s in silent
            ]
            insert_or_ignore(conn, sil, rows, ["source"])
        return [s["source"] for s in silent if self._alert(s, now)]

    def _alert(self, s: dict[str, Any], now: datetime) -> bool:
        """Claim the episode's one alert and send it; a failed send releases the claim for the next run."""
        sil = ct.connector_silence
        key = f"silence:{s['source']}:{s['silent_since']}"
        with self.core.db.write() as conn:
            claimed = conn.execute(
                sil.update()
                .where(sil.c.source == s["source"], sil.c.alerted_at.is_(None))
                .values(alerted_at=now, alert_key=key)
            ).rowcount
        if claimed != 1:
            return False
        subject, body = _message(s)
        try:
            self.core.ops_alerts.notify_ops(OpsAlert(ALERT_KIND, key, subject, body, s))
        except Exception:  # the alert must not be lost: release the claim so the next run retries
            log.exception("silence_alert_failed", source=s["source"])
            with self.core.db.write() as conn:
                conn.execute(
                    sil.update().where(sil.c.source == s["source"]).values(alerted_at=None, alert_key=None)
                )
            return False
        return True


def silence_status(conn: Connection, rules: list[SilenceRule], now: datetime) -> list[dict[str, Any]]:
    """Silent sources for ``GET /v1/integrations``: live breaches plus episodes not yet over."""
    live = {s["source"]: s for s in find_silent(conn, rules, now)}
    seen = last_seen(conn)
    for source, row in open_episodes(conn).items():
        if seen.get(source) is not None and seen[source] > row.silent_since:
            continue
        entry = live.setdefault(
            source,
            {
                "source": source,
                "silent_since": iso(row.silent_since),
                "last_received_at": iso(seen.get(source)),
            },
        )
        entry["alerted_at"] = iso(row.alerted_at)
    return sorted(live.values(), key=lambda s: s["source"])
