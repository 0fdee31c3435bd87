"""Target alerts: a current-period breach (or warning) raises ONE ops alert per KPI per period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.periods import current_period
from deliveryhub.kpi.tables import kpi_alerts
from deliveryhub.service_layer.ports import OpsAlert
from deliveryhub.service_layer.scheduler import Job

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)
ALERT_STATUSES = ("breach", "warning")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.2f}%"
    return f"{value:,.2f}"


def check_alerts(core: Core, engine: KpiEngine, now: datetime, grain: str = "month") -> list[dict[str, Any]]:
    """Evaluate every KPI with a target over the current period; claim and send one alert per KPI/period.

    Alerts go to the operators through `core.ops_alerts` (the notifications feature)."""
    tz = core.settings.tz
    start, _end, label = current_period(grain, tz, now)
    today = now.astimezone(ZoneInfo(tz)).date()
    keys = [k.key for k in engine.with_overrides(engine.catalog.values()) if k.target is not None]
    if not keys:
        return []
    result = engine.compute(start, today, grain, None, tz, keys)
    raised: list[dict[str, Any]] = []
    for key, k in result["kpis"].items():
        if k["status"] not in ALERT_STATUSES:
            continue
        kdef = engine.catalog[key]
        with core.db.write() as conn:
            before = conn.execute(
                sa.select(kpi_alerts.c.key).where(kpi_alerts.c.key == key, kpi_alerts.c.period == label)
            ).first()
            if before is None:
                insert_or_ignore(
                    conn,
                    kpi_alerts,
                    [
                        {
                            "key": key,
                            "period": label,
                            "status": k["status"],
                            "value": k["value"],
                            "raised_at": now,
                        }
                    ],
                    ["key", "period"],
                )
        if before is not None:
            continue  # this KPI already alerted in this period (by this or another worker)
        word = {"breach": "목표 미달 / target breached", "warning": "경고 / warning"}[k["status"]]
        subject = f"[KPI] {kdef.name_ko} ({kdef.name_en}) {word}: {_fmt(k['value'], kdef.unit)} ({label})"
        body = (
            f"{kdef.name_ko} / {kdef.name_en}\n기간 period: {label} ({start} – {today}, {tz})\n"
            f"현재 value: {_fmt(k['value'], kdef.unit)}\n"
            f"목표 target: {kdef.target.text() if kdef.target else '—'}\n"
            f"경고 warning: {kdef.warning if kdef.warning is not None else '—'}\n"
            f"조치 action: {kdef.action_ko} / {kdef.action_en}"
        )
        alert = {"key": key, "period": label, "status": k["status"], "value": k["value"], "subject": subject}
        try:
            core.ops_alerts.notify_ops(OpsAlert("kpi", f"kpi:{key}:{label}", subject, body, alert))
            with core.db.write() as conn:
                conn.execute(
                    kpi_alerts.update()
                    .where(kpi_alerts.c.key == key, kpi_alerts.c.period == label)
                    .values(notified_at=now)
                )
        except Exception:  # the claim is dropped so that the next run retries the alert
            log.exception("kpi_alert_notify_failed", key=key, period=label)
            with core.db.write() as conn:
                conn.execute(
                    kpi_alerts.delete().where(
                        kpi_alerts.c.key == key,
                        kpi_alerts.c.period == label,
                        kpi_alerts.c.notified_at.is_(None),
                    )
                )
            continue
        raised.append(alert)
    return raised


def open_alerts(core: Core, period: str) -> dict[str, str]:
    """KPI key → alert status raised in `period` (for the dashboard's red tiles)."""
    with core.db.read() as conn:
        return {
            r.key: r.status for r in conn.execute(sa.select(kpi_alerts).where(kpi_alerts.c.period == period))
        }


def alerts_job(core: Core, engine: KpiEngine, interval: float = 300.0) -> Job:
    """The periodic Job "kpi.alerts"."""
    return Job("kpi.alerts", interval, lambda now: check_alerts(core, engine, now))
