"""Ops alerts: the hub's `core.ops_alerts` port. One queued job per (kind, key), sent by the same
worker as customer notices (Slack, KakaoWork, e-mail, ops webhook, console), never inside the
caller's request."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.kernel.clock import Clock
from deliveryhub.notifications.jobrows import new_job
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.pii import dlp
from deliveryhub.service_layer.ports import OpsAlert

# An ops alert goes to the first configured of these (the team chat first; console always exists).
OPS_CHANNELS = ("slack", "kakaowork", "email", "webhook", "console")
TEAM_CHATS = ("slack", "kakaowork")


class OpsAlertQueue:
    """Queues ops alerts as notification jobs (audience `ops`), once per (kind, key) — and once per team
    chat when a shop has more than one (Slack for the operators, KakaoWork for the warehouse: each team
    reads its own; the rest of OPS_CHANNELS stays each job's fallback)."""

    def __init__(self, db: Database, clock: Clock, team_chats: Sequence[str] = ()) -> None:
        self.db = db
        self.clock = clock
        self.team_chats = [c for c in TEAM_CHATS if c in team_chats]

    def _routes(self, kind: str, key: str) -> list[tuple[str, list[str]]]:
        """(idempotency key, channels) of each job an alert becomes."""
        base = f"ops|{kind}|{key}"
        if len(self.team_chats) < 2:
            return [(base[:300], list(OPS_CHANNELS))]
        rest = [c for c in OPS_CHANNELS if c not in TEAM_CHATS]
        return [(f"{base}|{chat}"[:300], [chat, *rest]) for chat in self.team_chats]

    def notify_ops(self, alert: OpsAlert, *, conn: Connection | None = None) -> None:
        """Queue ONE ops alert per (kind, key); pass `conn` when already inside a write transaction."""
        now = self.clock.now()
        kind, key, subject, body = alert.kind, alert.key, alert.subject, alert.body
        facts = dict(alert.data or {})
        rows = [
            new_job(
                idem_key=idem_key,
                order_id=facts.get("order_id"),
                rule_id=f"ops:{kind}"[:64],
                stage=str(key)[:128],
                template="ops_alert",
                audience="ops",
                channels=channels,
                context={
                    "subject": dlp.mask_text(subject),
                    "body": dlp.mask_text(body),
                    "data": facts,
                    "kind": kind,
                    "key": key,
                },
                trigger_at=now,
                created_at=now,
                scheduled_at=now,
                next_attempt_at=now,
            )
            for idem_key, channels in self._routes(kind, key)
        ]
        if conn is not None:
            insert_or_ignore(conn, jobs_t, rows, ["idem_key"])
            return
        with self.db.write() as c:
            insert_or_ignore(c, jobs_t, rows, ["idem_key"])
